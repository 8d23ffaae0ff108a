import { describe, expect, it } from 'vitest';
import { redactDriverOption, redactHistoryStep } from '../../src/security/output-redaction.ts';

describe('image history redaction', () => {
  it('withholds ENV and ARG values as the classic builder records them', () => {
    expect(redactHistoryStep('/bin/sh -c #(nop)  ENV PASSWORD=hunter2 OTHER=a b')).toEqual({
      text: '/bin/sh -c #(nop)  ENV PASSWORD=[redacted] OTHER=[redacted]',
      redacted: true,
    });
    expect(redactHistoryStep('/bin/sh -c #(nop)  ARG TOKEN=defaultsecret').text).toBe(
      '/bin/sh -c #(nop)  ARG TOKEN=[redacted]',
    );
  });

  it('withholds them as BuildKit records them, and in the older "ENV NAME value" form', () => {
    expect(redactHistoryStep('ENV KEY=s3cr3t').text).toBe('ENV KEY=[redacted]');
    expect(redactHistoryStep('ARG TOKEN=abc').text).toBe('ARG TOKEN=[redacted]');
    expect(redactHistoryStep('/bin/sh -c #(nop)  ENV KEY s3cr3t value').text).toBe(
      '/bin/sh -c #(nop)  ENV KEY [redacted]',
    );
  });

  it('keeps an ARG without a default as it is', () => {
    expect(redactHistoryStep('ARG TOKEN')).toEqual({ text: 'ARG TOKEN', redacted: false });
  });

  it('withholds build arguments recorded with a RUN step, keeping the command', () => {
    expect(redactHistoryStep('|1 TOKEN=abc123 /bin/sh -c echo $TOKEN')).toEqual({
      text: '|1 TOKEN=[redacted] /bin/sh -c echo $TOKEN',
      redacted: true,
    });
    expect(redactHistoryStep('RUN |2 A=one two B=three /bin/sh -c make A=1 # buildkit').text).toBe(
      'RUN |2 A=[redacted] B=[redacted] /bin/sh -c make A=1 # buildkit',
    );
  });

  it('withholds everything after the last build argument of a RUN in exec form', () => {
    expect(redactHistoryStep('|1 TOKEN=abc def make all').text).toBe('|1 TOKEN=[redacted]');
  });

  it('keeps other steps as they are', () => {
    for (const step of [
      '/bin/sh -c #(nop)  CMD ["sh"]',
      '/bin/sh -c echo ENV A=1 > /x',
      '/bin/sh -c #(nop)  LABEL team=payments',
      'COPY . /app # buildkit',
    ]) {
      expect(redactHistoryStep(step)).toEqual({ text: step, redacted: false });
    }
  });
});

describe('driver option redaction', () => {
  it('withholds the value of an option named as a credential', () => {
    expect(redactDriverOption('secretKey', 'abc')).toEqual({ text: '[redacted]', redacted: true });
    expect(redactDriverOption('password', '')).toEqual({ text: '', redacted: false });
  });

  it('withholds credentials inside a mount option list', () => {
    expect(redactDriverOption('o', 'addr=10.0.0.5,username=app,password=hunter2,vers=3.0')).toEqual(
      { text: 'addr=10.0.0.5,username=app,password=[redacted],vers=3.0', redacted: true },
    );
  });

  it('keeps ordinary options', () => {
    expect(redactDriverOption('type', 'tmpfs')).toEqual({ text: 'tmpfs', redacted: false });
    expect(redactDriverOption('o', 'size=64m,uid=1000')).toEqual({
      text: 'size=64m,uid=1000',
      redacted: false,
    });
    expect(redactDriverOption('com.docker.network.bridge.name', 'br0').redacted).toBe(false);
  });
});

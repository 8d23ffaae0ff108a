// How build output, sent in arbitrary pieces, becomes the lines of a build log.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BuildLog, parseStepHeader } from '../../src/docker/build.ts';
import { type ProgressEvent, readProgress } from '../../src/docker/progress.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

async function* once(bytes: Uint8Array) {
  yield bytes;
}

describe('BuildLog', () => {
  it('tells each line as it completes, the last one when the output is finished', () => {
    const heard: string[] = [];
    const log = new BuildLog(undefined, (line) => heard.push(line));
    log.append('Step 1/2 : FROM base\n ---> 599f');
    expect(heard).toEqual(['Step 1/2 : FROM base']);
    log.append('5ccc29c4\nprogress 10%\rprogress 100%');
    log.finish();
    expect(heard).toEqual(['Step 1/2 : FROM base', ' ---> 599f5ccc29c4', 'progress 100%']);
    expect(log.output().lines).toEqual(heard);
  });

  it('reads step headers', () => {
    expect(parseStepHeader('Step 2/5 : run make')).toEqual({
      step: 2,
      count: 5,
      instruction: 'RUN',
    });
    expect(parseStepHeader(' ---> Running in 9d8f49e53356')).toBeNull();
  });

  it('turns a captured build stream into plain lines', async () => {
    const log = new BuildLog();
    await readProgress(once(fixture('build.bin')), 'build', {
      onEvent: (event: ProgressEvent) => {
        if (event.stream !== undefined) log.append(event.stream);
      },
    });
    const { lines, truncated } = log.output();
    expect(truncated).toBe(false);
    expect(lines.slice(0, 8)).toEqual([
      'Step 1/3 : FROM capture/busybox',
      ' ---> 599f5ccc29c4',
      'Step 2/3 : RUN echo hi && echo "café" >&2',
      ' ---> Running in 9d8f49e53356',
      'hi',
      // stderr arrives as ESC[91m café \n ESC[0m: the codes go, the text stays.
      'café',
      'Removing intermediate container 9d8f49e53356',
      ' ---> b1087d0e046c',
    ]);
    expect(lines.at(-1)).toBe('Successfully tagged localhost:5000/capture/app:v1');
  });

  it('joins pieces into lines, keeps the last state of "\\r" rewrites and a last line without "\\n"', () => {
    const log = new BuildLog();
    log.append('Step 1/1 : RUN wget');
    log.append('\n');
    log.append('progress 10%\rprogress 60%\rprogress 100%\r\n');
    log.append('windows line\r\n\ndone');
    log.appendLine('id: Pull complete');
    log.append('tail without newline');
    expect(log.output()).toEqual({
      lines: [
        'Step 1/1 : RUN wget',
        'progress 100%',
        'windows line',
        '',
        'done',
        'id: Pull complete',
        'tail without newline',
      ],
      truncated: false,
    });
  });

  it('drops the oldest lines beyond the line and character caps, and cuts long lines', () => {
    const log = new BuildLog({ maxLines: 3, maxChars: 1_000, maxLineChars: 10 });
    for (let line = 1; line <= 5; line++) log.append(`line ${line}\n`);
    expect(log.output()).toEqual({ lines: ['line 3', 'line 4', 'line 5'], truncated: true });

    const cut = new BuildLog({ maxLines: 10, maxChars: 1_000, maxLineChars: 10 });
    cut.append('0123456789ab');
    cut.append('cdef\nnext\n');
    expect(cut.output()).toEqual({ lines: ['0123456789 [… line cut]', 'next'], truncated: true });

    const chars = new BuildLog({ maxLines: 10, maxChars: 12, maxLineChars: 100 });
    chars.append('aaaaa\nbbbbb\nccccc\n');
    expect(chars.output()).toEqual({ lines: ['bbbbb', 'ccccc'], truncated: true });
  });
});

// The terminal protocol's pure parts: routes (no segment may reach another route), control
// messages, close reasons within a close frame's limit, the bearer subprotocol.
import { describe, expect, it } from 'vitest';
import {
  bearerFromSubprotocols,
  closeReason,
  parseClientControl,
  parseTerminalRoute,
  TERMINAL_CLOSE,
} from '../../src/terminal-protocol.ts';

describe('parseTerminalRoute', () => {
  it('reads attach and exec routes, with sh as the default command', () => {
    expect(parseTerminalRoute('/terminal/local/web/attach')).toEqual({
      engine: 'local',
      container: 'web',
      mode: 'attach',
    });
    expect(parseTerminalRoute('/terminal/local/web/exec')).toEqual({
      engine: 'local',
      container: 'web',
      mode: 'exec',
      cmd: ['sh'],
    });
    expect(
      parseTerminalRoute(
        '/terminal/local/web/exec?cmd=sh&cmd=-c&cmd=top&user=1000:1000&workingDir=/tmp',
      ),
    ).toEqual({
      engine: 'local',
      container: 'web',
      mode: 'exec',
      cmd: ['sh', '-c', 'top'],
      user: '1000:1000',
      workingDir: '/tmp',
    });
  });

  it('decodes a percent-encoded global ID segment', () => {
    expect(
      parseTerminalRoute('/terminal/local/Q29udGFpbmVyOmxvY2FsOmFiYw%3D%3D/attach'),
    ).toMatchObject({
      container: 'Q29udGFpbmVyOmxvY2FsOmFiYw==',
    });
  });

  it.each([
    ['/terminal/local/%2e%2e/attach', 'path segment "%2e%2e" is not a name'],
    ['/terminal/local/a%2Fb/attach', 'path segment "a%2Fb" is not a name'],
    ['/terminal/local/a%5Cb/attach', 'path segment "a%5Cb" is not a name'],
    ['/terminal/local/a%00/attach', 'path segment "a%00" is not a name'],
    ['/terminal/local//attach', 'path segment "" is not a name'],
    ['/terminal/local/%E0%A4%A/attach', 'the path is not valid percent-encoding'],
    ['/terminal/local/web/exec?cmd=', 'cmd: the program must not be empty'],
    [
      '/terminal/local/web/exec?user=a%20b',
      'user "a b" is not "user", "user:group", "uid" or "uid:gid"',
    ],
    ['/terminal/local/web/exec?workingDir=tmp', 'workingDir "tmp" is not an absolute path'],
  ])('refuses %s as a bad request', (url, problem) => {
    expect(parseTerminalRoute(url)).toEqual({ code: TERMINAL_CLOSE.badRequest, problem });
  });

  it.each([
    '/terminal/local/web',
    '/terminal/local/web/shell',
    '/terminal/local/web/attach/more',
    '/graphql',
  ])('answers %s as not found', (url) => {
    expect(parseTerminalRoute(url)).toMatchObject({ code: TERMINAL_CLOSE.notFound });
  });

  it('reads the path as sent: dot segments are refused, never folded', () => {
    expect(parseTerminalRoute('/terminal/../graphql/x/attach')).toEqual({
      code: TERMINAL_CLOSE.badRequest,
      problem: 'path segment ".." is not a name',
    });
    expect(parseTerminalRoute('/terminal/local/./web/attach')).toEqual({
      code: TERMINAL_CLOSE.badRequest,
      problem: 'path segment "." is not a name',
    });
  });
});

describe('parseClientControl', () => {
  it('reads a resize', () => {
    expect(parseClientControl('{"type":"resize","cols":80,"rows":24}')).toEqual({
      type: 'resize',
      cols: 80,
      rows: 24,
    });
  });

  it.each([
    ['ls\r', 'a text frame must be a JSON control message; send input as binary frames'],
    ['[]', 'a control message needs a "type"'],
    ['{"type":"stdin"}', 'unknown control message type "stdin"'],
    [
      '{"type":"resize","cols":0,"rows":24}',
      'resize needs integer "cols" and "rows" from 1 to 65535',
    ],
    [
      '{"type":"resize","cols":80.5,"rows":24}',
      'resize needs integer "cols" and "rows" from 1 to 65535',
    ],
    [
      '{"type":"resize","cols":80,"rows":65536}',
      'resize needs integer "cols" and "rows" from 1 to 65535',
    ],
  ])('refuses %s', (text, problem) => {
    expect(parseClientControl(text)).toEqual({ problem });
  });
});

describe('closeReason', () => {
  it('keeps a reason within 123 UTF-8 bytes, whole characters only', () => {
    expect(closeReason('exit code 3')).toBe('exit code 3');
    const cut = closeReason('é'.repeat(100));
    expect(Buffer.byteLength(cut, 'utf8')).toBe(122);
    expect(cut).toBe('é'.repeat(61));
  });
});

describe('bearerFromSubprotocols', () => {
  it('decodes the base64url token of the bearer subprotocol', () => {
    const token = 'tök+/=en';
    expect(
      bearerFromSubprotocols([
        'dockergraph.terminal.v1',
        `dockergraph.bearer.${Buffer.from(token).toString('base64url')}`,
      ]),
    ).toBe(token);
    expect(bearerFromSubprotocols(['dockergraph.terminal.v1'])).toBeUndefined();
    expect(bearerFromSubprotocols(['dockergraph.bearer.a.b'])).toBe('');
  });
});

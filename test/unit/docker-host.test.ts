import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DockerSettings } from '../../src/config.ts';
import {
  contextDirName,
  contextDockerSettings,
  defaultContextSettings,
  describeEndpoint,
  listDockerContexts,
  parseDockerHost,
  readDockerContext,
  resolveDockerEndpoint,
} from '../../src/docker/docker-host.ts';

describe('parseDockerHost', () => {
  it.each([
    ['unix:///var/run/docker.sock', { kind: 'unix', socketPath: '/var/run/docker.sock' }],
    [
      'unix:///tmp/my engine/docker.sock',
      { kind: 'unix', socketPath: '/tmp/my engine/docker.sock' },
    ],
    ['/run/user/1000/docker.sock', { kind: 'unix', socketPath: '/run/user/1000/docker.sock' }],
    [
      'tcp://10.0.0.5:2375',
      { kind: 'tcp', host: '10.0.0.5', port: 2375, basePath: '', tls: false },
    ],
    [
      'tcp://docker.local',
      { kind: 'tcp', host: 'docker.local', port: 2375, basePath: '', tls: false },
    ],
    ['tcp://:2375', { kind: 'tcp', host: 'localhost', port: 2375, basePath: '', tls: false }],
    ['TCP://Host-1:1', { kind: 'tcp', host: 'Host-1', port: 1, basePath: '', tls: false }],
    ['tcp://[::1]:2375', { kind: 'tcp', host: '::1', port: 2375, basePath: '', tls: false }],
    [
      'tcp://[fe80::1%eth0]',
      { kind: 'tcp', host: 'fe80::1%eth0', port: 2375, basePath: '', tls: false },
    ],
    [
      'tcp://host:2375/prefix/',
      { kind: 'tcp', host: 'host', port: 2375, basePath: '/prefix', tls: false },
    ],
    ['tcp://host/a/b', { kind: 'tcp', host: 'host', port: 2375, basePath: '/a/b', tls: false }],
    ['http://proxy', { kind: 'tcp', host: 'proxy', port: 80, basePath: '', tls: false }],
    ['http://proxy:80', { kind: 'tcp', host: 'proxy', port: 80, basePath: '', tls: false }],
    [
      'https://docker.example.com/engine',
      { kind: 'tcp', host: 'docker.example.com', port: 443, basePath: '/engine', tls: true },
    ],
    [
      'https://[2001:db8::2]:2376',
      { kind: 'tcp', host: '2001:db8::2', port: 2376, basePath: '', tls: true },
    ],
    ['  tcp://host:1234  ', { kind: 'tcp', host: 'host', port: 1234, basePath: '', tls: false }],
  ])('parses %s', (value, expected) => {
    expect(parseDockerHost(value)).toEqual(expected);
  });

  it('defaults tcp:// to 2376 when TLS will be used', () => {
    expect(parseDockerHost('tcp://host', { tls: true })).toMatchObject({ port: 2376 });
    expect(parseDockerHost('tcp://host:2375', { tls: true })).toMatchObject({ port: 2375 });
  });

  it.each([
    [
      'npipe:////./pipe/docker_engine',
      /npipe:\/\/ scheme \(Windows named pipes\) is not supported/,
    ],
    ['ssh://me@host', /ssh:\/\/ scheme \(SSH tunnels\) is not supported/],
    ['fd://', /fd:\/\/ scheme .* is not supported/],
  ])('rejects %s naming the scheme and the supported forms', (value, pattern) => {
    expect(() => parseDockerHost(value)).toThrow(pattern);
    expect(() => parseDockerHost(value)).toThrow(/supported forms: unix:\/\/\/path/);
  });

  it.each([
    ['', /the value is empty/],
    ['localhost:2375', /"localhost:2375": there is no scheme/],
    ['garbage', /"garbage": there is no scheme/],
    ['ftp://host', /unknown scheme "ftp:\/\/"/],
    ['unix://', /socket path is empty/],
    ['tcp://host:port', /port "port" is not a number/],
    ['tcp://host:70000', /port 70000 is out of range/],
    ['tcp://host:0', /port 0 is out of range/],
    ['tcp://::1:2375', /IPv6 address must be written in brackets/],
    ['tcp://[::1', /no closing "\]"/],
    ['tcp://[nothex]:1', /is not an IPv6 address/],
    ['tcp://user:pw@host', /credentials/],
    ['tcp://host:2375?x=1', /query strings/],
    ['tcp://bad_host!:1', /not a valid host name/],
    ['https://', /the host is empty/],
  ])('rejects %j with a clear message', (value, pattern) => {
    expect(() => parseDockerHost(value)).toThrow(pattern);
  });
});

describe('contextDirName', () => {
  it('is the hex SHA-256 of the context name', () => {
    expect(contextDirName('foo')).toBe(
      '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
    );
  });
});

describe('resolveDockerEndpoint', () => {
  let configDir: string;

  beforeEach(() => {
    configDir = mkdtempSync(join(tmpdir(), 'dockergraph-docker-host-'));
  });
  afterEach(() => {
    rmSync(configDir, { recursive: true, force: true });
  });

  const settings = (extra: Partial<DockerSettings> = {}): DockerSettings => ({
    tlsVerify: false,
    configDir,
    ...extra,
  });

  function writeConfig(config: unknown): void {
    writeFileSync(join(configDir, 'config.json'), JSON.stringify(config));
  }

  /** Writes a context the way `docker context create` lays it out on disk. */
  function writeContext(
    name: string,
    docker: Record<string, unknown>,
    tlsFiles: Record<string, string> = {},
  ): void {
    const dir = contextDirName(name);
    const metaDir = join(configDir, 'contexts', 'meta', dir);
    mkdirSync(metaDir, { recursive: true });
    writeFileSync(
      join(metaDir, 'meta.json'),
      JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker } }),
    );
    const tlsDir = join(configDir, 'contexts', 'tls', dir, 'docker');
    for (const [file, content] of Object.entries(tlsFiles)) {
      mkdirSync(tlsDir, { recursive: true });
      writeFileSync(join(tlsDir, file), content);
    }
  }

  function writeCerts(dir: string, files = ['ca.pem', 'cert.pem', 'key.pem']): void {
    mkdirSync(dir, { recursive: true });
    for (const file of files) writeFileSync(join(dir, file), `${file} contents`);
  }

  it('uses the default socket when nothing is configured', () => {
    expect(resolveDockerEndpoint(settings())).toEqual({
      kind: 'unix',
      socketPath: '/var/run/docker.sock',
      source: 'default',
    });
  });

  it('treats the "default" context and an empty currentContext as the default', () => {
    writeConfig({ currentContext: '' });
    expect(resolveDockerEndpoint(settings()).source).toBe('default');
    expect(resolveDockerEndpoint(settings({ dockerContext: 'default' })).source).toBe('default');
  });

  it('lets DOCKER_HOST win over any context, even an unknown one', () => {
    writeConfig({ currentContext: 'missing' });
    expect(
      resolveDockerEndpoint(settings({ dockerHost: 'tcp://1.2.3.4', dockerContext: 'nope' })),
    ).toEqual({
      kind: 'tcp',
      host: '1.2.3.4',
      port: 2375,
      basePath: '',
      tls: null,
      source: 'DOCKER_HOST',
    });
  });

  it('ignores empty DOCKER_HOST and DOCKER_CONTEXT', () => {
    writeContext('remote', { Host: 'tcp://remote:2375', SkipTLSVerify: false });
    writeConfig({ currentContext: 'remote' });
    const resolved = resolveDockerEndpoint(settings({ dockerHost: '', dockerContext: ' ' }));
    expect(resolved.source).toBe('context:remote');
  });

  it('reads the current context from config.json', () => {
    writeContext('remote', { Host: 'tcp://remote.example:2375/api', SkipTLSVerify: false });
    writeConfig({ auths: {}, currentContext: 'remote' });
    expect(resolveDockerEndpoint(settings())).toEqual({
      kind: 'tcp',
      host: 'remote.example',
      port: 2375,
      basePath: '/api',
      tls: null,
      source: 'context:remote',
    });
  });

  it('prefers DOCKER_CONTEXT over currentContext', () => {
    writeContext('a', { Host: 'unix:///run/a.sock' });
    writeContext('b', { Host: 'unix:///run/b.sock' });
    writeConfig({ currentContext: 'a' });
    expect(resolveDockerEndpoint(settings({ dockerContext: 'b' }))).toEqual({
      kind: 'unix',
      socketPath: '/run/b.sock',
      source: 'context:b',
    });
  });

  it('loads a context TLS material and honours SkipTLSVerify', () => {
    writeContext(
      'secure',
      { Host: 'tcp://secure.example', SkipTLSVerify: false },
      { 'ca.pem': 'CA', 'cert.pem': 'CERT', 'key.pem': 'KEY' },
    );
    const secure = resolveDockerEndpoint(settings({ dockerContext: 'secure' }));
    expect(secure).toEqual({
      kind: 'tcp',
      host: 'secure.example',
      port: 2376,
      basePath: '',
      tls: {
        ca: Buffer.from('CA'),
        cert: Buffer.from('CERT'),
        key: Buffer.from('KEY'),
        rejectUnauthorized: true,
      },
      source: 'context:secure',
    });

    writeContext('insecure', { Host: 'tcp://insecure.example:2376', SkipTLSVerify: true });
    expect(resolveDockerEndpoint(settings({ dockerContext: 'insecure' }))).toMatchObject({
      tls: { rejectUnauthorized: false },
    });
    const insecure = resolveDockerEndpoint(settings({ dockerContext: 'insecure' }));
    expect(insecure.kind === 'tcp' ? insecure.tls : undefined).toEqual({
      rejectUnauthorized: false,
    });
  });

  it('does not apply DOCKER_TLS_VERIFY to a context', () => {
    writeContext('plain', { Host: 'tcp://plain:2375' });
    expect(
      resolveDockerEndpoint(settings({ dockerContext: 'plain', tlsVerify: true })),
    ).toMatchObject({ tls: null });
  });

  it('names the context and the file when the context does not exist', () => {
    writeConfig({ currentContext: 'ghost' });
    const metaPath = join(configDir, 'contexts', 'meta', contextDirName('ghost'), 'meta.json');
    expect(() => resolveDockerEndpoint(settings())).toThrow(
      `Docker context "ghost" (from currentContext in ${join(configDir, 'config.json')}) not found: ${metaPath} does not exist`,
    );
    expect(() => resolveDockerEndpoint(settings({ dockerContext: 'ghost' }))).toThrow(
      /Docker context "ghost" \(from DOCKER_CONTEXT\) not found/,
    );
  });

  it('explains broken context metadata and unsupported context hosts', () => {
    writeContext('nohost', {});
    expect(() => resolveDockerEndpoint(settings({ dockerContext: 'nohost' }))).toThrow(
      /Docker context "nohost" in .*meta\.json has no Endpoints\.docker\.Host/,
    );
    writeContext('viassh', { Host: 'ssh://me@box' });
    expect(() => resolveDockerEndpoint(settings({ dockerContext: 'viassh' }))).toThrow(
      /Docker context "viassh" \(.*meta\.json\): Invalid Docker host "ssh:\/\/me@box": the ssh:\/\/ scheme/,
    );
    writeContext('halfcert', { Host: 'tcp://h' }, { 'cert.pem': 'CERT' });
    expect(() => resolveDockerEndpoint(settings({ dockerContext: 'halfcert' }))).toThrow(
      /key\.pem does not exist/,
    );
  });

  it('lists the stored contexts by name with their TLS files, skipping folders without meta.json', () => {
    expect(listDockerContexts(configDir)).toEqual([]);
    writeContext('zeta', { Host: 'unix:///run/zeta.sock' });
    writeContext(
      'Alpha',
      { Host: 'tcp://alpha.example', SkipTLSVerify: true },
      { 'ca.pem': 'CA', 'cert.pem': 'CERT', 'key.pem': 'KEY' },
    );
    mkdirSync(join(configDir, 'contexts', 'meta', 'stray'), { recursive: true });
    const metaPath = (name: string) =>
      join(configDir, 'contexts', 'meta', contextDirName(name), 'meta.json');
    expect(listDockerContexts(configDir)).toEqual([
      {
        name: 'Alpha',
        host: 'tcp://alpha.example',
        skipTlsVerify: true,
        tlsFiles: { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') },
        metaPath: metaPath('Alpha'),
      },
      {
        name: 'zeta',
        host: 'unix:///run/zeta.sock',
        skipTlsVerify: false,
        tlsFiles: {},
        metaPath: metaPath('zeta'),
      },
    ]);
    expect(readDockerContext('zeta', configDir)).toEqual(listDockerContexts(configDir)[1]);
  });

  it('names the meta.json of a listed context that cannot be used', () => {
    writeContext('halfcert', { Host: 'tcp://h' }, { 'key.pem': 'KEY' });
    const tlsDir = join(configDir, 'contexts', 'tls', contextDirName('halfcert'), 'docker');
    expect(() => listDockerContexts(configDir)).toThrow(
      `Docker context "halfcert": TLS file ${join(tlsDir, 'cert.pem')} does not exist (cert.pem and key.pem go together)`,
    );
    rmSync(join(configDir, 'contexts'), { recursive: true });
    const folder = join(configDir, 'contexts', 'meta', 'nameless');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'meta.json'), JSON.stringify({ Endpoints: {} }));
    expect(() => listDockerContexts(configDir)).toThrow(
      `Docker context metadata ${join(folder, 'meta.json')} has no "Name"`,
    );
  });

  it("gives settings that reach a context's engine exactly as the context does", () => {
    writeContext(
      'mutual',
      { Host: 'tcp://mutual.example' },
      { 'ca.pem': 'CA', 'cert.pem': 'CERT', 'key.pem': 'KEY' },
    );
    writeContext('skip', { Host: 'tcp://skip.example:9999', SkipTLSVerify: true });
    writeContext('public', { Host: 'https://public.example/api' });
    writeContext('plain', { Host: 'tcp://plain.example' });
    writeContext('socket', { Host: 'unix:///run/socket.sock' }, { 'ca.pem': 'CA' });
    for (const context of listDockerContexts(configDir)) {
      const { source: _viaContext, ...expected } = resolveDockerEndpoint(
        settings({ dockerContext: context.name }),
      );
      const { source: _viaHost, ...actual } = resolveDockerEndpoint(
        contextDockerSettings(context, configDir),
      );
      expect({ context: context.name, endpoint: actual }).toEqual({
        context: context.name,
        endpoint: expected,
      });
    }
    writeContext('viassh', { Host: 'ssh://me@box' });
    expect(() => contextDockerSettings(readDockerContext('viassh', configDir), configDir)).toThrow(
      /Docker context "viassh" \(.*meta\.json\): Invalid Docker host "ssh:\/\/me@box": the ssh:\/\/ scheme/,
    );
  });

  it('makes the unstored "default" context DOCKER_HOST or the default socket, never the current one', () => {
    writeConfig({ currentContext: 'elsewhere' });
    expect(
      resolveDockerEndpoint(defaultContextSettings(settings({ dockerContext: 'elsewhere' }))),
    ).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock', source: 'DOCKER_HOST' });
    expect(
      resolveDockerEndpoint(defaultContextSettings(settings({ dockerHost: 'tcp://10.1.1.1' }))),
    ).toMatchObject({ kind: 'tcp', host: '10.1.1.1', port: 2375 });
  });

  it('names config.json when it is not valid JSON', () => {
    writeFileSync(join(configDir, 'config.json'), '{"currentContext": ');
    expect(() => resolveDockerEndpoint(settings())).toThrow(
      `Cannot parse Docker CLI configuration ${join(configDir, 'config.json')}`,
    );
    writeConfig({ currentContext: 42 });
    expect(() => resolveDockerEndpoint(settings())).toThrow(/"currentContext" is not a string/);
  });

  it('loads DOCKER_CERT_PATH material for DOCKER_TLS_VERIFY', () => {
    const certPath = join(configDir, 'machine-certs');
    writeCerts(certPath);
    expect(
      resolveDockerEndpoint(
        settings({ dockerHost: 'tcp://192.168.99.100', tlsVerify: true, certPath }),
      ),
    ).toEqual({
      kind: 'tcp',
      host: '192.168.99.100',
      port: 2376,
      basePath: '',
      tls: {
        ca: Buffer.from('ca.pem contents'),
        cert: Buffer.from('cert.pem contents'),
        key: Buffer.from('key.pem contents'),
        rejectUnauthorized: true,
      },
      source: 'DOCKER_HOST',
    });
  });

  it('defaults the cert path to the config folder and names a missing file', () => {
    writeCerts(configDir, ['ca.pem', 'cert.pem']);
    expect(() =>
      resolveDockerEndpoint(settings({ dockerHost: 'tcp://h:2376', tlsVerify: true })),
    ).toThrow(`TLS file ${join(configDir, 'key.pem')} does not exist (DOCKER_TLS_VERIFY is set`);
    writeCerts(configDir);
    const resolved = resolveDockerEndpoint(
      settings({ dockerHost: 'tcp://h:2376', tlsVerify: true }),
    );
    expect(resolved.kind === 'tcp' ? resolved.tls?.key : undefined).toEqual(
      Buffer.from('key.pem contents'),
    );
  });

  it('uses TLS with system CAs for https:// without DOCKER_TLS_VERIFY', () => {
    expect(resolveDockerEndpoint(settings({ dockerHost: 'https://docker.example.com' }))).toEqual({
      kind: 'tcp',
      host: 'docker.example.com',
      port: 443,
      basePath: '',
      tls: { rejectUnauthorized: true },
      source: 'DOCKER_HOST',
    });
  });

  it('keeps tcp:// plain when only DOCKER_CERT_PATH is set, and ignores TLS for unix', () => {
    const certPath = join(configDir, 'certs');
    writeCerts(certPath);
    expect(resolveDockerEndpoint(settings({ dockerHost: 'tcp://h', certPath }))).toMatchObject({
      port: 2375,
      tls: null,
    });
    expect(
      resolveDockerEndpoint(settings({ dockerHost: 'unix:///run/d.sock', tlsVerify: true })),
    ).toEqual({ kind: 'unix', socketPath: '/run/d.sock', source: 'DOCKER_HOST' });
  });

  it('reads files only through the injected reader', () => {
    const read: string[] = [];
    const resolved = resolveDockerEndpoint(
      { dockerContext: 'virtual', tlsVerify: false, configDir: '/nonexistent' },
      (path) => {
        read.push(path);
        return path.endsWith('meta.json')
          ? Buffer.from(JSON.stringify({ Endpoints: { docker: { Host: 'tcp://v:1' } } }))
          : null;
      },
    );
    expect(resolved).toMatchObject({ host: 'v', port: 1, tls: null, source: 'context:virtual' });
    expect(read.every((path) => path.startsWith('/nonexistent/contexts/'))).toBe(true);
  });
});

describe('describeEndpoint', () => {
  it('describes endpoints without key material', () => {
    expect(
      describeEndpoint({ kind: 'unix', socketPath: '/var/run/docker.sock', source: 'default' }),
    ).toBe('unix:///var/run/docker.sock from default');
    const secret = 'BEGIN PRIVATE KEY SECRET';
    const text = describeEndpoint({
      kind: 'tcp',
      host: '::1',
      port: 2376,
      basePath: '/p',
      tls: {
        ca: Buffer.from('CA'),
        cert: Buffer.from('CERT'),
        key: Buffer.from(secret),
        rejectUnauthorized: true,
      },
      source: 'context:prod',
    });
    expect(text).toBe(
      'tcp://[::1]:2376/p (TLS: verified, custom CA, client certificate) from context:prod',
    );
    expect(text).not.toContain(secret);
    expect(describeEndpoint({ kind: 'tcp', host: 'h', port: 2375, basePath: '', tls: null })).toBe(
      'tcp://h:2375 (plain TCP, no TLS)',
    );
    expect(
      describeEndpoint({
        kind: 'tcp',
        host: 'h',
        port: 2376,
        basePath: '',
        tls: { rejectUnauthorized: false },
      }),
    ).toBe('tcp://h:2376 (TLS: NOT verified, system CAs)');
  });
});

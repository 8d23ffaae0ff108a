import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { contextDirName, resolveDockerEndpoint } from '../../src/docker/docker-host.ts';
import {
  diffEngineDefinitions,
  readEngineDefinitions,
} from '../../src/docker/engine-definitions.ts';
import type { EngineDefinition } from '../../src/engines-file.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n';

describe('the engines file (DOCKERGRAPH_ENGINES_FILE)', () => {
  let dir: string;
  let configDir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dockergraph-engines-file-'));
    configDir = join(dir, 'docker-config');
    mkdirSync(configDir);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the file and reads the engines as the server does, with the given environment. */
  function read(
    fileName: string,
    text: string,
    env: Record<string, string> = {},
  ): EngineDefinition[] {
    const path = join(dir, fileName);
    writeFileSync(path, text);
    return readEngineDefinitions(
      loadConfig({ DOCKERGRAPH_ENGINES_FILE: path, DOCKER_CONFIG: configDir, ...env }),
    );
  }

  /** The ConfigError message reading the file gives. */
  function errorOf(fileName: string, text: string): string {
    try {
      read(fileName, text);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('the file was accepted');
  }

  const yaml = (lines: string[]) => `${lines.join('\n')}\n`;
  const MINIMAL_JSON =
    '{"engines": [{"name": "a", "host": "unix:///run/a.sock"}, {"name": "b", "host": "tcp://10.0.0.2:2376"}]}';

  it('reads the minimal JSON file, with the global timeouts, and each engine resolves', () => {
    const engines = read('engines.json', MINIMAL_JSON, {
      DOCKERGRAPH_CONNECT_TIMEOUT_MS: '1500',
      DOCKERGRAPH_REQUEST_TIMEOUT_MS: '9000',
    });
    expect(engines).toEqual([
      {
        name: 'a',
        labels: {},
        docker: { dockerHost: 'unix:///run/a.sock', tlsVerify: false, configDir },
        connectTimeoutMs: 1500,
        requestTimeoutMs: 9000,
      },
      {
        name: 'b',
        labels: {},
        docker: { dockerHost: 'tcp://10.0.0.2:2376', tlsVerify: false, configDir },
        connectTimeoutMs: 1500,
        requestTimeoutMs: 9000,
      },
    ]);
    expect(engines.map((engine) => resolveDockerEndpoint(engine.docker))).toEqual([
      { kind: 'unix', socketPath: '/run/a.sock', source: 'DOCKER_HOST' },
      {
        kind: 'tcp',
        host: '10.0.0.2',
        port: 2376,
        basePath: '',
        tls: null,
        source: 'DOCKER_HOST',
      },
    ]);
  });

  it('reads the same keys in YAML, under .yaml, .yml or another name', () => {
    const expected = read('engines.json', MINIMAL_JSON);
    const text = yaml([
      'engines:',
      '  - name: a',
      '    host: unix:///run/a.sock',
      '  - name: b',
      '    host: tcp://10.0.0.2:2376',
    ]);
    expect(read('engines.yaml', text)).toEqual(expected);
    expect(read('engines.yml', text)).toEqual(expected);
    expect(read('engines', text)).toEqual(expected);
    expect(read('engines.conf', MINIMAL_JSON)).toEqual(expected);
  });

  it('reads labels, timeouts, TLS files relative to the file, PEM text and skipVerify', () => {
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs', 'ca.pem'), CA);
    writeFileSync(join(dir, 'certs', 'cert.pem'), CERT);
    writeFileSync(join(dir, 'certs', 'key.pem'), KEY);
    const engines = read(
      'engines.yaml',
      yaml([
        'engines:',
        '  - name: prod-1',
        '    host: tcp://prod-1.example',
        '    tls:',
        '      caFile: certs/ca.pem',
        `      certFile: ${join(dir, 'certs', 'cert.pem')}`,
        '      keyFile: ./certs/key.pem',
        '    connectTimeoutMs: 2000',
        '    requestTimeoutMs: 60000',
        '    labels:',
        '      env: prod',
        '      example.com/team: "7"',
        '  - name: pem',
        '    host: https://pem.example:8443/docker',
        '    tls:',
        '      ca: |',
        ...CA.trimEnd()
          .split('\n')
          .map((line) => `        ${line}`),
        '      skipVerify: true',
        '  - name: folder',
        '    host: tcp://folder.example:2376',
        '    tls: { certPath: certs }',
        '  - name: system-cas',
        '    host: tcp://public.example',
        '    tls: {}',
      ]),
    );
    expect(engines[0]).toEqual({
      name: 'prod-1',
      labels: { env: 'prod', 'example.com/team': '7' },
      docker: {
        dockerHost: 'tcp://prod-1.example',
        tlsVerify: false,
        configDir,
        tlsPem: { ca: CA, cert: CERT, key: KEY },
      },
      connectTimeoutMs: 2000,
      requestTimeoutMs: 60000,
    });
    const endpoints = engines.map((engine) => resolveDockerEndpoint(engine.docker));
    expect(endpoints[0]).toMatchObject({
      host: 'prod-1.example',
      port: 2376,
      tls: {
        ca: Buffer.from(CA),
        cert: Buffer.from(CERT),
        key: Buffer.from(KEY),
        rejectUnauthorized: true,
      },
    });
    expect(endpoints[1]).toEqual({
      kind: 'tcp',
      host: 'pem.example',
      port: 8443,
      basePath: '/docker',
      tls: { ca: Buffer.from(CA), rejectUnauthorized: false },
      source: 'DOCKER_HOST',
    });
    expect(engines[2]?.docker.tlsPem).toEqual({ ca: CA, cert: CERT, key: KEY });
    expect(endpoints[3]).toMatchObject({ port: 2376, tls: { rejectUnauthorized: true } });
    expect(endpoints[3]?.kind === 'tcp' ? endpoints[3].tls?.ca : 'unix').toBeUndefined();
  });

  it('takes PEM text for every item in JSON, for platforms without files', () => {
    const [engine] = read(
      'engines.json',
      JSON.stringify({
        engines: [
          { name: 'fn', host: 'tcp://engine.example', tls: { ca: CA, cert: CERT, key: KEY } },
        ],
      }),
    );
    expect(engine?.docker.tlsPem).toEqual({ ca: CA, cert: CERT, key: KEY });
    expect(resolveDockerEndpoint(engine?.docker ?? { tlsVerify: false, configDir })).toEqual({
      kind: 'tcp',
      host: 'engine.example',
      port: 2376,
      basePath: '',
      tls: {
        ca: Buffer.from(CA),
        cert: Buffer.from(CERT),
        key: Buffer.from(KEY),
        rejectUnauthorized: true,
      },
      source: 'DOCKER_HOST',
    });
  });

  it('resolves a context entry from the docker CLI store, and "default" from DOCKER_HOST', () => {
    const metaDir = join(configDir, 'contexts', 'meta', contextDirName('remote'));
    mkdirSync(metaDir, { recursive: true });
    writeFileSync(
      join(metaDir, 'meta.json'),
      JSON.stringify({ Name: 'remote', Endpoints: { docker: { Host: 'tcp://remote:2376' } } }),
    );
    const tlsDir = join(configDir, 'contexts', 'tls', contextDirName('remote'), 'docker');
    mkdirSync(tlsDir, { recursive: true });
    writeFileSync(join(tlsDir, 'ca.pem'), CA);
    const engines = read(
      'engines.json',
      JSON.stringify({
        engines: [
          { name: 'r', context: 'remote' },
          { name: 'd', context: 'default' },
        ],
      }),
      { DOCKER_HOST: 'tcp://127.0.0.1:2375' },
    );
    expect(engines.map((engine) => resolveDockerEndpoint(engine.docker))).toEqual([
      {
        kind: 'tcp',
        host: 'remote',
        port: 2376,
        basePath: '',
        tls: { ca: Buffer.from(CA), rejectUnauthorized: true },
        source: 'DOCKER_HOST',
      },
      {
        kind: 'tcp',
        host: '127.0.0.1',
        port: 2375,
        basePath: '',
        tls: null,
        source: 'DOCKER_HOST',
      },
    ]);
  });

  it('re-reads the file on each call and notices changed TLS files', () => {
    writeFileSync(join(dir, 'ca.pem'), CA);
    const text = (names: string[]) =>
      JSON.stringify({
        engines: names.map((name) => ({
          name,
          host: `tcp://${name}.example`,
          tls: { caFile: 'ca.pem' },
        })),
      });
    const first = read('engines.json', text(['a', 'b']));
    writeFileSync(join(dir, 'ca.pem'), CA.replace('MIIBca', 'MIIBrenewed'));
    const second = read('engines.json', text(['b', 'c']));
    expect(diffEngineDefinitions(first, second)).toEqual({
      added: [second[1]],
      removed: ['a'],
      changed: [second[0]],
      unchanged: [],
    });
  });

  describe('errors name the file, the entry and the field', () => {
    const path = (name: string) => join(dir, name);
    const one = (entry: Record<string, unknown>) => JSON.stringify({ engines: [entry] });

    it('refuses hosts in forms Docker does not have', () => {
      expect(
        errorOf(
          'x.yaml',
          yaml(['engines:', '  - {name: a, host: unix:///a.sock}', '  - {name: b, host: ftp://x}']),
        ),
      ).toBe(
        `engines file ${path('x.yaml')}: engines[1] ("b"): host: Invalid Docker host "ftp://x": unknown scheme "ftp://"; supported forms: unix:///path/to/docker.sock, /path/to/docker.sock, tcp://host[:port][/base-path], http://host[:port][/base-path], https://host[:port][/base-path]`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: 42 }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): host: must be a string such as unix:///var/run/docker.sock or tcp://10.0.0.2:2376, got 42`,
      );
    });

    it('refuses two engines of one name', () => {
      expect(
        errorOf(
          'x.json',
          JSON.stringify({
            engines: [
              { name: 'a', host: '/a.sock' },
              { name: 'b', host: '/b.sock' },
              { name: 'a', host: '/c.sock' },
            ],
          }),
        ),
      ).toBe(
        `engines file ${path('x.json')}: engines[2] ("a"): name: "a" is already the name of engines[0]; names are unique`,
      );
    });

    it('refuses names outside the engine name rule, and entries without one', () => {
      expect(errorOf('x.json', one({ name: 'Prod Engine', host: '/a.sock' }))).toBe(
        `engines file ${path('x.json')}: engines[0]: name: must be 1 to 63 lowercase letters, digits, "-" or "_", starting with a letter or digit, got "Prod Engine"`,
      );
      expect(errorOf('x.json', one({ host: '/a.sock' }))).toBe(
        `engines file ${path('x.json')}: engines[0]: name: is required`,
      );
      expect(errorOf('x.json', '{"engines": ["a"]}')).toBe(
        `engines file ${path('x.json')}: engines[0]: must be an object with a "name" and a "host" or "context"`,
      );
    });

    it('reads readModel per engine, true or false only', () => {
      const engines = read(
        'x.json',
        JSON.stringify({
          engines: [
            { name: 'a', host: '/a.sock', readModel: true },
            { name: 'b', host: '/b.sock', readModel: false },
            { name: 'c', host: '/c.sock' },
          ],
        }),
      );
      expect(engines.map((engine) => engine.readModel)).toEqual([true, false, undefined]);
      expect(errorOf('x.json', one({ name: 'a', host: '/a.sock', readModel: 'on' }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): readModel: must be true or false, got "on"`,
      );
    });

    it('names unknown keys, so that typos are caught', () => {
      expect(errorOf('x.json', one({ name: 'a', hots: '/a.sock', lables: {} }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): unknown keys "hots", "lables" (known keys: name, host, context, tls, connectTimeoutMs, requestTimeoutMs, labels, readModel)`,
      );
      expect(errorOf('x.json', one({ nmae: 'a', host: '/a.sock' }))).toBe(
        `engines file ${path('x.json')}: engines[0]: unknown key "nmae" (known keys: name, host, context, tls, connectTimeoutMs, requestTimeoutMs, labels, readModel)`,
      );
      expect(errorOf('x.yaml', yaml(['engine:', '  - {name: a, host: /a.sock}']))).toBe(
        `engines file ${path('x.yaml')}: unknown key "engine" (known keys: engines)`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { verify: false } }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls: unknown key "verify" (known keys: ca, cert, key, caFile, certFile, keyFile, certPath, skipVerify)`,
      );
    });

    it('wants exactly one of host and context', () => {
      expect(errorOf('x.json', one({ name: 'a', host: '/a.sock', context: 'prod' }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): host and context are both set: give one (a context names its own host)`,
      );
      expect(errorOf('x.json', one({ name: 'a' }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): host or context is required: a Docker host such as unix:///var/run/docker.sock or tcp://10.0.0.2:2376, or the name of a docker context`,
      );
    });

    it('names a context that does not exist, and TLS given beside a context', () => {
      const metaPath = join(configDir, 'contexts', 'meta', contextDirName('ghost'), 'meta.json');
      expect(errorOf('x.json', one({ name: 'a', context: 'ghost' }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): context: Docker context "ghost" not found: ${metaPath} does not exist`,
      );
      expect(
        errorOf('x.json', one({ name: 'a', context: 'ghost', tls: { caFile: 'missing.pem' } })),
      ).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls: a context brings its own TLS settings (docker context update); remove tls, or give a host instead of the context`,
      );
    });

    it('names TLS files that do not exist or do not hold PEM text', () => {
      expect(
        errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { caFile: 'missing/ca.pem' } })),
      ).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls.caFile: ${path('missing/ca.pem')} does not exist`,
      );
      writeFileSync(path('ca.txt'), 'not a certificate');
      expect(
        errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { caFile: 'ca.txt' } })),
      ).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls.caFile: ${path('ca.txt')} does not hold PEM text (a "-----BEGIN ...CERTIFICATE-----" block)`,
      );
      mkdirSync(path('half'));
      writeFileSync(path('half/ca.pem'), CA);
      expect(
        errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { certPath: 'half' } })),
      ).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls.certPath: ${path('half/cert.pem')} does not exist`,
      );
    });

    it('takes PEM text or a file for each item, not both, and a certificate with its key', () => {
      writeFileSync(path('ca.pem'), CA);
      expect(
        errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { ca: CA, caFile: 'ca.pem' } })),
      ).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls: give ca (PEM text) or caFile (a file), not both`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { cert: CERT } }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls: a client certificate (cert or certFile) and its key (key or keyFile) go together: give both or neither`,
      );
      expect(
        errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { certPath: '.', ca: CA } })),
      ).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls.certPath: is the folder holding ca.pem, cert.pem and key.pem: do not combine it with ca`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { key: 'key.pem' } }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls.key: must hold PEM text (a "-----BEGIN ...PRIVATE KEY-----" block); for a file, use keyFile`,
      );
      expect(
        errorOf('x.json', one({ name: 'a', host: 'tcp://h', tls: { skipVerify: 'yes' } })),
      ).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls.skipVerify: must be true or false, got "yes"`,
      );
    });

    it('refuses TLS for a unix socket', () => {
      expect(errorOf('x.json', one({ name: 'a', host: 'unix:///a.sock', tls: {} }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): tls: applies to TCP engines, but host "unix:///a.sock" is a unix socket`,
      );
    });

    it('wants string labels with usable names, and timeouts in range', () => {
      expect(
        errorOf('x.yaml', yaml(['engines:', '  - {name: a, host: /a.sock, labels: {tier: 1}}'])),
      ).toBe(
        `engines file ${path('x.yaml')}: engines[0] ("a"): labels.tier: must be a string, got 1 (quote it: "1")`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: '/a.sock', labels: { 'a=b': 'c' } }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): labels: label name "a=b" must be 1 to 128 letters, digits, ".", "_", "-" or "/", starting with a letter or digit`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: '/a.sock', labels: { env: 'a,b' } }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): labels.env: must be at most 256 characters, without commas or control characters`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: '/a.sock', labels: ['env'] }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): labels: must be an object of label names to string values, such as {env: prod}`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: '/a.sock', connectTimeoutMs: 0 }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): connectTimeoutMs: must be an integer from 1 to 600000 (milliseconds), got 0`,
      );
      expect(errorOf('x.json', one({ name: 'a', host: '/a.sock', requestTimeoutMs: '5s' }))).toBe(
        `engines file ${path('x.json')}: engines[0] ("a"): requestTimeoutMs: must be an integer from 1 to 3600000 (milliseconds), got "5s"`,
      );
    });

    it('explains files that are not JSON or YAML, not there, or empty', () => {
      expect(errorOf('x.json', '{"engines": [}')).toMatch(
        new RegExp(`^engines file ${path('x.json')} is not valid JSON: Unexpected token`),
      );
      // No extension: text that starts like JSON gets JSON's message, not YAML's.
      expect(errorOf('engines', '{"engines": [}')).toMatch(
        new RegExp(`^engines file ${path('engines')} is not valid JSON: Unexpected token`),
      );
      expect(errorOf('x.yaml', 'engines:\n  - name: a\n - host: b\n')).toMatch(
        new RegExp(`^engines file ${path('x.yaml')} is not valid YAML: .* at line 3, column 1$`),
      );
      expect(errorOf('x.yaml', '')).toBe(
        `engines file ${path('x.yaml')}: must hold an object with an "engines" list, such as {"engines": [{"name": "a", "host": "unix:///var/run/docker.sock"}]}`,
      );
      expect(errorOf('x.json', '{"engines": []}')).toBe(
        `engines file ${path('x.json')}: engines: must list at least one engine`,
      );
      expect(() =>
        readEngineDefinitions(loadConfig({ DOCKERGRAPH_ENGINES_FILE: path('none.yaml') })),
      ).toThrow(
        new ConfigError(
          `engines file ${path('none.yaml')} (DOCKERGRAPH_ENGINES_FILE) does not exist`,
        ),
      );
    });
  });
});

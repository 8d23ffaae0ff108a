import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createEngineClient } from '../../src/docker/create-docker-client.ts';
import {
  contextDirName,
  type EngineEndpoint,
  resolveDockerEndpoint,
} from '../../src/docker/docker-host.ts';
import {
  diffEngineDefinitions,
  engineNameOfContext,
  readEngineDefinitions,
} from '../../src/docker/engine-definitions.ts';
import type { TransportOptions } from '../../src/docker/transport.ts';
import type { EngineDefinition } from '../../src/engines-file.ts';

describe('readEngineDefinitions', () => {
  let configDir: string;

  beforeEach(() => {
    configDir = mkdtempSync(join(tmpdir(), 'dockergraph-engine-definitions-'));
  });
  afterEach(() => {
    rmSync(configDir, { recursive: true, force: true });
  });

  /** Writes a context the way `docker context create` lays it out on disk. */
  function writeContext(name: string, host: string, tlsFiles: Record<string, string> = {}): void {
    const metaDir = join(configDir, 'contexts', 'meta', contextDirName(name));
    mkdirSync(metaDir, { recursive: true });
    writeFileSync(
      join(metaDir, 'meta.json'),
      JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host } } }),
    );
    const tlsDir = join(configDir, 'contexts', 'tls', contextDirName(name), 'docker');
    for (const [file, content] of Object.entries(tlsFiles)) {
      mkdirSync(tlsDir, { recursive: true });
      writeFileSync(join(tlsDir, file), content);
    }
  }

  it("keeps today's one engine, named as today, when no file or contexts are configured", () => {
    const config = loadConfig({
      DOCKER_CONFIG: configDir,
      DOCKER_CONTEXT: 'prod',
      DOCKERGRAPH_ENGINE_NAME: 'edge',
      DOCKERGRAPH_CONNECT_TIMEOUT_MS: '100',
      DOCKERGRAPH_REQUEST_TIMEOUT_MS: '200',
    });
    expect(readEngineDefinitions(config)).toEqual([
      {
        name: 'edge',
        labels: {},
        docker: config.docker,
        connectTimeoutMs: 100,
        requestTimeoutMs: 200,
      },
    ]);
  });

  it('serves "default" and every stored context, named by the context', () => {
    writeContext('Remote.Box', 'tcp://remote.example:2376', { 'ca.pem': 'CA' });
    writeContext('colima', 'unix:///home/me/.colima/docker.sock');
    writeFileSync(join(configDir, 'config.json'), JSON.stringify({ currentContext: 'colima' }));
    const engines = readEngineDefinitions(
      loadConfig({ DOCKER_CONFIG: configDir, DOCKERGRAPH_ENGINES_FROM_CONTEXTS: 'true' }),
    );
    expect(engines.map((engine) => engine.name)).toEqual(['default', 'remote-box', 'colima']);
    expect(engines.map((engine) => resolveDockerEndpoint(engine.docker))).toEqual([
      { kind: 'unix', socketPath: '/var/run/docker.sock', source: 'DOCKER_HOST' },
      {
        kind: 'tcp',
        host: 'remote.example',
        port: 2376,
        basePath: '',
        tls: { ca: Buffer.from('CA'), rejectUnauthorized: true },
        source: 'DOCKER_HOST',
      },
      { kind: 'unix', socketPath: '/home/me/.colima/docker.sock', source: 'DOCKER_HOST' },
    ]);
  });

  it('refuses two contexts that become one engine name, and contexts it cannot reach', () => {
    writeContext('prod', 'tcp://a:2375');
    writeContext('Prod', 'tcp://b:2375');
    const config = loadConfig({ DOCKER_CONFIG: configDir, DOCKERGRAPH_ENGINES_FROM_CONTEXTS: '1' });
    expect(() => readEngineDefinitions(config)).toThrow(
      new ConfigError(
        `DOCKERGRAPH_ENGINES_FROM_CONTEXTS (the Docker contexts in ${configDir}): contexts "Prod" and "prod" both become engine name "prod"; rename one (docker context rename)`,
      ),
    );
    rmSync(join(configDir, 'contexts'), { recursive: true });
    writeContext('viassh', 'ssh://me@box');
    expect(() => readEngineDefinitions(config)).toThrow(
      /^DOCKERGRAPH_ENGINES_FROM_CONTEXTS \(the Docker contexts in .*\): Docker context "viassh" \(.*meta\.json\): Invalid Docker host "ssh:\/\/me@box": the ssh:\/\/ scheme .*; to serve only some contexts, name them in an engines file \(DOCKERGRAPH_ENGINES_FILE\) with "context:"$/,
    );
  });

  it('makes engine names of context names', () => {
    expect(engineNameOfContext('Desktop-Linux')).toBe('desktop-linux');
    expect(engineNameOfContext('a.b+c')).toBe('a-b-c');
    expect(engineNameOfContext('x'.repeat(80))).toBe('x'.repeat(63));
    expect(engineNameOfContext('+++')).toBeUndefined();
  });
});

describe('diffEngineDefinitions', () => {
  const engine = (name: string, extra: Partial<EngineDefinition> = {}): EngineDefinition => ({
    name,
    labels: { env: 'prod' },
    docker: { dockerHost: `tcp://${name}:2375`, tlsVerify: false, configDir: '/c' },
    connectTimeoutMs: 3000,
    requestTimeoutMs: 30000,
    ...extra,
  });

  it('sorts engines into added, removed, changed and unchanged by name', () => {
    const previous = [engine('a'), engine('b'), engine('c'), engine('d')];
    const next = [
      engine('e'),
      engine('d', { labels: { env: 'staging' } }),
      engine('b'),
      engine('c', { requestTimeoutMs: 5000 }),
    ];
    expect(diffEngineDefinitions(previous, next)).toEqual({
      added: [next[0]],
      removed: ['a'],
      changed: [next[1], next[3]],
      unchanged: ['b'],
    });
  });

  it('counts every part of the connection, and nothing else', () => {
    const base = engine('a');
    const variants: EngineDefinition[] = [
      engine('a', { docker: { ...base.docker, dockerHost: 'tcp://other:2375' } }),
      engine('a', { docker: { ...base.docker, tlsPem: {} } }),
      engine('a', { docker: { ...base.docker, tlsPem: {}, tlsSkipVerify: true } }),
      engine('a', { docker: { ...base.docker, dockerContext: 'prod' } }),
      engine('a', { connectTimeoutMs: 1 }),
      engine('a', { labels: {} }),
    ];
    for (const variant of variants) {
      expect(diffEngineDefinitions([base], [variant]).changed).toEqual([variant]);
    }
    const same = engine('a', {
      labels: { env: 'prod' },
      docker: { configDir: '/c', tlsVerify: false, dockerHost: 'tcp://a:2375', tlsPem: undefined },
    });
    expect(diffEngineDefinitions([base], [same])).toEqual({
      added: [],
      removed: [],
      changed: [],
      unchanged: ['a'],
    });
  });
});

describe('createEngineClient', () => {
  it("builds the client from the definition's settings and timeouts", async () => {
    const seen: { endpoint: EngineEndpoint; options: TransportOptions }[] = [];
    const client = createEngineClient(
      {
        name: 'b',
        labels: {},
        docker: {
          dockerHost: 'tcp://10.0.0.2',
          tlsVerify: false,
          configDir: '/nowhere',
          tlsPem: {},
          tlsSkipVerify: true,
        },
        connectTimeoutMs: 1234,
        requestTimeoutMs: 5678,
      },
      (endpoint, options) => {
        seen.push({ endpoint, options });
        return undefined;
      },
    );
    await client.close();
    expect(seen).toEqual([
      {
        endpoint: {
          kind: 'tcp',
          host: '10.0.0.2',
          port: 2376,
          basePath: '',
          tls: { rejectUnauthorized: false },
          source: 'DOCKER_HOST',
        },
        options: { connectTimeoutMs: 1234, requestTimeoutMs: 5678 },
      },
    ]);
  });
});

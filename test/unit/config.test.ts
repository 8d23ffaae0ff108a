import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { canGenerateCode } from '../../src/plugins/use-compiled-execution.ts';

describe('loadConfig', () => {
  it('listens on loopback port 4000 by default', () => {
    const config = loadConfig({ HOME: '/home/me' });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      engineName: 'local',
      graphiql: true,
    });
    expect(config.docker).toEqual({
      dockerHost: undefined,
      dockerContext: undefined,
      tlsVerify: false,
      certPath: undefined,
      configDir: '/home/me/.docker',
    });
  });

  it('compiles queries only when DOCKERGRAPH_COMPILED_EXECUTION is on, which Node allows', () => {
    expect(loadConfig({}).compiledExecution).toBe(false);
    expect(loadConfig({ DOCKERGRAPH_COMPILED_EXECUTION: 'on' }).compiledExecution).toBe(true);
    expect(canGenerateCode()).toBe(true);
  });

  it('leaves the read model to the target unless set: on, off, or eventual', () => {
    expect(loadConfig({})).toMatchObject({ readModel: null, readModelConsistency: 'exact' });
    expect(loadConfig({ DOCKERGRAPH_READ_MODEL: 'on' })).toMatchObject({
      readModel: true,
      readModelConsistency: 'exact',
    });
    expect(loadConfig({ DOCKERGRAPH_READ_MODEL: 'off' }).readModel).toBe(false);
    expect(loadConfig({ DOCKERGRAPH_READ_MODEL: 'eventual' })).toMatchObject({
      readModel: true,
      readModelConsistency: 'eventual',
    });
    expect(() => loadConfig({ DOCKERGRAPH_READ_MODEL: 'lazy' })).toThrow(
      'DOCKERGRAPH_READ_MODEL must be on (or exact), off or eventual, got "lazy"',
    );
  });

  it('reads the docker CLI variables, treating empty as unset', () => {
    expect(loadConfig({ DOCKER_HOST: '', DOCKER_CONTEXT: 'ctx', HOME: '/home/me' }).docker).toEqual(
      {
        dockerHost: undefined,
        dockerContext: 'ctx',
        tlsVerify: false,
        certPath: undefined,
        configDir: '/home/me/.docker',
      },
    );
  });

  it('turns verification on for any non-empty DOCKER_TLS_VERIFY, like the CLI', () => {
    const env = {
      DOCKER_TLS_VERIFY: '0',
      DOCKER_CONFIG: '/etc/docker-cli',
      DOCKER_CERT_PATH: '/c',
    };
    expect(loadConfig(env).docker).toMatchObject({
      tlsVerify: true,
      certPath: '/c',
      configDir: '/etc/docker-cli',
    });
  });

  it('names the variable and the value it cannot use', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(
      new ConfigError('PORT must be an integer from 0 to 65535, got "eighty"'),
    );
    expect(() => loadConfig({ DOCKERGRAPH_GRAPHIQL: 'maybe' })).toThrow(
      /DOCKERGRAPH_GRAPHIQL must be true or false, got "maybe"/,
    );
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(
      /LOG_LEVEL must be one of debug, info, warn, error, silent/,
    );
    expect(() => loadConfig({ DOCKERGRAPH_ENGINE_NAME: 'Prod Engine' })).toThrow(
      /DOCKERGRAPH_ENGINE_NAME/,
    );
  });

  it('reads the shared Redis store, hiding a password in its refusal', () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ DOCKERGRAPH_REDIS_URL: 'redis://10.0.0.5:6379/2' }).redis).toEqual({
      url: 'redis://10.0.0.5:6379/2',
      prefix: 'dockergraph:',
    });
    expect(() => loadConfig({ DOCKERGRAPH_REDIS_URL: 'http://user:hunter2@cache:6379' })).toThrow(
      'DOCKERGRAPH_REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379, got "http://…@cache:6379"',
    );
    expect(() => loadConfig({ DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY: 'ops' })).toThrow(
      'DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY names a Redis hash: set DOCKERGRAPH_REDIS_URL too',
    );
    expect(() =>
      loadConfig({
        DOCKERGRAPH_REDIS_URL: 'redis://cache:6379',
        DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY: 'ops',
        DOCKERGRAPH_PERSISTED_OPERATIONS_FILE: '/etc/dockergraph/operations.json',
      }),
    ).toThrow(/not both/);
  });

  it('serves metrics by default, and reads the separate metrics listener', () => {
    expect(loadConfig({ HOME: '/h' }).metrics).toEqual({
      enabled: true,
      listen: null,
      maxOperationNames: 100,
    });
    expect(
      loadConfig({
        HOME: '/h',
        DOCKERGRAPH_METRICS: 'off',
        DOCKERGRAPH_METRICS_LISTEN: '[::1]:9464',
      }).metrics,
    ).toMatchObject({ enabled: false, listen: { host: '::1', port: 9464 } });
    expect(() => loadConfig({ HOME: '/h', DOCKERGRAPH_METRICS_LISTEN: '9464' })).toThrow(
      /DOCKERGRAPH_METRICS_LISTEN must be host:port/,
    );
    expect(() => loadConfig({ HOME: '/h', DOCKERGRAPH_METRICS_LISTEN: 'host:70000' })).toThrow(
      ConfigError,
    );
  });

  it('traces only when an OTLP endpoint is configured, by the OpenTelemetry variables', () => {
    expect(loadConfig({ HOME: '/h' }).tracing).toBeNull();
    expect(
      loadConfig({ HOME: '/h', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).tracing,
    ).toEqual({ url: 'http://c:4318/v1/traces', serviceName: 'dockergraph' });
    expect(
      loadConfig({
        HOME: '/h',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom',
        OTEL_SERVICE_NAME: 'dg',
      }).tracing,
    ).toEqual({ url: 'http://c:4318/custom', serviceName: 'dg' });
    for (const off of [{ OTEL_TRACES_EXPORTER: 'none' }, { OTEL_SDK_DISABLED: 'true' }]) {
      expect(
        loadConfig({ HOME: '/h', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...off }).tracing,
      ).toBeNull();
    }
    expect(() =>
      loadConfig({
        HOME: '/h',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      }),
    ).toThrow(/http\/json/);
  });

  it('reads the engine-call budget and the nodes cap, 200 and 100 by default', () => {
    expect(loadConfig({}).limits).toMatchObject({ maxEngineCalls: 200, maxNodeIds: 100 });
    expect(
      loadConfig({ DOCKERGRAPH_MAX_ENGINE_CALLS: '50', DOCKERGRAPH_MAX_NODE_IDS: '10' }).limits,
    ).toMatchObject({ maxEngineCalls: 50, maxNodeIds: 10 });
    expect(() => loadConfig({ DOCKERGRAPH_MAX_ENGINE_CALLS: '0' })).toThrow(
      new ConfigError('DOCKERGRAPH_MAX_ENGINE_CALLS must be an integer from 1 to 1000000, got "0"'),
    );
    expect(() => loadConfig({ DOCKERGRAPH_MAX_NODE_IDS: 'many' })).toThrow(
      /DOCKERGRAPH_MAX_NODE_IDS must be an integer/,
    );
  });

  it('reads the terminal idle timeout and session cap, 900 s and 4 by default', () => {
    expect(loadConfig({}).terminal).toEqual({ idleMs: 900_000, sessionsPerToken: 4 });
    expect(
      loadConfig({
        DOCKERGRAPH_TERMINAL_IDLE_SECONDS: '2',
        DOCKERGRAPH_TERMINAL_SESSIONS_PER_TOKEN: '0',
      }).terminal,
    ).toEqual({ idleMs: 2_000, sessionsPerToken: 0 });
    expect(() => loadConfig({ DOCKERGRAPH_TERMINAL_IDLE_SECONDS: '0' })).toThrow(
      new ConfigError(
        'DOCKERGRAPH_TERMINAL_IDLE_SECONDS must be an integer from 1 to 86400, got "0"',
      ),
    );
    expect(() => loadConfig({ DOCKERGRAPH_TERMINAL_SESSIONS_PER_TOKEN: '-1' })).toThrow(
      /DOCKERGRAPH_TERMINAL_SESSIONS_PER_TOKEN must be an integer from 0 to 1000/,
    );
  });

  it('reads address pools and registries for the admission policy', () => {
    const defaults = loadConfig({}).security;
    expect(defaults.networkPools).toEqual([]);
    expect(defaults.registries).toEqual(['docker.io']);
    const { networkPools, registries } = loadConfig({
      DOCKERGRAPH_NETWORK_POOLS: '10.200.0.0/16, fd00:dead::/48',
      DOCKERGRAPH_REGISTRIES: 'index.docker.io,Registry.example.com:5000,127.0.0.1:5000',
    }).security;
    expect(networkPools.map((pool) => [pool.family, pool.length, pool.text])).toEqual([
      [4, 16, '10.200.0.0/16'],
      [6, 48, 'fd00:dead::/48'],
    ]);
    expect(registries).toEqual(['docker.io', 'registry.example.com:5000', '127.0.0.1:5000']);
    expect(loadConfig({ DOCKERGRAPH_REGISTRIES: '' }).security.registries).toEqual([]);
    expect(() => loadConfig({ DOCKERGRAPH_NETWORK_POOLS: '10.0.0.0' })).toThrow(
      'DOCKERGRAPH_NETWORK_POOLS holds IPv4 or IPv6 prefixes such as 10.200.0.0/16, got "10.0.0.0"',
    );
    expect(() => loadConfig({ DOCKERGRAPH_REGISTRIES: 'https://r.example.com' })).toThrow(
      'DOCKERGRAPH_REGISTRIES holds registry hosts',
    );
  });

  it('serves one engine unless an engines file or the contexts are named', () => {
    expect(loadConfig({}).engines).toEqual({ kind: 'single' });
    expect(
      loadConfig({ DOCKERGRAPH_ENGINES_FILE: '/etc/dockergraph/engines.yaml' }).engines,
    ).toEqual({ kind: 'file', path: '/etc/dockergraph/engines.yaml' });
    expect(loadConfig({ DOCKERGRAPH_ENGINES_FROM_CONTEXTS: 'true' }).engines).toEqual({
      kind: 'contexts',
    });
    expect(
      loadConfig({ DOCKERGRAPH_ENGINES_FROM_CONTEXTS: 'false', DOCKERGRAPH_ENGINES_FILE: '' })
        .engines,
    ).toEqual({ kind: 'single' });
  });

  it('refuses an engines file together with the contexts, and a non-boolean contexts option', () => {
    expect(() =>
      loadConfig({
        DOCKERGRAPH_ENGINES_FILE: '/etc/engines.yaml',
        DOCKERGRAPH_ENGINES_FROM_CONTEXTS: 'yes',
      }),
    ).toThrow(
      new ConfigError(
        'set DOCKERGRAPH_ENGINES_FILE or DOCKERGRAPH_ENGINES_FROM_CONTEXTS=true, not both: the engines come from one place (an engines file may name contexts with "context:")',
      ),
    );
    expect(() => loadConfig({ DOCKERGRAPH_ENGINES_FROM_CONTEXTS: 'all' })).toThrow(
      new ConfigError('DOCKERGRAPH_ENGINES_FROM_CONTEXTS must be true or false, got "all"'),
    );
  });
});

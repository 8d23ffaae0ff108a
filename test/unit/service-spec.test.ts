import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLogBuffer } from '../../src/docker/demux.ts';
import { InvalidInputError } from '../../src/docker/errors.ts';
import {
  applyServiceChanges,
  type EngineServiceSpec,
  toServiceSpec,
} from '../../src/docker/service-spec.ts';
import { withLogDetails } from '../../src/docker/swarm-services.ts';

function invalidField(run: () => unknown): string | null {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.field;
    throw error;
  }
  throw new Error('no InvalidInputError');
}

describe('toServiceSpec', () => {
  it('builds the body of docker service create, in the engine’s units', () => {
    const spec = toServiceSpec('input', {
      name: 'web',
      image: 'nginx:1',
      command: ['nginx', '-g', 'daemon off;'],
      env: [{ name: 'A', value: '1' }],
      labels: { team: 'a' },
      replicas: 3,
      ports: [{ target: 80, published: 8080, mode: 'host' }],
      mounts: [{ type: 'volume', source: 'data', target: '/data', readOnly: true }],
      limits: { cpus: 0.5, memoryBytes: 64 * 1024 * 1024 },
      constraints: ['node.role==worker'],
      restart: { condition: 'on-failure', delaySeconds: 2, maxAttempts: 3 },
      update: { parallelism: 2, delaySeconds: 1.5, order: 'start-first' },
      secrets: [{ id: 'sid', name: 'db', target: 'password' }],
      configs: [{ id: 'cid', name: 'conf' }],
      stopGracePeriodSeconds: 1,
    });
    expect(spec).toEqual({
      Name: 'web',
      Labels: { team: 'a' },
      Mode: { Replicated: { Replicas: 3 } },
      TaskTemplate: {
        ContainerSpec: {
          Image: 'nginx:1',
          Command: ['nginx', '-g', 'daemon off;'],
          Env: ['A=1'],
          Mounts: [{ Type: 'volume', Source: 'data', Target: '/data', ReadOnly: true }],
          Secrets: [
            {
              File: { Name: 'password', UID: '0', GID: '0', Mode: 0o444 },
              SecretID: 'sid',
              SecretName: 'db',
            },
          ],
          Configs: [
            {
              File: { Name: '/conf', UID: '0', GID: '0', Mode: 0o444 },
              ConfigID: 'cid',
              ConfigName: 'conf',
            },
          ],
          StopGracePeriod: 1_000_000_000,
        },
        Resources: { Limits: { NanoCPUs: 500_000_000, MemoryBytes: 64 * 1024 * 1024 } },
        RestartPolicy: { Condition: 'on-failure', Delay: 2_000_000_000, MaxAttempts: 3 },
        Placement: { Constraints: ['node.role==worker'] },
      },
      UpdateConfig: { Parallelism: 2, Delay: 1_500_000_000, Order: 'start-first' },
      EndpointSpec: {
        Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }],
      },
    });
  });

  it('makes a global service without replicas', () => {
    expect(toServiceSpec('input', { name: 'agent', image: 'a', global: true }).Mode).toEqual({
      Global: {},
    });
  });

  it.each([
    ['input.name', { name: '-bad', image: 'a' }],
    ['input.image', { name: 'ok', image: 'has space' }],
    ['input.replicas', { name: 'ok', image: 'a', global: true, replicas: 2 }],
    ['input.replicas', { name: 'ok', image: 'a', replicas: -1 }],
    ['input.ports[0].target', { name: 'ok', image: 'a', ports: [{ target: 70_000 }] }],
    [
      'input.mounts[0].source',
      { name: 'ok', image: 'a', mounts: [{ type: 'bind' as const, source: 'rel', target: '/x' }] },
    ],
    [
      'input.mounts[0].target',
      { name: 'ok', image: 'a', mounts: [{ type: 'tmpfs' as const, target: 'x' }] },
    ],
    [
      'input.env[1].name',
      {
        name: 'ok',
        image: 'a',
        env: [
          { name: 'A', value: '' },
          { name: 'A', value: '' },
        ],
      },
    ],
    ['input.constraints[0]', { name: 'ok', image: 'a', constraints: ['node.role'] }],
    ['input.limits.memoryBytes', { name: 'ok', image: 'a', limits: { memoryBytes: 10 } }],
    ['input.update.maxFailureRatio', { name: 'ok', image: 'a', update: { maxFailureRatio: 2 } }],
    [
      'input.secrets[0].mode',
      { name: 'ok', image: 'a', secrets: [{ id: 'i', name: 'n', mode: 0o17777 }] },
    ],
  ])('names %s when it is wrong', (field, definition) => {
    expect(invalidField(() => toServiceSpec('input', definition))).toBe(field);
  });
});

describe('applyServiceChanges', () => {
  const current: EngineServiceSpec = {
    Name: 'web',
    Labels: { team: 'a', old: 'x' },
    Mode: { Replicated: { Replicas: 2 } },
    TaskTemplate: {
      ContainerSpec: { Image: 'web:1', Env: ['A=1', 'B=2', 'KEEP'] },
      Resources: { Limits: { MemoryBytes: 100_000_000 } },
      ForceUpdate: 4,
    },
  };

  it('changes only what is given, leaving the current spec as it was', () => {
    const before = structuredClone(current);
    const next = applyServiceChanges('input', current, {
      image: 'web:2',
      replicas: 5,
      envAdd: [
        { name: 'B', value: '3' },
        { name: 'C', value: '4' },
      ],
      envRemove: ['A'],
      labelAdd: { tier: 'front' },
      labelRemove: ['old'],
      limits: { cpus: 1 },
      force: true,
    });
    expect(current).toEqual(before);
    expect(next).toEqual({
      Name: 'web',
      Labels: { team: 'a', tier: 'front' },
      Mode: { Replicated: { Replicas: 5 } },
      TaskTemplate: {
        ContainerSpec: { Image: 'web:2', Env: ['KEEP', 'B=3', 'C=4'] },
        Resources: { Limits: { MemoryBytes: 100_000_000, NanoCPUs: 1_000_000_000 } },
        ForceUpdate: 5,
      },
    });
  });

  it('refuses replicas for a global service', () => {
    const global: EngineServiceSpec = { ...current, Mode: { Global: {} } };
    expect(invalidField(() => applyServiceChanges('input', global, { replicas: 2 }))).toBe(
      'input.replicas',
    );
  });
});

describe('withLogDetails', () => {
  it('takes the task and node off lines captured from a manager', () => {
    const bytes = readFileSync(new URL('../fixtures/service-logs-details.bin', import.meta.url));
    const { lines } = decodeLogBuffer(bytes, { tty: false, timestamps: true });
    const detailed = lines.map(withLogDetails);
    expect(detailed.map((line) => [line.stream, line.message]).sort()).toEqual(
      [
        ['stderr', 'err-line'],
        ['stderr', 'err-line'],
        ['stdout', 'out-line'],
        ['stdout', 'out-line'],
      ].sort(),
    );
    for (const line of detailed) {
      expect(line.taskId).toMatch(/^[a-z0-9]{25}$/);
      expect(line.nodeId).toMatch(/^[a-z0-9]{25}$/);
      expect(line.timestamp).toMatch(/^2026-12-05T/);
    }
    expect(new Set(detailed.map((line) => line.taskId)).size).toBe(2);
  });

  it('leaves a line without details as it is', () => {
    const line = {
      stream: 'stdout' as const,
      timestamp: null,
      message: 'plain text, with a comma',
    };
    expect(withLogDetails(line)).toEqual({ ...line, taskId: null, nodeId: null });
  });
});

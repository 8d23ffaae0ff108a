import { builder } from './builder.ts';

/**
 * Enums of container configuration that the container reads (containers.ts) and
 * writes (container-lifecycle.ts) share, so that a value read from a container
 * can be given back when creating or updating one.
 */

export const PortProtocolEnum = builder.enumType('PortProtocol', {
  description: 'Transport protocol of a port.',
  values: {
    TCP: { value: 'tcp', description: 'TCP.' },
    UDP: { value: 'udp', description: 'UDP.' },
    SCTP: { value: 'sctp', description: 'SCTP.' },
  } as const,
});

export const MountTypeEnum = builder.enumType('MountType', {
  description: 'Kind of a container mount.',
  values: {
    BIND: { value: 'bind', description: 'A host file or folder.' },
    VOLUME: { value: 'volume', description: 'A Docker volume.' },
    TMPFS: { value: 'tmpfs', description: 'A memory-backed filesystem.' },
    NPIPE: { value: 'npipe', description: 'A Windows named pipe.' },
    CLUSTER: { value: 'cluster', description: 'A Swarm cluster volume.' },
  } as const,
});

export const RestartPolicyEnum = builder.enumType('RestartPolicyName', {
  description: 'When the engine restarts a container whose process ended.',
  values: {
    NO: { value: 'no', description: 'Never.' },
    ALWAYS: { value: 'always', description: 'Always, also when the engine starts.' },
    UNLESS_STOPPED: {
      value: 'unless-stopped',
      description: 'Always, unless it was stopped by hand.',
    },
    ON_FAILURE: {
      value: 'on-failure',
      description: 'When it exits with a non-zero code, up to a retry count.',
    },
  } as const,
});

export const HealthStatusEnum = builder.enumType('HealthStatus', {
  description: 'Result of a container healthcheck.',
  values: {
    NONE: { value: 'none', description: 'The container has no healthcheck.' },
    STARTING: { value: 'starting', description: 'Within the start period, not yet healthy.' },
    HEALTHY: { value: 'healthy', description: 'The last checks passed.' },
    UNHEALTHY: {
      value: 'unhealthy',
      description: 'The check failed as many times in a row as allowed.',
    },
  } as const,
});

/** A port protocol as the enum has it; the engine writes "tcp" for other values too. */
export function protocolOf(value: string): 'tcp' | 'udp' | 'sctp' {
  return value === 'udp' || value === 'sctp' ? value : 'tcp';
}

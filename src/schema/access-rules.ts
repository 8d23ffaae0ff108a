import type { Permission } from '../security/roles.ts';

/**
 * The permission each field needs, in one table: the deny-by-default plugin
 * (`deny-by-default.ts`) gives every root field listed here that rule, and
 * denies every root field that is not listed. Fields of other types are
 * reachable through their root field; those listed here need more besides.
 * Dangerous *inputs* (privileged, host binds…) are checked apart, in
 * `src/security/dangerous-inputs.ts`, whatever the field's own rule.
 */
export const fieldRules: Readonly<Record<string, Readonly<Record<string, Permission>>>> = {
  Query: {
    container: 'read',
    containers: 'read',
    engine: 'read',
    image: 'read',
    images: 'read',
    network: 'read',
    networks: 'read',
    node: 'read',
    nodes: 'read',
    searchImages: 'read',
    volume: 'read',
    volumes: 'read',
    swarm: 'read',
    swarmNodes: 'read',
    services: 'read',
    service: 'read',
    tasks: 'read',
    secrets: 'read',
    configs: 'read',
    stacks: 'read',
  },
  Mutation: {
    startContainer: 'lifecycle',
    stopContainer: 'lifecycle',
    restartContainer: 'lifecycle',
    killContainer: 'lifecycle',
    pauseContainer: 'lifecycle',
    unpauseContainer: 'lifecycle',
    waitContainer: 'lifecycle',
    createContainer: 'write',
    updateContainer: 'write',
    renameContainer: 'write',
    removeContainer: 'write',
    pruneContainers: 'write',
    connectContainerToNetwork: 'write',
    disconnectContainerFromNetwork: 'write',
    commitContainer: 'write',
    pullImage: 'write',
    pushImage: 'write',
    tagImage: 'write',
    removeImage: 'write',
    pruneImages: 'write',
    createVolume: 'write',
    removeVolume: 'write',
    pruneVolumes: 'write',
    createNetwork: 'write',
    removeNetwork: 'write',
    pruneNetworks: 'write',
    execInContainer: 'dangerous',
    copyToContainer: 'dangerous',
    buildImage: 'dangerous',
    importImage: 'dangerous',
    loadImages: 'dangerous',
    initSwarm: 'dangerous',
    joinSwarm: 'dangerous',
    leaveSwarm: 'dangerous',
    updateSwarm: 'dangerous',
    unlockSwarm: 'dangerous',
    updateSwarmNode: 'write',
    removeSwarmNode: 'write',
    createService: 'write',
    updateService: 'write',
    scaleService: 'lifecycle',
    rollbackService: 'write',
    removeService: 'write',
    createSecret: 'write',
    removeSecret: 'write',
    rotateSecret: 'write',
    createConfig: 'write',
    removeConfig: 'write',
    rotateConfig: 'write',
  },
  Subscription: {
    events: 'read',
    containerUpdated: 'read',
    containerStats: 'read',
    containerLogs: 'logs',
    serviceUpdated: 'read',
    serviceLogs: 'logs',
    pullImageProgress: 'write',
    buildImageProgress: 'dangerous',
  },
  Container: {
    logs: 'logs',
  },
  Service: {
    logs: 'logs',
  },
  Task: {
    logs: 'logs',
  },
  Swarm: {
    joinTokens: 'dangerous',
    unlockKey: 'dangerous',
  },
  Config: {
    data: 'secrets',
    dataBase64: 'secrets',
  },
};

/** The permission a field needs, or undefined when the table has no rule for it. */
export function permissionFor(typeName: string, fieldName: string): Permission | undefined {
  return fieldRules[typeName]?.[fieldName];
}

import type { Permission } from '../security/roles.ts';

/**
 * The permission each field needs, in one table: the deny-by-default plugin
 * (`deny-by-default.ts`) gives every root field listed here that rule, and
 * denies every root field that is not listed. Fields of other types are
 * reachable through their root field; those listed here need more besides. A
 * list names permissions that are all needed. What a write may *ask the engine
 * for* (privileged, host paths, namespaces…) is the admission policy's, in
 * `src/security/admission.ts`, applied to the engine request itself.
 */
export const fieldRules: Readonly<
  Record<string, Readonly<Record<string, Permission | readonly Permission[]>>>
> = {
  Query: {
    container: 'read',
    containers: 'read',
    distribution: 'read',
    engine: 'read',
    engines: 'read',
    eventsHistory: 'read',
    image: 'read',
    images: 'read',
    network: 'read',
    networks: 'read',
    node: 'read',
    plugin: 'read',
    plugins: 'read',
    // Makes the engine contact any registry; only those who may install plugins need it.
    pluginPrivileges: 'dangerous',
    nodes: 'read',
    searchImages: 'read',
    viewer: 'read',
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
    exec: 'read',
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
    // The image keeps the container's configuration, environment values included.
    commitContainer: ['write', 'secrets'],
    pullImage: 'write',
    pushImage: 'write',
    // Makes the engine contact a registry, as a pull does.
    checkRegistryLogin: 'write',
    tagImage: 'write',
    removeImage: 'write',
    pruneImages: 'write',
    createVolume: 'write',
    removeVolume: 'write',
    updateVolume: 'write',
    pruneVolumes: 'write',
    createNetwork: 'write',
    removeNetwork: 'write',
    pruneNetworks: 'write',
    execInContainer: 'dangerous',
    execDetached: 'dangerous',
    copyToContainer: 'dangerous',
    buildImage: 'dangerous',
    // Build cache is made by builds (dangerous) and shared by every user's builds: pruning it
    // is for those who may build.
    pruneBuildCache: 'dangerous',
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
    // Secret and config data is a secret: writing one needs `secrets` besides `write`.
    createSecret: ['write', 'secrets'],
    removeSecret: 'write',
    rotateSecret: ['write', 'secrets'],
    createConfig: ['write', 'secrets'],
    removeConfig: 'write',
    rotateConfig: ['write', 'secrets'],
    // A plugin runs as root with the privileges it asks for (host network, mounts, devices,
    // capabilities), outside container admission: installing, starting, configuring or
    // changing one is host access.
    installPlugin: 'dangerous',
    enablePlugin: 'dangerous',
    disablePlugin: 'dangerous',
    configurePlugin: 'dangerous',
    upgradePlugin: 'dangerous',
    removePlugin: 'dangerous',
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
  // A command line may carry what its author typed: a password, a token.
  Exec: {
    command: 'secrets',
  },
  // What a health check printed is the container's output, as its logs are.
  HealthcheckResult: {
    output: 'logs',
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

/** Every permission a field needs, or undefined when the table has no rule for it. */
export function permissionsFor(
  typeName: string,
  fieldName: string,
): readonly Permission[] | undefined {
  const rule = fieldRules[typeName]?.[fieldName];
  if (rule === undefined) return undefined;
  return typeof rule === 'string' ? [rule] : rule;
}

/**
 * Why `held` may not use a field whose rule is `needed`: the permissions it
 * lacks, e.g. `it needs the "write" and "secrets" permissions`.
 */
export function describeMissingPermissions(
  needed: readonly Permission[],
  held: ReadonlySet<Permission>,
): string {
  const missing = needed.filter((permission) => !held.has(permission));
  const named = (missing.length > 0 ? missing : needed).map((permission) => `"${permission}"`);
  return `it needs the ${named.join(' and ')} permission${named.length > 1 ? 's' : ''}`;
}

/**
 * The permission that names what a field does (the first of its rule), or
 * undefined when the table has no rule for it; {@link permissionsFor} gives all.
 */
export function permissionFor(typeName: string, fieldName: string): Permission | undefined {
  return permissionsFor(typeName, fieldName)?.[0];
}

/**
 * The capability fields a UI reads to show only what the viewer may do
 * (`Container.viewerCan.stop`...): each names the field whose rule above
 * decides it, so a capability and the operation it stands for can never
 * disagree. Every field named must have a rule: the schema does not build otherwise.
 */
export const capabilityRules: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Container: {
    start: 'Mutation.startContainer',
    stop: 'Mutation.stopContainer',
    restart: 'Mutation.restartContainer',
    pause: 'Mutation.pauseContainer',
    unpause: 'Mutation.unpauseContainer',
    kill: 'Mutation.killContainer',
    remove: 'Mutation.removeContainer',
    rename: 'Mutation.renameContainer',
    update: 'Mutation.updateContainer',
    exec: 'Mutation.execInContainer',
    logs: 'Subscription.containerLogs',
  },
  Image: {
    remove: 'Mutation.removeImage',
    tag: 'Mutation.tagImage',
    push: 'Mutation.pushImage',
  },
  Volume: {
    remove: 'Mutation.removeVolume',
  },
  Network: {
    remove: 'Mutation.removeNetwork',
    connect: 'Mutation.connectContainerToNetwork',
    disconnect: 'Mutation.disconnectContainerFromNetwork',
  },
};

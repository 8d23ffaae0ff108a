/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query DashboardViewer {\n    viewer {\n      tokenId\n      role\n      permissions\n      readOnly\n      pruneContainers: can(operation: \"pruneContainers\")\n      pruneImages: can(operation: \"pruneImages\")\n      pruneVolumes: can(operation: \"pruneVolumes\")\n      pruneNetworks: can(operation: \"pruneNetworks\")\n    }\n  }\n": typeof types.DashboardViewerDocument,
    "\n  fragment DashboardContainer on Container {\n    id\n    engine { name }\n    dockerId\n    shortId\n    name\n    state\n    status\n    health { status }\n    imageReference\n    created\n    startedAt\n    ports { privatePort publicPort protocol hostIp }\n    labels { name value }\n    compose { project service }\n    viewerCan { start stop restart pause unpause remove logs exec }\n  }\n": typeof types.DashboardContainerFragmentDoc,
    "\n  query DashboardContainers($engines: [String!]) {\n    containers(first: 200, engines: $engines) {\n      totalCount\n      edges { node { ...DashboardContainer } }\n    }\n  }\n": typeof types.DashboardContainersDocument,
    "\n  subscription DashboardContainerUpdates($engine: String!) {\n    containerUpdated(engines: [$engine]) {\n      kind\n      action\n      containerId\n      reason\n      container { ...DashboardContainer }\n    }\n  }\n": typeof types.DashboardContainerUpdatesDocument,
    "\n  subscription DashboardStats($engine: String!, $ids: [String!]!) {\n    containerStats(engine: $engine, ids: $ids) {\n      containerId\n      stats { cpuPercent memoryUsageBytes memoryLimitBytes memoryPercent }\n    }\n  }\n": typeof types.DashboardStatsDocument,
    "\n  query DashboardContainerDetails($id: ID!) {\n    node(id: $id) {\n      __typename\n      ... on Container {\n      ...DashboardContainer\n      command\n      platform\n      restartCount\n      exitCode\n      error\n      finishedAt\n      oomKilled\n      image { tags shortId }\n      config { cmd entrypoint workingDir user hostname env { name value redacted } }\n      hostConfig { networkMode privileged memoryBytes restartPolicy { name } }\n      mounts { type source destination readWrite volume { name } }\n      networks { networkName ipAddress gateway macAddress }\n      }\n    }\n  }\n": typeof types.DashboardContainerDetailsDocument,
    "\n  subscription DashboardLogs($engine: String!, $id: String!, $tail: Int) {\n    containerLogs(engine: $engine, id: $id, tail: $tail) {\n      dropped\n      line { stream message time }\n    }\n  }\n": typeof types.DashboardLogsDocument,
    "\n  mutation DashboardStart($id: String!) {\n    startContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardStartDocument,
    "\n  mutation DashboardStop($id: String!) {\n    stopContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardStopDocument,
    "\n  mutation DashboardRestart($id: String!) {\n    restartContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardRestartDocument,
    "\n  mutation DashboardPause($id: String!) {\n    pauseContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardPauseDocument,
    "\n  mutation DashboardUnpause($id: String!) {\n    unpauseContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardUnpauseDocument,
    "\n  mutation DashboardRemove($id: String!) {\n    removeContainer(id: $id, force: true) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardRemoveDocument,
    "\n  query DashboardImages($engines: [String!]) {\n    images(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          dockerId\n          shortId\n          tags\n          sizeBytes\n          created\n          containers { name }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n": typeof types.DashboardImagesDocument,
    "\n  query DashboardVolumes($engines: [String!]) {\n    volumes(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          name\n          driver\n          createdAt\n          usage { sizeBytes refCount }\n          containers { name }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n": typeof types.DashboardVolumesDocument,
    "\n  query DashboardNetworks($engines: [String!]) {\n    networks(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          dockerId\n          name\n          driver\n          scope\n          internal\n          containers { container { name } }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n": typeof types.DashboardNetworksDocument,
    "\n  mutation DashboardRemoveImage($reference: String!) {\n    removeImage(reference: $reference) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardRemoveImageDocument,
    "\n  mutation DashboardRemoveVolume($name: String!) {\n    removeVolume(name: $name) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardRemoveVolumeDocument,
    "\n  mutation DashboardRemoveNetwork($id: String!) {\n    removeNetwork(id: $id) { __typename ... on MutationError { message } }\n  }\n": typeof types.DashboardRemoveNetworkDocument,
    "\n  mutation DashboardPruneImages($engine: String!) {\n    pruneImages(engine: $engine) {\n      __typename\n      ... on PruneImagesPayload { spaceReclaimedBytes imagesDeleted }\n      ... on MutationError { message }\n    }\n  }\n": typeof types.DashboardPruneImagesDocument,
    "\n  mutation DashboardPruneVolumes($engine: String!) {\n    pruneVolumes(engine: $engine) {\n      __typename\n      ... on PruneVolumesPayload { spaceReclaimedBytes volumesDeleted }\n      ... on MutationError { message }\n    }\n  }\n": typeof types.DashboardPruneVolumesDocument,
    "\n  mutation DashboardPruneNetworks($engine: String!) {\n    pruneNetworks(engine: $engine) {\n      __typename\n      ... on PruneNetworksPayload { networksDeleted }\n      ... on MutationError { message }\n    }\n  }\n": typeof types.DashboardPruneNetworksDocument,
    "\n  query DashboardEngine($name: String!) {\n    engine(name: $name) {\n      name\n      version { version apiVersion os arch }\n      info {\n        name\n        serverVersion\n        operatingSystem\n        kernelVersion\n        cpus\n        memoryBytes\n        driver\n        images\n        warnings\n        containers { total running paused stopped }\n      }\n      diskUsage {\n        layersSizeBytes\n        images { count active sizeBytes reclaimableBytes }\n        containers { count active sizeBytes reclaimableBytes }\n        volumes { count active sizeBytes reclaimableBytes }\n        buildCache { count active sizeBytes reclaimableBytes }\n      }\n    }\n  }\n": typeof types.DashboardEngineDocument,
    "\n  subscription DashboardEvents($engines: [String!], $since: DateTime) {\n    events(engines: $engines, since: $since) {\n      engine { name }\n      kind\n      reason\n      event { time timeNano type action actor { id attributes { name value } } }\n    }\n  }\n": typeof types.DashboardEventsDocument,
    "\n  query DashboardEngines {\n    engines { name reachable lastError labels { name value } }\n  }\n": typeof types.DashboardEnginesDocument,
};
const documents: Documents = {
    "\n  query DashboardViewer {\n    viewer {\n      tokenId\n      role\n      permissions\n      readOnly\n      pruneContainers: can(operation: \"pruneContainers\")\n      pruneImages: can(operation: \"pruneImages\")\n      pruneVolumes: can(operation: \"pruneVolumes\")\n      pruneNetworks: can(operation: \"pruneNetworks\")\n    }\n  }\n": types.DashboardViewerDocument,
    "\n  fragment DashboardContainer on Container {\n    id\n    engine { name }\n    dockerId\n    shortId\n    name\n    state\n    status\n    health { status }\n    imageReference\n    created\n    startedAt\n    ports { privatePort publicPort protocol hostIp }\n    labels { name value }\n    compose { project service }\n    viewerCan { start stop restart pause unpause remove logs exec }\n  }\n": types.DashboardContainerFragmentDoc,
    "\n  query DashboardContainers($engines: [String!]) {\n    containers(first: 200, engines: $engines) {\n      totalCount\n      edges { node { ...DashboardContainer } }\n    }\n  }\n": types.DashboardContainersDocument,
    "\n  subscription DashboardContainerUpdates($engine: String!) {\n    containerUpdated(engines: [$engine]) {\n      kind\n      action\n      containerId\n      reason\n      container { ...DashboardContainer }\n    }\n  }\n": types.DashboardContainerUpdatesDocument,
    "\n  subscription DashboardStats($engine: String!, $ids: [String!]!) {\n    containerStats(engine: $engine, ids: $ids) {\n      containerId\n      stats { cpuPercent memoryUsageBytes memoryLimitBytes memoryPercent }\n    }\n  }\n": types.DashboardStatsDocument,
    "\n  query DashboardContainerDetails($id: ID!) {\n    node(id: $id) {\n      __typename\n      ... on Container {\n      ...DashboardContainer\n      command\n      platform\n      restartCount\n      exitCode\n      error\n      finishedAt\n      oomKilled\n      image { tags shortId }\n      config { cmd entrypoint workingDir user hostname env { name value redacted } }\n      hostConfig { networkMode privileged memoryBytes restartPolicy { name } }\n      mounts { type source destination readWrite volume { name } }\n      networks { networkName ipAddress gateway macAddress }\n      }\n    }\n  }\n": types.DashboardContainerDetailsDocument,
    "\n  subscription DashboardLogs($engine: String!, $id: String!, $tail: Int) {\n    containerLogs(engine: $engine, id: $id, tail: $tail) {\n      dropped\n      line { stream message time }\n    }\n  }\n": types.DashboardLogsDocument,
    "\n  mutation DashboardStart($id: String!) {\n    startContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": types.DashboardStartDocument,
    "\n  mutation DashboardStop($id: String!) {\n    stopContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": types.DashboardStopDocument,
    "\n  mutation DashboardRestart($id: String!) {\n    restartContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": types.DashboardRestartDocument,
    "\n  mutation DashboardPause($id: String!) {\n    pauseContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": types.DashboardPauseDocument,
    "\n  mutation DashboardUnpause($id: String!) {\n    unpauseContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n": types.DashboardUnpauseDocument,
    "\n  mutation DashboardRemove($id: String!) {\n    removeContainer(id: $id, force: true) { __typename ... on MutationError { message } }\n  }\n": types.DashboardRemoveDocument,
    "\n  query DashboardImages($engines: [String!]) {\n    images(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          dockerId\n          shortId\n          tags\n          sizeBytes\n          created\n          containers { name }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n": types.DashboardImagesDocument,
    "\n  query DashboardVolumes($engines: [String!]) {\n    volumes(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          name\n          driver\n          createdAt\n          usage { sizeBytes refCount }\n          containers { name }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n": types.DashboardVolumesDocument,
    "\n  query DashboardNetworks($engines: [String!]) {\n    networks(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          dockerId\n          name\n          driver\n          scope\n          internal\n          containers { container { name } }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n": types.DashboardNetworksDocument,
    "\n  mutation DashboardRemoveImage($reference: String!) {\n    removeImage(reference: $reference) { __typename ... on MutationError { message } }\n  }\n": types.DashboardRemoveImageDocument,
    "\n  mutation DashboardRemoveVolume($name: String!) {\n    removeVolume(name: $name) { __typename ... on MutationError { message } }\n  }\n": types.DashboardRemoveVolumeDocument,
    "\n  mutation DashboardRemoveNetwork($id: String!) {\n    removeNetwork(id: $id) { __typename ... on MutationError { message } }\n  }\n": types.DashboardRemoveNetworkDocument,
    "\n  mutation DashboardPruneImages($engine: String!) {\n    pruneImages(engine: $engine) {\n      __typename\n      ... on PruneImagesPayload { spaceReclaimedBytes imagesDeleted }\n      ... on MutationError { message }\n    }\n  }\n": types.DashboardPruneImagesDocument,
    "\n  mutation DashboardPruneVolumes($engine: String!) {\n    pruneVolumes(engine: $engine) {\n      __typename\n      ... on PruneVolumesPayload { spaceReclaimedBytes volumesDeleted }\n      ... on MutationError { message }\n    }\n  }\n": types.DashboardPruneVolumesDocument,
    "\n  mutation DashboardPruneNetworks($engine: String!) {\n    pruneNetworks(engine: $engine) {\n      __typename\n      ... on PruneNetworksPayload { networksDeleted }\n      ... on MutationError { message }\n    }\n  }\n": types.DashboardPruneNetworksDocument,
    "\n  query DashboardEngine($name: String!) {\n    engine(name: $name) {\n      name\n      version { version apiVersion os arch }\n      info {\n        name\n        serverVersion\n        operatingSystem\n        kernelVersion\n        cpus\n        memoryBytes\n        driver\n        images\n        warnings\n        containers { total running paused stopped }\n      }\n      diskUsage {\n        layersSizeBytes\n        images { count active sizeBytes reclaimableBytes }\n        containers { count active sizeBytes reclaimableBytes }\n        volumes { count active sizeBytes reclaimableBytes }\n        buildCache { count active sizeBytes reclaimableBytes }\n      }\n    }\n  }\n": types.DashboardEngineDocument,
    "\n  subscription DashboardEvents($engines: [String!], $since: DateTime) {\n    events(engines: $engines, since: $since) {\n      engine { name }\n      kind\n      reason\n      event { time timeNano type action actor { id attributes { name value } } }\n    }\n  }\n": types.DashboardEventsDocument,
    "\n  query DashboardEngines {\n    engines { name reachable lastError labels { name value } }\n  }\n": types.DashboardEnginesDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardViewer {\n    viewer {\n      tokenId\n      role\n      permissions\n      readOnly\n      pruneContainers: can(operation: \"pruneContainers\")\n      pruneImages: can(operation: \"pruneImages\")\n      pruneVolumes: can(operation: \"pruneVolumes\")\n      pruneNetworks: can(operation: \"pruneNetworks\")\n    }\n  }\n"): (typeof documents)["\n  query DashboardViewer {\n    viewer {\n      tokenId\n      role\n      permissions\n      readOnly\n      pruneContainers: can(operation: \"pruneContainers\")\n      pruneImages: can(operation: \"pruneImages\")\n      pruneVolumes: can(operation: \"pruneVolumes\")\n      pruneNetworks: can(operation: \"pruneNetworks\")\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DashboardContainer on Container {\n    id\n    engine { name }\n    dockerId\n    shortId\n    name\n    state\n    status\n    health { status }\n    imageReference\n    created\n    startedAt\n    ports { privatePort publicPort protocol hostIp }\n    labels { name value }\n    compose { project service }\n    viewerCan { start stop restart pause unpause remove logs exec }\n  }\n"): (typeof documents)["\n  fragment DashboardContainer on Container {\n    id\n    engine { name }\n    dockerId\n    shortId\n    name\n    state\n    status\n    health { status }\n    imageReference\n    created\n    startedAt\n    ports { privatePort publicPort protocol hostIp }\n    labels { name value }\n    compose { project service }\n    viewerCan { start stop restart pause unpause remove logs exec }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardContainers($engines: [String!]) {\n    containers(first: 200, engines: $engines) {\n      totalCount\n      edges { node { ...DashboardContainer } }\n    }\n  }\n"): (typeof documents)["\n  query DashboardContainers($engines: [String!]) {\n    containers(first: 200, engines: $engines) {\n      totalCount\n      edges { node { ...DashboardContainer } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardContainerUpdates($engine: String!) {\n    containerUpdated(engines: [$engine]) {\n      kind\n      action\n      containerId\n      reason\n      container { ...DashboardContainer }\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardContainerUpdates($engine: String!) {\n    containerUpdated(engines: [$engine]) {\n      kind\n      action\n      containerId\n      reason\n      container { ...DashboardContainer }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardStats($engine: String!, $ids: [String!]!) {\n    containerStats(engine: $engine, ids: $ids) {\n      containerId\n      stats { cpuPercent memoryUsageBytes memoryLimitBytes memoryPercent }\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardStats($engine: String!, $ids: [String!]!) {\n    containerStats(engine: $engine, ids: $ids) {\n      containerId\n      stats { cpuPercent memoryUsageBytes memoryLimitBytes memoryPercent }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardContainerDetails($id: ID!) {\n    node(id: $id) {\n      __typename\n      ... on Container {\n      ...DashboardContainer\n      command\n      platform\n      restartCount\n      exitCode\n      error\n      finishedAt\n      oomKilled\n      image { tags shortId }\n      config { cmd entrypoint workingDir user hostname env { name value redacted } }\n      hostConfig { networkMode privileged memoryBytes restartPolicy { name } }\n      mounts { type source destination readWrite volume { name } }\n      networks { networkName ipAddress gateway macAddress }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardContainerDetails($id: ID!) {\n    node(id: $id) {\n      __typename\n      ... on Container {\n      ...DashboardContainer\n      command\n      platform\n      restartCount\n      exitCode\n      error\n      finishedAt\n      oomKilled\n      image { tags shortId }\n      config { cmd entrypoint workingDir user hostname env { name value redacted } }\n      hostConfig { networkMode privileged memoryBytes restartPolicy { name } }\n      mounts { type source destination readWrite volume { name } }\n      networks { networkName ipAddress gateway macAddress }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardLogs($engine: String!, $id: String!, $tail: Int) {\n    containerLogs(engine: $engine, id: $id, tail: $tail) {\n      dropped\n      line { stream message time }\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardLogs($engine: String!, $id: String!, $tail: Int) {\n    containerLogs(engine: $engine, id: $id, tail: $tail) {\n      dropped\n      line { stream message time }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardStart($id: String!) {\n    startContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardStart($id: String!) {\n    startContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardStop($id: String!) {\n    stopContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardStop($id: String!) {\n    stopContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardRestart($id: String!) {\n    restartContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardRestart($id: String!) {\n    restartContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardPause($id: String!) {\n    pauseContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardPause($id: String!) {\n    pauseContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardUnpause($id: String!) {\n    unpauseContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardUnpause($id: String!) {\n    unpauseContainer(id: $id) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardRemove($id: String!) {\n    removeContainer(id: $id, force: true) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardRemove($id: String!) {\n    removeContainer(id: $id, force: true) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardImages($engines: [String!]) {\n    images(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          dockerId\n          shortId\n          tags\n          sizeBytes\n          created\n          containers { name }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardImages($engines: [String!]) {\n    images(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          dockerId\n          shortId\n          tags\n          sizeBytes\n          created\n          containers { name }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardVolumes($engines: [String!]) {\n    volumes(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          name\n          driver\n          createdAt\n          usage { sizeBytes refCount }\n          containers { name }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardVolumes($engines: [String!]) {\n    volumes(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          name\n          driver\n          createdAt\n          usage { sizeBytes refCount }\n          containers { name }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardNetworks($engines: [String!]) {\n    networks(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          dockerId\n          name\n          driver\n          scope\n          internal\n          containers { container { name } }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardNetworks($engines: [String!]) {\n    networks(first: 100, engines: $engines) {\n      edges {\n        node {\n          id\n          engine { name }\n          dockerId\n          name\n          driver\n          scope\n          internal\n          containers { container { name } }\n          viewerCan { remove }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardRemoveImage($reference: String!) {\n    removeImage(reference: $reference) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardRemoveImage($reference: String!) {\n    removeImage(reference: $reference) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardRemoveVolume($name: String!) {\n    removeVolume(name: $name) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardRemoveVolume($name: String!) {\n    removeVolume(name: $name) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardRemoveNetwork($id: String!) {\n    removeNetwork(id: $id) { __typename ... on MutationError { message } }\n  }\n"): (typeof documents)["\n  mutation DashboardRemoveNetwork($id: String!) {\n    removeNetwork(id: $id) { __typename ... on MutationError { message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardPruneImages($engine: String!) {\n    pruneImages(engine: $engine) {\n      __typename\n      ... on PruneImagesPayload { spaceReclaimedBytes imagesDeleted }\n      ... on MutationError { message }\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardPruneImages($engine: String!) {\n    pruneImages(engine: $engine) {\n      __typename\n      ... on PruneImagesPayload { spaceReclaimedBytes imagesDeleted }\n      ... on MutationError { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardPruneVolumes($engine: String!) {\n    pruneVolumes(engine: $engine) {\n      __typename\n      ... on PruneVolumesPayload { spaceReclaimedBytes volumesDeleted }\n      ... on MutationError { message }\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardPruneVolumes($engine: String!) {\n    pruneVolumes(engine: $engine) {\n      __typename\n      ... on PruneVolumesPayload { spaceReclaimedBytes volumesDeleted }\n      ... on MutationError { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardPruneNetworks($engine: String!) {\n    pruneNetworks(engine: $engine) {\n      __typename\n      ... on PruneNetworksPayload { networksDeleted }\n      ... on MutationError { message }\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardPruneNetworks($engine: String!) {\n    pruneNetworks(engine: $engine) {\n      __typename\n      ... on PruneNetworksPayload { networksDeleted }\n      ... on MutationError { message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardEngine($name: String!) {\n    engine(name: $name) {\n      name\n      version { version apiVersion os arch }\n      info {\n        name\n        serverVersion\n        operatingSystem\n        kernelVersion\n        cpus\n        memoryBytes\n        driver\n        images\n        warnings\n        containers { total running paused stopped }\n      }\n      diskUsage {\n        layersSizeBytes\n        images { count active sizeBytes reclaimableBytes }\n        containers { count active sizeBytes reclaimableBytes }\n        volumes { count active sizeBytes reclaimableBytes }\n        buildCache { count active sizeBytes reclaimableBytes }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardEngine($name: String!) {\n    engine(name: $name) {\n      name\n      version { version apiVersion os arch }\n      info {\n        name\n        serverVersion\n        operatingSystem\n        kernelVersion\n        cpus\n        memoryBytes\n        driver\n        images\n        warnings\n        containers { total running paused stopped }\n      }\n      diskUsage {\n        layersSizeBytes\n        images { count active sizeBytes reclaimableBytes }\n        containers { count active sizeBytes reclaimableBytes }\n        volumes { count active sizeBytes reclaimableBytes }\n        buildCache { count active sizeBytes reclaimableBytes }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardEvents($engines: [String!], $since: DateTime) {\n    events(engines: $engines, since: $since) {\n      engine { name }\n      kind\n      reason\n      event { time timeNano type action actor { id attributes { name value } } }\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardEvents($engines: [String!], $since: DateTime) {\n    events(engines: $engines, since: $since) {\n      engine { name }\n      kind\n      reason\n      event { time timeNano type action actor { id attributes { name value } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardEngines {\n    engines { name reachable lastError labels { name value } }\n  }\n"): (typeof documents)["\n  query DashboardEngines {\n    engines { name reachable lastError labels { name value } }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
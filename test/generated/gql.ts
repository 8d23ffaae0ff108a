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
    "query ContainerLogs($idOrName: String!, $tail: Int = 50) {\n  container(idOrName: $idOrName) {\n    name\n    state\n    exitCode\n    logs(tail: $tail) {\n      truncated\n      lines {\n        stream\n        time\n        message\n      }\n    }\n  }\n}": typeof types.ContainerLogsDocument,
    "query DiskUsage {\n  engine {\n    diskUsage {\n      images {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n      containers {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n      volumes {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n    }\n  }\n  volumes(filter: {dangling: true}) {\n    edges {\n      node {\n        name\n        usage {\n          sizeBytes\n        }\n      }\n    }\n  }\n}": typeof types.DiskUsageDocument,
    "query Overview {\n  engine {\n    version {\n      version\n      apiVersion\n      negotiatedApiVersion\n    }\n    info {\n      name\n      containers {\n        total\n        running\n      }\n    }\n  }\n  containers(first: 20) {\n    totalCount\n    edges {\n      node {\n        id\n        name\n        state\n        status\n        image {\n          tags\n        }\n        ports {\n          privatePort\n          publicPort\n          protocol\n        }\n        networks {\n          networkName\n          ipAddress\n        }\n        mounts {\n          type\n          destination\n          volume {\n            name\n          }\n        }\n      }\n    }\n  }\n}": typeof types.OverviewDocument,
    "query ProjectStats($project: String!) {\n  containers(filter: {composeProject: $project, states: [RUNNING]}) {\n    edges {\n      node {\n        name\n        compose {\n          service\n        }\n        stats {\n          cpuPercent\n          memoryUsageBytes\n          memoryLimitBytes\n          networkRxBytes\n          networkTxBytes\n        }\n      }\n    }\n  }\n}": typeof types.ProjectStatsDocument,
    "\n  query EngineFacts {\n    engine {\n      name\n      ping { apiVersion negotiatedApiVersion osType experimental kind podmanApiVersion builderVersion }\n      version {\n        version apiVersion minApiVersion negotiatedApiVersion gitCommit goVersion os arch kernelVersion\n        components { name version details { name value } }\n      }\n      info {\n        id name serverVersion images driver dockerRootDir cpus memoryBytes operatingSystem osType\n        architecture kernelVersion cgroupVersion loggingDriver defaultRuntime warnings\n        containers { total running paused stopped }\n        swarm { localNodeState nodeId controlAvailable }\n      }\n    }\n  }\n": typeof types.EngineFactsDocument,
    "\n  query EngineDiskUsage {\n    engine {\n      diskUsage {\n        layersSizeBytes\n        images { count active sizeBytes reclaimableBytes }\n        containers { count active sizeBytes reclaimableBytes }\n        volumes { count active sizeBytes reclaimableBytes }\n        buildCache { count active sizeBytes reclaimableBytes }\n      }\n    }\n  }\n": typeof types.EngineDiskUsageDocument,
};
const documents: Documents = {
    "query ContainerLogs($idOrName: String!, $tail: Int = 50) {\n  container(idOrName: $idOrName) {\n    name\n    state\n    exitCode\n    logs(tail: $tail) {\n      truncated\n      lines {\n        stream\n        time\n        message\n      }\n    }\n  }\n}": types.ContainerLogsDocument,
    "query DiskUsage {\n  engine {\n    diskUsage {\n      images {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n      containers {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n      volumes {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n    }\n  }\n  volumes(filter: {dangling: true}) {\n    edges {\n      node {\n        name\n        usage {\n          sizeBytes\n        }\n      }\n    }\n  }\n}": types.DiskUsageDocument,
    "query Overview {\n  engine {\n    version {\n      version\n      apiVersion\n      negotiatedApiVersion\n    }\n    info {\n      name\n      containers {\n        total\n        running\n      }\n    }\n  }\n  containers(first: 20) {\n    totalCount\n    edges {\n      node {\n        id\n        name\n        state\n        status\n        image {\n          tags\n        }\n        ports {\n          privatePort\n          publicPort\n          protocol\n        }\n        networks {\n          networkName\n          ipAddress\n        }\n        mounts {\n          type\n          destination\n          volume {\n            name\n          }\n        }\n      }\n    }\n  }\n}": types.OverviewDocument,
    "query ProjectStats($project: String!) {\n  containers(filter: {composeProject: $project, states: [RUNNING]}) {\n    edges {\n      node {\n        name\n        compose {\n          service\n        }\n        stats {\n          cpuPercent\n          memoryUsageBytes\n          memoryLimitBytes\n          networkRxBytes\n          networkTxBytes\n        }\n      }\n    }\n  }\n}": types.ProjectStatsDocument,
    "\n  query EngineFacts {\n    engine {\n      name\n      ping { apiVersion negotiatedApiVersion osType experimental kind podmanApiVersion builderVersion }\n      version {\n        version apiVersion minApiVersion negotiatedApiVersion gitCommit goVersion os arch kernelVersion\n        components { name version details { name value } }\n      }\n      info {\n        id name serverVersion images driver dockerRootDir cpus memoryBytes operatingSystem osType\n        architecture kernelVersion cgroupVersion loggingDriver defaultRuntime warnings\n        containers { total running paused stopped }\n        swarm { localNodeState nodeId controlAvailable }\n      }\n    }\n  }\n": types.EngineFactsDocument,
    "\n  query EngineDiskUsage {\n    engine {\n      diskUsage {\n        layersSizeBytes\n        images { count active sizeBytes reclaimableBytes }\n        containers { count active sizeBytes reclaimableBytes }\n        volumes { count active sizeBytes reclaimableBytes }\n        buildCache { count active sizeBytes reclaimableBytes }\n      }\n    }\n  }\n": types.EngineDiskUsageDocument,
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
export function graphql(source: "query ContainerLogs($idOrName: String!, $tail: Int = 50) {\n  container(idOrName: $idOrName) {\n    name\n    state\n    exitCode\n    logs(tail: $tail) {\n      truncated\n      lines {\n        stream\n        time\n        message\n      }\n    }\n  }\n}"): (typeof documents)["query ContainerLogs($idOrName: String!, $tail: Int = 50) {\n  container(idOrName: $idOrName) {\n    name\n    state\n    exitCode\n    logs(tail: $tail) {\n      truncated\n      lines {\n        stream\n        time\n        message\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query DiskUsage {\n  engine {\n    diskUsage {\n      images {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n      containers {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n      volumes {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n    }\n  }\n  volumes(filter: {dangling: true}) {\n    edges {\n      node {\n        name\n        usage {\n          sizeBytes\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query DiskUsage {\n  engine {\n    diskUsage {\n      images {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n      containers {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n      volumes {\n        count\n        sizeBytes\n        reclaimableBytes\n      }\n    }\n  }\n  volumes(filter: {dangling: true}) {\n    edges {\n      node {\n        name\n        usage {\n          sizeBytes\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Overview {\n  engine {\n    version {\n      version\n      apiVersion\n      negotiatedApiVersion\n    }\n    info {\n      name\n      containers {\n        total\n        running\n      }\n    }\n  }\n  containers(first: 20) {\n    totalCount\n    edges {\n      node {\n        id\n        name\n        state\n        status\n        image {\n          tags\n        }\n        ports {\n          privatePort\n          publicPort\n          protocol\n        }\n        networks {\n          networkName\n          ipAddress\n        }\n        mounts {\n          type\n          destination\n          volume {\n            name\n          }\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query Overview {\n  engine {\n    version {\n      version\n      apiVersion\n      negotiatedApiVersion\n    }\n    info {\n      name\n      containers {\n        total\n        running\n      }\n    }\n  }\n  containers(first: 20) {\n    totalCount\n    edges {\n      node {\n        id\n        name\n        state\n        status\n        image {\n          tags\n        }\n        ports {\n          privatePort\n          publicPort\n          protocol\n        }\n        networks {\n          networkName\n          ipAddress\n        }\n        mounts {\n          type\n          destination\n          volume {\n            name\n          }\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ProjectStats($project: String!) {\n  containers(filter: {composeProject: $project, states: [RUNNING]}) {\n    edges {\n      node {\n        name\n        compose {\n          service\n        }\n        stats {\n          cpuPercent\n          memoryUsageBytes\n          memoryLimitBytes\n          networkRxBytes\n          networkTxBytes\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query ProjectStats($project: String!) {\n  containers(filter: {composeProject: $project, states: [RUNNING]}) {\n    edges {\n      node {\n        name\n        compose {\n          service\n        }\n        stats {\n          cpuPercent\n          memoryUsageBytes\n          memoryLimitBytes\n          networkRxBytes\n          networkTxBytes\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EngineFacts {\n    engine {\n      name\n      ping { apiVersion negotiatedApiVersion osType experimental kind podmanApiVersion builderVersion }\n      version {\n        version apiVersion minApiVersion negotiatedApiVersion gitCommit goVersion os arch kernelVersion\n        components { name version details { name value } }\n      }\n      info {\n        id name serverVersion images driver dockerRootDir cpus memoryBytes operatingSystem osType\n        architecture kernelVersion cgroupVersion loggingDriver defaultRuntime warnings\n        containers { total running paused stopped }\n        swarm { localNodeState nodeId controlAvailable }\n      }\n    }\n  }\n"): (typeof documents)["\n  query EngineFacts {\n    engine {\n      name\n      ping { apiVersion negotiatedApiVersion osType experimental kind podmanApiVersion builderVersion }\n      version {\n        version apiVersion minApiVersion negotiatedApiVersion gitCommit goVersion os arch kernelVersion\n        components { name version details { name value } }\n      }\n      info {\n        id name serverVersion images driver dockerRootDir cpus memoryBytes operatingSystem osType\n        architecture kernelVersion cgroupVersion loggingDriver defaultRuntime warnings\n        containers { total running paused stopped }\n        swarm { localNodeState nodeId controlAvailable }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EngineDiskUsage {\n    engine {\n      diskUsage {\n        layersSizeBytes\n        images { count active sizeBytes reclaimableBytes }\n        containers { count active sizeBytes reclaimableBytes }\n        volumes { count active sizeBytes reclaimableBytes }\n        buildCache { count active sizeBytes reclaimableBytes }\n      }\n    }\n  }\n"): (typeof documents)["\n  query EngineDiskUsage {\n    engine {\n      diskUsage {\n        layersSizeBytes\n        images { count active sizeBytes reclaimableBytes }\n        containers { count active sizeBytes reclaimableBytes }\n        volumes { count active sizeBytes reclaimableBytes }\n        buildCache { count active sizeBytes reclaimableBytes }\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
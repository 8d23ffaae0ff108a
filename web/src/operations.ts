// Every operation of the dashboard, typed by codegen (web/src/generated) from the schema.
import { graphql } from './generated/gql.ts';

export const ViewerQuery = graphql(`
  query DashboardViewer {
    viewer {
      tokenId
      role
      permissions
      readOnly
      pruneContainers: can(operation: "pruneContainers")
      pruneImages: can(operation: "pruneImages")
      pruneVolumes: can(operation: "pruneVolumes")
      pruneNetworks: can(operation: "pruneNetworks")
    }
  }
`);

export const ContainerFields = graphql(`
  fragment DashboardContainer on Container {
    id
    engine { name }
    dockerId
    shortId
    name
    state
    status
    health { status }
    imageReference
    created
    startedAt
    ports { privatePort publicPort protocol hostIp }
    labels { name value }
    compose { project service }
    viewerCan { start stop restart pause unpause remove logs exec }
  }
`);

export const ContainersQuery = graphql(`
  query DashboardContainers($engines: [String!]) {
    containers(first: 200, engines: $engines) {
      totalCount
      edges { node { ...DashboardContainer } }
    }
  }
`);

export const ContainerUpdates = graphql(`
  subscription DashboardContainerUpdates($engine: String!) {
    containerUpdated(engines: [$engine]) {
      kind
      action
      containerId
      reason
      container { ...DashboardContainer }
    }
  }
`);

export const StatsSubscription = graphql(`
  subscription DashboardStats($engine: String!, $ids: [String!]!) {
    containerStats(engine: $engine, ids: $ids) {
      containerId
      stats { cpuPercent memoryUsageBytes memoryLimitBytes memoryPercent }
    }
  }
`);

export const ContainerDetailsQuery = graphql(`
  query DashboardContainerDetails($id: ID!) {
    node(id: $id) {
      __typename
      ... on Container {
      ...DashboardContainer
      command
      platform
      restartCount
      exitCode
      error
      finishedAt
      oomKilled
      image { tags shortId }
      config { cmd entrypoint workingDir user hostname env { name value redacted } }
      hostConfig { networkMode privileged memoryBytes restartPolicy { name } }
      mounts { type source destination readWrite volume { name } }
      networks { networkName ipAddress gateway macAddress }
      }
    }
  }
`);

export const LogsSubscription = graphql(`
  subscription DashboardLogs($engine: String!, $id: String!, $tail: Int) {
    containerLogs(engine: $engine, id: $id, tail: $tail) {
      dropped
      line { stream message time }
    }
  }
`);

export const StartContainer = graphql(`
  mutation DashboardStart($id: String!) {
    startContainer(id: $id) { __typename ... on MutationError { message } }
  }
`);
export const StopContainer = graphql(`
  mutation DashboardStop($id: String!) {
    stopContainer(id: $id) { __typename ... on MutationError { message } }
  }
`);
export const RestartContainer = graphql(`
  mutation DashboardRestart($id: String!) {
    restartContainer(id: $id) { __typename ... on MutationError { message } }
  }
`);
export const PauseContainer = graphql(`
  mutation DashboardPause($id: String!) {
    pauseContainer(id: $id) { __typename ... on MutationError { message } }
  }
`);
export const UnpauseContainer = graphql(`
  mutation DashboardUnpause($id: String!) {
    unpauseContainer(id: $id) { __typename ... on MutationError { message } }
  }
`);
export const RemoveContainer = graphql(`
  mutation DashboardRemove($id: String!) {
    removeContainer(id: $id, force: true) { __typename ... on MutationError { message } }
  }
`);

export const ImagesQuery = graphql(`
  query DashboardImages($engines: [String!]) {
    images(first: 100, engines: $engines) {
      edges {
        node {
          id
          engine { name }
          dockerId
          shortId
          tags
          sizeBytes
          created
          containers { name }
          viewerCan { remove }
        }
      }
    }
  }
`);

export const VolumesQuery = graphql(`
  query DashboardVolumes($engines: [String!]) {
    volumes(first: 100, engines: $engines) {
      edges {
        node {
          id
          engine { name }
          name
          driver
          createdAt
          usage { sizeBytes refCount }
          containers { name }
          viewerCan { remove }
        }
      }
    }
  }
`);

export const NetworksQuery = graphql(`
  query DashboardNetworks($engines: [String!]) {
    networks(first: 100, engines: $engines) {
      edges {
        node {
          id
          engine { name }
          dockerId
          name
          driver
          scope
          internal
          containers { container { name } }
          viewerCan { remove }
        }
      }
    }
  }
`);

export const RemoveImage = graphql(`
  mutation DashboardRemoveImage($reference: String!) {
    removeImage(reference: $reference) { __typename ... on MutationError { message } }
  }
`);
export const RemoveVolume = graphql(`
  mutation DashboardRemoveVolume($name: String!) {
    removeVolume(name: $name) { __typename ... on MutationError { message } }
  }
`);
export const RemoveNetwork = graphql(`
  mutation DashboardRemoveNetwork($id: String!) {
    removeNetwork(id: $id) { __typename ... on MutationError { message } }
  }
`);
export const PruneImages = graphql(`
  mutation DashboardPruneImages($engine: String!) {
    pruneImages(engine: $engine) {
      __typename
      ... on PruneImagesPayload { spaceReclaimedBytes imagesDeleted }
      ... on MutationError { message }
    }
  }
`);
export const PruneVolumes = graphql(`
  mutation DashboardPruneVolumes($engine: String!) {
    pruneVolumes(engine: $engine) {
      __typename
      ... on PruneVolumesPayload { spaceReclaimedBytes volumesDeleted }
      ... on MutationError { message }
    }
  }
`);
export const PruneNetworks = graphql(`
  mutation DashboardPruneNetworks($engine: String!) {
    pruneNetworks(engine: $engine) {
      __typename
      ... on PruneNetworksPayload { networksDeleted }
      ... on MutationError { message }
    }
  }
`);

export const EngineQuery = graphql(`
  query DashboardEngine($name: String!) {
    engine(name: $name) {
      name
      version { version apiVersion os arch }
      info {
        name
        serverVersion
        operatingSystem
        kernelVersion
        cpus
        memoryBytes
        driver
        images
        warnings
        containers { total running paused stopped }
      }
      diskUsage {
        layersSizeBytes
        images { count active sizeBytes reclaimableBytes }
        containers { count active sizeBytes reclaimableBytes }
        volumes { count active sizeBytes reclaimableBytes }
        buildCache { count active sizeBytes reclaimableBytes }
      }
    }
  }
`);

export const EventsSubscription = graphql(`
  subscription DashboardEvents($engines: [String!], $since: DateTime) {
    events(engines: $engines, since: $since) {
      engine { name }
      kind
      reason
      event { time timeNano type action actor { id attributes { name value } } }
    }
  }
`);

export const EnginesQuery = graphql(`
  query DashboardEngines {
    engines { name reachable lastError labels { name value } }
  }
`);

// The fields of a container's config that both its create input and its image set, read by the
// tests of containers and of images alike.
import { graphql } from '../generated/gql.ts';

// Spread into operations of other files; codegen adds its definition to each of them.
graphql(`
  fragment ContainerConfigProcess on ContainerConfig {
    env { name value }
    workingDir
    user
    hostname
    domainname
    tty
    openStdin
    exposedPorts { port protocol }
  }
`);

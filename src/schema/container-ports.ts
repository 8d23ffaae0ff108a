import { PortProtocolEnum, protocolOf } from './container-enums.ts';
import { ContainerPortRef } from './refs.ts';

ContainerPortRef.implement({
  description: 'A port of a container, and the host address it is published on if any.',
  fields: (t) => ({
    privatePort: t.exposeInt('privatePort', { description: 'Port inside the container.' }),
    protocol: t.field({
      type: PortProtocolEnum,
      description: 'Transport protocol.',
      resolve: (p) => protocolOf(p.protocol),
    }),
    publicPort: t.exposeInt('publicPort', {
      nullable: true,
      description: 'Host port it is published on; null when not published.',
    }),
    hostIp: t.exposeString('hostIp', {
      nullable: true,
      description: 'Host address it is published on, e.g. "0.0.0.0" or "::".',
    }),
  }),
});

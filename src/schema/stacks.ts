import { compareText } from '../compare-text.ts';
import { builder } from './builder.ts';
import { paginate } from './pagination.ts';
import {
  ConfigRef,
  NetworkRef,
  SecretRef,
  ServiceRef,
  STACK_NAMESPACE_LABEL,
  StackRef,
} from './refs.ts';

StackRef.implement({
  description: `A stack (\`docker stack deploy\`): the services, networks, secrets and configs carrying the label ${STACK_NAMESPACE_LABEL} with its name.`,
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Its name (the namespace).' }),
    services: t.field({
      type: [ServiceRef],
      description: 'Its services, by name.',
      resolve: async ({ engine, name }, _args, context) =>
        (await context.loaders.swarm.services())
          .filter((service) => service.Spec.Labels?.[STACK_NAMESPACE_LABEL] === name)
          .sort((a, b) => compareText(a.Spec.Name ?? '', b.Spec.Name ?? ''))
          .map((service) => ({ engine, service })),
    }),
    networks: t.field({
      type: [NetworkRef],
      description: 'Its networks.',
      resolve: async ({ engine, name }, _args, context) =>
        (await context.loaders.networks.all())
          .filter((network) => network.Labels?.[STACK_NAMESPACE_LABEL] === name)
          .map((network) => ({ engine, network })),
    }),
    secrets: t.field({
      type: [SecretRef],
      description: 'Its secrets.',
      resolve: async ({ engine, name }, _args, context) =>
        (await context.loaders.swarm.secrets.all())
          .filter((blob) => blob.Spec.Labels?.[STACK_NAMESPACE_LABEL] === name)
          .map((blob) => ({ engine, kind: 'secret' as const, blob })),
    }),
    configs: t.field({
      type: [ConfigRef],
      description: 'Its configs.',
      resolve: async ({ engine, name }, _args, context) =>
        (await context.loaders.swarm.configs.all())
          .filter((blob) => blob.Spec.Labels?.[STACK_NAMESPACE_LABEL] === name)
          .map((blob) => ({ engine, kind: 'config' as const, blob })),
    }),
  }),
});

builder.queryFields((t) => ({
  stacks: t.connection(
    {
      type: StackRef,
      description: 'Stacks of the swarm this engine manages (from its services’ labels), by name.',
      resolve: async (_root, args, context) => {
        const services = await context.loaders.swarm.services();
        const names = new Set(
          services.flatMap((service) => {
            const name = service.Spec.Labels?.[STACK_NAMESPACE_LABEL];
            return name === undefined ? [] : [name];
          }),
        );
        return paginate(
          [...names].map((name) => ({ engine: context.engineName, name })),
          args,
          ({ name }) => name,
        );
      },
    },
    { name: 'StackConnection', description: 'A page of stacks.' },
    { name: 'StackEdge', description: 'A stack and its cursor.' },
  ),
}));

import type { EnginePlugin } from '../docker/plugins.ts';
import { inspectPlugin, listPlugins } from '../docker/plugins.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';

/**
 * Engine plugins (volume, network, authorisation and log drivers installed with
 * `docker plugin install`): read only. Their settings (environment, mounts,
 * devices) are not shown: they may hold credentials.
 *
 * @module
 */

const PluginRef = builder.objectRef<EnginePlugin>('EnginePlugin').implement({
  description: 'A plugin installed on the engine (`docker plugin ls`).',
  fields: (t) => ({
    dockerId: t.string({
      nullable: true,
      description: 'The engine id of the plugin; null when the engine gave none.',
      resolve: (plugin) => plugin.Id ?? null,
    }),
    name: t.exposeString('Name', { description: 'Its name, e.g. "vieux/sshfs:latest".' }),
    enabled: t.exposeBoolean('Enabled', { description: 'Whether the engine uses it.' }),
    reference: t.string({
      nullable: true,
      description: 'The reference it was installed from; null when unknown.',
      resolve: (plugin) => plugin.PluginReference || null,
    }),
    description: t.string({
      description: 'What it does, in its author’s words.',
      resolve: (plugin) => plugin.Config.Description ?? '',
    }),
    capabilities: t.stringList({
      description:
        'What it provides, as "prefix.capability/version", e.g. "docker.volumedriver/1.0".',
      resolve: (plugin) =>
        (plugin.Config.Interface?.Types ?? []).map(
          (type) => `${type.Prefix}.${type.Capability}/${type.Version}`,
        ),
    }),
  }),
});

builder.queryFields((t) => ({
  plugins: t.field({
    type: [PluginRef],
    description: 'The plugins installed on the engine (`GET /plugins`).',
    resolve: (_root, _args, context) => listPlugins(context.docker),
  }),
  plugin: t.field({
    type: PluginRef,
    nullable: true,
    description:
      'One plugin by name or id (`GET /plugins/{name}/json`); null when the engine has none by that name.',
    args: {
      name: t.arg.string({
        required: true,
        description: 'Its name ("vieux/sshfs:latest"; ":latest" may be left out) or id.',
      }),
    },
    resolve: (_root, { name }, context) => {
      if (name.trim() === '') throw invalidArgument('name', 'must not be empty');
      return inspectPlugin(context.docker, name);
    },
  }),
}));

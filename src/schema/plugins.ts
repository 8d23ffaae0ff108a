import type { GraphQLContext } from '../context.ts';
import { EngineNotFoundError, InvalidInputError } from '../docker/errors.ts';
import { checkImageReference, checkTagReference } from '../docker/image-reference.ts';
import { type GrantedPrivilege, privilegeMismatch } from '../docker/plugin-privileges.ts';
import type { EnginePlugin, PluginPrivilege } from '../docker/plugins.ts';
import {
  configurePlugin,
  disablePlugin,
  enablePlugin,
  inspectPlugin,
  installPlugin,
  listPlugins,
  readPluginPrivileges,
  removePlugin,
  upgradePlugin,
} from '../docker/plugins.ts';
import type { RegistryCredentials } from '../docker/registry-auth.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { mutationErrors, registryMutationErrors } from './mutation-errors.ts';
import { registryAuthArg, toRegistryCredentials } from './shared.ts';

/**
 * Engine plugins (volume, network, authorisation and log drivers installed with
 * `docker plugin install`): listed and read by `read` tokens; installed, enabled,
 * disabled, configured, upgraded and removed with the `dangerous` permission only,
 * since a plugin runs as root with the privileges it asks for. Their settings
 * (environment, mounts, devices) are not shown: they may hold credentials.
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
        (plugin.Config.Interface?.Types ?? []).map((type) =>
          typeof type === 'string' ? type : `${type.Prefix}.${type.Capability}/${type.Version}`,
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

// ---------------------------------------------------------------------------------------------
// Writes

const PluginPrivilegeRef = builder.objectRef<PluginPrivilege>('PluginPrivilege').implement({
  description:
    'One permission a plugin asks for, e.g. `network` `["host"]`, `mount` `["/data"]`, `device` `["/dev/fuse"]`, `capabilities` `["CAP_SYS_ADMIN"]`.',
  fields: (t) => ({
    name: t.exposeString('Name', {
      description: 'The kind of permission: "network", "mount", "device", "capabilities", …',
    }),
    description: t.string({
      description: 'What it allows, in the engine’s words; empty when it gave none.',
      resolve: (privilege) => privilege.Description ?? '',
    }),
    value: t.exposeStringList('Value', {
      description: 'What exactly: network modes, host paths, device paths or capability names.',
    }),
  }),
});

const PluginPrivilegeInput = builder.inputType('PluginPrivilegeInput', {
  description:
    'One permission granted to a plugin, as `pluginPrivileges` names it. The privileges granted must be exactly those the plugin asks for.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'The kind of permission, e.g. "network".',
    }),
    value: t.stringList({
      required: true,
      description: 'Its values, e.g. ["host"]; in any order.',
    }),
  }),
});

const PluginPayloadRef = builder.objectRef<EnginePlugin>('PluginPayload').implement({
  description: 'A plugin, read back after the change.',
  fields: (t) => ({
    plugin: t.field({ type: PluginRef, description: 'The plugin.', resolve: (plugin) => plugin }),
  }),
});

const RemovePluginPayloadRef = builder
  .objectRef<{ name: string }>('RemovePluginPayload')
  .implement({
    description: 'What removing a plugin did (`docker plugin rm`).',
    fields: (t) => ({
      name: t.exposeString('name', { description: 'The name of the plugin removed.' }),
    }),
  });

/** A plugin named by a mutation argument: not empty. */
function checkPluginName(field: string, name: string): string {
  if (name.trim() === '') throw new InvalidInputError(field, 'must not be empty');
  return name;
}

/** A reference to pull a plugin from: "[registry/]repository[:tag]", with `latest` by default. */
function checkRemote(field: string, remote: string): string {
  checkImageReference(field, remote);
  return remote;
}

/**
 * The privileges to send with a pull or an upgrade: those the plugin asks for now, when the
 * client granted exactly these; an InvalidInputError naming the difference otherwise.
 */
async function grantPrivileges(
  context: GraphQLContext,
  remote: string,
  granted: readonly GrantedPrivilege[],
  credentials: RegistryCredentials | undefined,
): Promise<PluginPrivilege[]> {
  for (const [index, privilege] of granted.entries()) {
    if (privilege.name.trim() === '') {
      throw new InvalidInputError(`privileges[${index}].name`, 'must not be empty');
    }
  }
  const asked = await readPluginPrivileges(context.docker, remote, credentials);
  const mismatch = privilegeMismatch(asked, granted);
  if (mismatch !== null) throw new InvalidInputError('privileges', mismatch);
  return asked;
}

/** The plugin `name` as the engine shows it after a change, which must still exist. */
async function readBackPlugin(context: GraphQLContext, name: string): Promise<EnginePlugin> {
  const plugin = await inspectPlugin(context.docker, name);
  if (!plugin) {
    throw new EngineNotFoundError(
      'NOT_FOUND',
      `plugin "${name}" is gone: it was removed right after the change`,
      404,
    );
  }
  return plugin;
}

const PLUGIN_NAME_DESCRIPTION =
  'The plugin: its name ("team/driver:1"; ":latest" may be left out) or id.';

builder.queryFields((t) => ({
  pluginPrivileges: t.field({
    type: [PluginPrivilegeRef],
    description:
      'What installing the plugin `remote` would grant it (`GET /plugins/privileges`), read from its registry: show these before `installPlugin` or `upgradePlugin`, which need them granted exactly. Needs the `dangerous` permission, as installs do: it makes the engine contact any registry.',
    args: {
      remote: t.arg.string({
        required: true,
        description:
          'Where the plugin comes from: "[registry[:port]/]repository[:tag]", e.g. "127.0.0.1:5000/team/driver:1"; ":latest" by default.',
      }),
      auth: registryAuthArg(t.arg),
    },
    resolve: (_root, { remote, auth }, context) => {
      if (remote.trim() === '') throw invalidArgument('remote', 'must not be empty');
      return readPluginPrivileges(
        context.docker,
        checkRemote('remote', remote),
        toRegistryCredentials('auth', auth),
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  installPlugin: t.field({
    type: PluginPayloadRef,
    description:
      'Pulls and installs a plugin (`docker plugin install`), disabled unless `enable` is set. The privileges granted must be exactly those the plugin asks for (`pluginPrivileges`): otherwise nothing is pulled and an InvalidInputError on `privileges` names each difference.',
    errors: {
      types: [...registryMutationErrors],
      union: { description: 'The installed plugin, or why it was not installed.' },
    },
    args: {
      remote: t.arg.string({
        required: true,
        description:
          'Where to pull it from: "[registry[:port]/]repository[:tag]", e.g. "127.0.0.1:5000/team/driver:1"; ":latest" by default.',
      }),
      name: t.arg.string({
        required: false,
        description:
          'The local name to give it ("driver:1"; ":latest" by default); the remote reference when omitted (`--alias`).',
      }),
      privileges: t.arg({
        type: [PluginPrivilegeInput],
        required: true,
        description:
          'The privileges granted: exactly those `pluginPrivileges` answers for `remote` (an empty list when it asks for none).',
      }),
      enable: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Enable it once installed; a failed enable leaves it installed and disabled.',
      }),
      auth: registryAuthArg(t.arg),
    },
    resolve: async (_root, args, context) => {
      const remote = checkRemote('remote', args.remote);
      const name = args.name ?? undefined;
      if (name !== undefined) checkTagReference('name', name);
      const credentials = toRegistryCredentials('auth', args.auth);
      const privileges = await grantPrivileges(context, remote, args.privileges, credentials);
      const installed = await installPlugin(context.docker, {
        remote,
        privileges,
        ...(name !== undefined ? { name } : {}),
        ...(credentials ? { credentials } : {}),
      });
      if (args.enable) await enablePlugin(context.docker, installed);
      return readBackPlugin(context, installed);
    },
  }),
  enablePlugin: t.field({
    type: PluginPayloadRef,
    description:
      'Starts a plugin (`docker plugin enable`); answers once it listens. An enabled plugin is a ConflictError.',
    errors: {
      types: [...mutationErrors],
      union: { description: 'The enabled plugin, or why it was not enabled.' },
    },
    args: {
      name: t.arg.string({ required: true, description: PLUGIN_NAME_DESCRIPTION }),
      timeoutSeconds: t.arg.int({
        required: false,
        description:
          'How long the engine waits for the plugin’s answers, in seconds (`--timeout`); the engine’s default when omitted.',
      }),
    },
    resolve: async (_root, args, context) => {
      const name = checkPluginName('name', args.name);
      const timeout = args.timeoutSeconds ?? 0;
      if (timeout < 0) {
        throw new InvalidInputError('timeoutSeconds', `must not be negative, got ${timeout}`);
      }
      await enablePlugin(context.docker, name, timeout);
      return readBackPlugin(context, name);
    },
  }),
  disablePlugin: t.field({
    type: PluginPayloadRef,
    description:
      'Stops a plugin (`docker plugin disable`). A plugin in use (by a volume, a network, a container) is a ConflictError unless `force` is set; a disabled one is a ConflictError.',
    errors: {
      types: [...mutationErrors],
      union: { description: 'The disabled plugin, or why it was not disabled.' },
    },
    args: {
      name: t.arg.string({ required: true, description: PLUGIN_NAME_DESCRIPTION }),
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Stop it even while in use, breaking what uses it.',
      }),
    },
    resolve: async (_root, args, context) => {
      const name = checkPluginName('name', args.name);
      await disablePlugin(context.docker, name, args.force ?? false);
      return readBackPlugin(context, name);
    },
  }),
  configurePlugin: t.field({
    type: PluginPayloadRef,
    description:
      'Changes settings of a disabled plugin (`docker plugin set`): environment variables, mount sources, device paths and arguments the plugin declares settable. An enabled plugin is a ConflictError.',
    errors: {
      types: [...mutationErrors],
      union: { description: 'The configured plugin, or why nothing changed.' },
    },
    args: {
      name: t.arg.string({ required: true, description: PLUGIN_NAME_DESCRIPTION }),
      settings: t.arg.stringList({
        required: true,
        description:
          'Settings, each "KEY=value": "DEBUG=1" for an environment variable, "mountname.source=/path", "devicename.path=/dev/x", "args=a b". Values are redacted from the audit log.',
      }),
    },
    resolve: async (_root, args, context) => {
      const name = checkPluginName('name', args.name);
      if (args.settings.length === 0) {
        throw new InvalidInputError('settings', 'must name at least one setting');
      }
      for (const [index, setting] of args.settings.entries()) {
        const equals = setting.indexOf('=');
        if (equals <= 0) {
          throw new InvalidInputError(
            `settings[${index}]`,
            'must be "KEY=value" with a key before "="',
          );
        }
      }
      await configurePlugin(context.docker, name, args.settings);
      return readBackPlugin(context, name);
    },
  }),
  upgradePlugin: t.field({
    type: PluginPayloadRef,
    description:
      'Replaces a disabled plugin’s files with those of another reference, keeping its name and settings (`docker plugin upgrade`). The privileges granted must be exactly those the new reference asks for, as for `installPlugin`. An enabled plugin is a ConflictError.',
    errors: {
      types: [...registryMutationErrors],
      union: { description: 'The upgraded plugin, or why it was not upgraded.' },
    },
    args: {
      name: t.arg.string({ required: true, description: PLUGIN_NAME_DESCRIPTION }),
      remote: t.arg.string({
        required: true,
        description:
          'The reference to upgrade to, e.g. "127.0.0.1:5000/team/driver:2"; ":latest" by default.',
      }),
      privileges: t.arg({
        type: [PluginPrivilegeInput],
        required: true,
        description:
          'The privileges granted: exactly those `pluginPrivileges` answers for `remote`.',
      }),
      auth: registryAuthArg(t.arg),
    },
    resolve: async (_root, args, context) => {
      const name = checkPluginName('name', args.name);
      const remote = checkRemote('remote', args.remote);
      const credentials = toRegistryCredentials('auth', args.auth);
      const privileges = await grantPrivileges(context, remote, args.privileges, credentials);
      await upgradePlugin(context.docker, name, {
        remote,
        privileges,
        ...(credentials ? { credentials } : {}),
      });
      return readBackPlugin(context, name);
    },
  }),
  removePlugin: t.field({
    type: RemovePluginPayloadRef,
    description:
      'Removes a plugin (`docker plugin rm`). An enabled plugin is a ConflictError unless `force` is set.',
    errors: {
      types: [...mutationErrors],
      union: { description: 'The removed plugin’s name, or why it was not removed.' },
    },
    args: {
      name: t.arg.string({ required: true, description: PLUGIN_NAME_DESCRIPTION }),
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Disable it first when enabled, even while in use.',
      }),
    },
    resolve: async (_root, args, context) => {
      const name = checkPluginName('name', args.name);
      const plugin = await inspectPlugin(context.docker, name);
      await removePlugin(context.docker, name, args.force ?? false);
      return { name: plugin?.Name ?? name };
    },
  }),
}));

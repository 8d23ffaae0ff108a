import type { DockerClient, EngineCall } from './client.ts';
import { EngineConflictError, EngineError } from './errors.ts';
import { encodePathSegment } from './filters.ts';
import { registryOf } from './image-reference.ts';
import { readProgress, registryFailure } from './progress.ts';
import { encodeRegistryAuth, type RegistryCredentials } from './registry-auth.ts';

/** One engine plugin, as `GET /plugins` and `GET /plugins/{name}/json` describe it. */
export interface EnginePlugin {
  Id?: string;
  /** e.g. "vieux/sshfs:latest". */
  Name: string;
  Enabled: boolean;
  /** The reference it was pulled from. */
  PluginReference?: string;
  Config: {
    Description?: string;
    Documentation?: string;
    /**
     * The spec describes each type as `{Prefix, Capability, Version}`, but Docker's JSON
     * writes it as one string, "docker.volumedriver/1.0".
     */
    Interface?: {
      Types?: (string | { Capability: string; Prefix: string; Version: string })[];
    };
  };
}

/** `GET /plugins`: the plugins installed on the engine. */
export function listPlugins(client: DockerClient): Promise<EnginePlugin[]> {
  return client.json<EnginePlugin[]>({ path: '/plugins' }, 'list plugins');
}

/** `GET /plugins/{name}/json`: one plugin by name or id; `null` when missing. */
export function inspectPlugin(client: DockerClient, name: string): Promise<EnginePlugin | null> {
  return client.jsonOrNull<EnginePlugin>(
    { path: `/plugins/${encodePathSegment(name, true)}/json` },
    `inspect plugin "${name}"`,
  );
}

/** One permission a plugin asks for (`GET /plugins/privileges`), e.g. network "host". */
export interface PluginPrivilege {
  /** Kind: "network", "mount", "device", "capabilities", "allow-all-devices", "host pid", … */
  readonly Name: string;
  readonly Description?: string;
  readonly Value: readonly string[];
}

/** `GET /plugins/privileges?remote=…`: what installing the plugin `remote` would grant it. */
export async function readPluginPrivileges(
  client: DockerClient,
  remote: string,
  credentials?: RegistryCredentials,
): Promise<PluginPrivilege[]> {
  const what = `read the privileges of plugin "${remote}"`;
  const privileges = await client
    .json<PluginPrivilege[] | null>(
      {
        path: '/plugins/privileges',
        query: { remote },
        headers: { 'x-registry-auth': encodeRegistryAuth(credentials) },
        timeoutMs: 120_000,
      },
      what,
    )
    .catch((error: unknown) => {
      throw registryFailure(error, what, registryOf(remote));
    });
  return (privileges ?? []).map((privilege) => ({
    Name: privilege.Name,
    Description: privilege.Description ?? '',
    Value: privilege.Value ?? [],
  }));
}

/** Options of `installPlugin` and `upgradePlugin`. */
export interface PluginTransferOptions {
  /** The reference to pull, e.g. "127.0.0.1:5000/team/driver:1". */
  readonly remote: string;
  /** The privileges granted; the engine refuses the pull when they differ from those asked. */
  readonly privileges: readonly PluginPrivilege[];
  readonly credentials?: RegistryCredentials;
}

/**
 * `POST /plugins/pull?remote=…&name=…`: pulls and installs a plugin (disabled), granting it
 * `privileges`. The engine answers HTTP 200 at once and reports progress, and a failure, as
 * JSON lines: the stream is read to its end. Returns the name the engine gave the plugin
 * (its `Docker-Plugin-Name` header; the name asked for, or the remote reference).
 */
export async function installPlugin(
  client: DockerClient,
  options: PluginTransferOptions & { readonly name?: string },
): Promise<string> {
  return pluginTransfer(
    client,
    { path: '/plugins/pull', query: { remote: options.remote, name: options.name } },
    `install plugin "${options.remote}"`,
    options,
  );
}

/**
 * `POST /plugins/{name}/upgrade?remote=…`: replaces a disabled plugin's files with those of
 * `remote`, keeping its settings; a progress stream like the pull's.
 */
export async function upgradePlugin(
  client: DockerClient,
  name: string,
  options: PluginTransferOptions,
): Promise<void> {
  await pluginTransfer(
    client,
    {
      path: `/plugins/${encodePathSegment(name, true)}/upgrade`,
      query: { remote: options.remote },
    },
    `upgrade plugin "${name}" to "${options.remote}"`,
    options,
  );
}

async function pluginTransfer(
  client: DockerClient,
  call: Pick<EngineCall, 'path' | 'query'>,
  what: string,
  options: PluginTransferOptions & { readonly name?: string },
): Promise<string> {
  const registry = registryOf(options.remote);
  const response = await client
    .request(
      {
        method: 'POST',
        ...call,
        headers: {
          'content-type': 'application/json',
          'x-registry-auth': encodeRegistryAuth(options.credentials),
        },
        body: JSON.stringify(options.privileges),
        timeoutMs: 600_000,
        bodyTimeoutMs: 600_000,
      },
      what,
    )
    .catch((error: unknown) => {
      throw pluginStateConflict(registryFailure(error, what, registry));
    });
  const given = response.headers['docker-plugin-name'];
  await readProgress(response.body, what, { registry });
  return (Array.isArray(given) ? given[0] : given) ?? options.name ?? options.remote;
}

/**
 * `POST /plugins/{name}/enable?timeout=…`: starts the plugin; the engine answers once the
 * plugin listens on its socket. `timeoutSeconds` is how long the engine's client of the plugin
 * waits for its answers (0: the engine's default).
 */
export async function enablePlugin(
  client: DockerClient,
  name: string,
  timeoutSeconds = 0,
): Promise<void> {
  await changePluginState(client, name, 'enable', { timeout: timeoutSeconds });
}

/** `POST /plugins/{name}/disable?force=…`: stops the plugin; `force` even while in use. */
export async function disablePlugin(
  client: DockerClient,
  name: string,
  force = false,
): Promise<void> {
  await changePluginState(client, name, 'disable', { force });
}

/** `DELETE /plugins/{name}?force=…`: removes the plugin; `force` disables an enabled one first. */
export async function removePlugin(
  client: DockerClient,
  name: string,
  force = false,
): Promise<void> {
  await changePluginState(client, name, 'remove', { force });
}

/**
 * `POST /plugins/{name}/set`: changes settings of a disabled plugin, each "KEY=value" for an
 * environment variable, "mountname.source=/path", "devicename.path=/dev/x" or "args=a b".
 */
export async function configurePlugin(
  client: DockerClient,
  name: string,
  settings: readonly string[],
): Promise<void> {
  await sendPluginCall(
    client,
    {
      method: 'POST',
      path: `/plugins/${encodePathSegment(name, true)}/set`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    },
    `configure plugin "${name}"`,
  );
}

/**
 * The engine answers HTTP 500 for a plugin in the wrong state (enabling an enabled one,
 * setting or upgrading an enabled one, disabling a disabled one), where other objects answer
 * 409: those are conflicts, told apart by the engine's words.
 */
const pluginStateProblem =
  /already enabled|is not enabled|already disabled|active plugin|must be disabled|is enabled|in use/i;

/**
 * Enables, disables or removes a plugin: `POST /plugins/{name}/enable|disable` or
 * `DELETE /plugins/{name}`, with the long timeout a plugin's start or stop may take.
 */
async function changePluginState(
  client: DockerClient,
  name: string,
  action: 'enable' | 'disable' | 'remove',
  query: NonNullable<EngineCall['query']>,
): Promise<void> {
  const path = `/plugins/${encodePathSegment(name, true)}`;
  await sendPluginCall(
    client,
    {
      method: action === 'remove' ? 'DELETE' : 'POST',
      path: action === 'remove' ? path : `${path}/${action}`,
      query,
      timeoutMs: 120_000,
    },
    `${action} plugin "${name}"`,
  );
}

async function sendPluginCall(client: DockerClient, call: EngineCall, what: string): Promise<void> {
  const response = await client.request(call, what).catch((error: unknown) => {
    throw pluginStateConflict(error);
  });
  await response.body.dump();
}

/** A plugin-state failure (HTTP 500) as the conflict it is; other errors as they are. */
export function pluginStateConflict(error: unknown): unknown {
  if (
    error instanceof EngineError &&
    error.kind === 'ENGINE_ERROR' &&
    error.status === 500 &&
    pluginStateProblem.test(error.message)
  ) {
    return new EngineConflictError('CONFLICT', error.message, 409, { cause: error });
  }
  return error;
}

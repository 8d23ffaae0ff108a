import type { DockerClient } from './client.ts';
import { encodePathSegment } from './filters.ts';

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
    Interface?: { Types?: { Capability: string; Prefix: string; Version: string }[] };
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

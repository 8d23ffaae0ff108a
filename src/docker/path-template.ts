/**
 * Engine paths as templates (`/containers/{id}/json`), so that what is counted or
 * traced per engine call names the endpoint and never an object's id or name:
 * metric labels must stay few, and an id in a label would make one series per
 * container.
 *
 * @module
 */

/**
 * The Engine API's paths (API 1.41 to 1.56), and the Podman ones dockergraph calls. `{id}` is one path segment; `{name}`
 * (images, plugins, distribution) may hold slashes, as image references do
 * (`/images/registry:5000/team/app/json`).
 */
const ENGINE_PATHS = [
  '/_ping',
  '/auth',
  '/build',
  '/build/cancel',
  '/build/prune',
  '/commit',
  '/configs',
  '/configs/create',
  '/configs/{id}',
  '/configs/{id}/update',
  '/containers/create',
  '/containers/json',
  '/containers/prune',
  '/containers/{id}',
  '/containers/{id}/archive',
  '/containers/{id}/attach',
  '/containers/{id}/attach/ws',
  '/containers/{id}/changes',
  '/containers/{id}/exec',
  '/containers/{id}/export',
  '/containers/{id}/json',
  '/containers/{id}/kill',
  '/containers/{id}/logs',
  '/containers/{id}/pause',
  '/containers/{id}/rename',
  '/containers/{id}/resize',
  '/containers/{id}/restart',
  '/containers/{id}/start',
  '/containers/{id}/stats',
  '/containers/{id}/stop',
  '/containers/{id}/top',
  '/containers/{id}/unpause',
  '/containers/{id}/update',
  '/containers/{id}/wait',
  '/distribution/{name}/json',
  '/events',
  '/exec/{id}/json',
  '/exec/{id}/resize',
  '/exec/{id}/start',
  '/images/create',
  '/images/get',
  '/images/json',
  '/images/load',
  '/images/prune',
  '/images/search',
  '/images/{name}',
  '/images/{name}/attestations',
  '/images/{name}/get',
  '/images/{name}/history',
  '/images/{name}/json',
  '/images/{name}/push',
  '/images/{name}/tag',
  '/info',
  '/networks',
  '/networks/create',
  '/networks/prune',
  '/networks/{id}',
  '/networks/{id}/connect',
  '/networks/{id}/disconnect',
  '/nodes',
  '/nodes/{id}',
  '/nodes/{id}/update',
  '/plugins',
  '/plugins/create',
  '/plugins/privileges',
  '/plugins/pull',
  '/plugins/{name}',
  '/plugins/{name}/disable',
  '/plugins/{name}/enable',
  '/plugins/{name}/json',
  '/plugins/{name}/push',
  '/plugins/{name}/set',
  '/plugins/{name}/upgrade',
  '/secrets',
  '/secrets/create',
  '/secrets/{id}',
  '/secrets/{id}/update',
  '/services',
  '/services/create',
  '/services/{id}',
  '/services/{id}/logs',
  '/services/{id}/update',
  '/session',
  '/swarm',
  '/swarm/init',
  '/swarm/join',
  '/swarm/leave',
  '/swarm/unlock',
  '/swarm/unlockkey',
  '/swarm/update',
  '/system/df',
  '/tasks',
  '/tasks/{id}',
  '/tasks/{id}/logs',
  '/version',
  '/volumes',
  '/volumes/create',
  '/volumes/prune',
  '/volumes/{name}',
  // Podman's own API, called where its Docker-compatible one falls short (src/docker/images.ts).
  '/libpod/images/prune',
] as const;

/** What a path that is none of the Engine API's is counted as. */
export const OTHER_ENGINE_PATH = '/other';

interface PatternTemplate {
  readonly pattern: RegExp;
  readonly template: string;
}

/** Paths without parameters, answered by a lookup. */
const staticPaths = new Set<string>(ENGINE_PATHS.filter((path) => !path.includes('{')));

/** Paths with a parameter, by their first segment, the most static text first. */
const patternsByCollection = new Map<string, PatternTemplate[]>();
for (const template of ENGINE_PATHS) {
  if (!template.includes('{')) continue;
  const collection = template.split('/')[1] ?? '';
  const source = template
    .split(/(\{id\}|\{name\})/)
    .map((part) => {
      if (part === '{id}') return '[^/]+';
      // Volume names are one segment; image and plugin references may hold slashes.
      if (part === '{name}') return collection === 'volumes' ? '[^/]+' : '.+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const list = patternsByCollection.get(collection) ?? [];
  list.push({ pattern: new RegExp(`^${source}$`), template });
  patternsByCollection.set(collection, list);
}
for (const list of patternsByCollection.values()) {
  list.sort(
    (a, b) => b.template.replace(/\{\w+\}/g, '').length - a.template.replace(/\{\w+\}/g, '').length,
  );
}

/**
 * The template of an engine path without its version prefix or query
 * (`/containers/3f2a…/json` -> `/containers/{id}/json`); {@link OTHER_ENGINE_PATH}
 * for a path the Engine API does not have.
 */
export function templateEnginePath(path: string): string {
  if (staticPaths.has(path)) return path;
  const second = path.indexOf('/', 1);
  const collection = second === -1 ? path.slice(1) : path.slice(1, second);
  const patterns = patternsByCollection.get(collection);
  if (!patterns) return OTHER_ENGINE_PATH;
  for (const { pattern, template } of patterns) {
    if (pattern.test(path)) return template;
  }
  return OTHER_ENGINE_PATH;
}

/**
 * Checks the import rules of ARCHITECTURE.md: layers import one way
 * (config/engines-file/logger/compare-text/security -> docker -> loaders -> accessors -> context -> schema -> app -> server/handler ->
 * targets, the serverless entry points that nothing imports),
 * the engine client imports nothing from GraphQL, schema domain files do not
 * import each other, and there are no import cycles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function listFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(file: string): number {
  const path = relative(src, file);
  if (
    path === 'config.ts' ||
    path === 'compare-text.ts' ||
    path === 'engines-file.ts' ||
    path === 'logger.ts' ||
    path.startsWith('security/')
  )
    return 0;
  if (path.startsWith('docker/')) return 1;
  if (path === 'loaders.ts') return 2;
  // Accessors read an object's facts through the loaders, whichever engine answer holds them.
  if (path.startsWith('accessors/')) return 2.5;
  if (path === 'context.ts') return 3;
  if (path.startsWith('schema/')) return 4;
  if (
    path === 'app.ts' ||
    path === 'downloads.ts' ||
    path === 'terminal.ts' ||
    path === 'terminal-protocol.ts' ||
    path === 'error-response.ts' ||
    path.startsWith('plugins/')
  )
    return 5;
  if (path.startsWith('targets/')) return 7;
  return 6;
}

const domainFiles = new Set(
  [
    'containers.ts',
    'container-compose.ts',
    'container-config.ts',
    'container-filesystem.ts',
    'container-health.ts',
    'container-host-config.ts',
    'container-logs.ts',
    'container-mounts.ts',
    'container-networks.ts',
    'container-ports.ts',
    'container-processes.ts',
    'container-stats.ts',
    'images.ts',
    'volumes.ts',
    'networks.ts',
    'system.ts',
    'container-lifecycle.ts',
    'exec.ts',
    'files.ts',
    'image-lifecycle.ts',
    'image-build.ts',
    'events.ts',
    'live-containers.ts',
    'live-updates.ts',
    'live-progress.ts',
    'viewer.ts',
    'swarm.ts',
    'swarm-nodes.ts',
    'services.ts',
    'tasks.ts',
    'secrets.ts',
    'stacks.ts',
  ].map((name) => join(src, 'schema', name)),
);
const problems: string[] = [];
const graph = new Map<string, string[]>();

for (const file of listFiles(src)) {
  const text = readFileSync(file, 'utf8');
  const imports = [
    ...text.matchAll(
      /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm,
    ),
  ].map((match) => match[1] ?? match[2] ?? '');
  const local: string[] = [];
  for (const specifier of imports) {
    const name = relative(root, file);
    if (!specifier.startsWith('.')) {
      // Security may read GraphQL documents (redaction); the engine reads must not know GraphQL.
      if (
        [1, 2, 2.5].includes(layerOf(file)) &&
        /^(graphql|@pothos|graphql-yoga)/.test(specifier)
      ) {
        problems.push(
          `${name} imports ${specifier}: the engine client, loaders and accessors must not depend on GraphQL`,
        );
      }
      continue;
    }
    const target = resolve(dirname(file), specifier);
    local.push(target);
    if (layerOf(target) > layerOf(file)) {
      problems.push(`${name} imports ${relative(root, target)}, a later layer`);
    }
    if (domainFiles.has(file) && domainFiles.has(target)) {
      problems.push(`${name} imports ${relative(root, target)}: domain files link through refs.ts`);
    }
  }
  graph.set(file, local);
}

const state = new Map<string, 'visiting' | 'done'>();
function visit(file: string, path: string[]): void {
  if (state.get(file) === 'done') return;
  if (state.get(file) === 'visiting') {
    const cycle = path.slice(path.indexOf(file)).concat(file);
    problems.push(`import cycle: ${cycle.map((f) => relative(root, f)).join(' -> ')}`);
    return;
  }
  state.set(file, 'visiting');
  for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
  state.set(file, 'done');
}
for (const file of graph.keys()) visit(file, []);

if (problems.length > 0) {
  process.stderr.write(`${[...new Set(problems)].join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`imports follow the layering rules (${graph.size} files)\n`);

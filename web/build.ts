// Builds the dashboard (web/src) into web/dist with esbuild: one script and one stylesheet,
// every dependency bundled, so that the server serves it with no CDN. `npm install` runs it
// (the `prepare` script); `npm run build:web -- --watch` rebuilds on change.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, context } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const options = {
  entryPoints: { dashboard: join(here, 'src', 'main.tsx') },
  outdir: join(here, 'dist'),
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  logLevel: 'warning',
} as const;

if (process.argv.includes('--watch')) {
  const watching = await context(options);
  await watching.watch();
} else {
  await build(options);
}

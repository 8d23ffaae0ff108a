// The built server on the test engine: test/helpers/server-process.ts's launcher with the
// engine vitest's global setup started.
import { inject } from 'vitest';
import { type Child, launchBuiltServer } from './server-process.ts';

/**
 * Starts the built server (dist/server/index.mjs under plain node, as `npm run start:built`) on
 * the test engine with `home` as HOME and `env` on top; resolves with it and its base URL once
 * it listens.
 */
export function startBuiltServer(
  home: string,
  env: Record<string, string> = {},
): Promise<{ child: Child; url: string }> {
  return launchBuiltServer({ DOCKER_HOST: inject('dockerHost'), HOME: home, ...env });
}

import { execFile } from 'node:child_process';

/**
 * Runs the docker CLI against the engine at `dockerHost`, e.g. to change objects behind the
 * server's back; resolves with its output, rejects with its stderr when it exits non-zero.
 * The CLI reads no user configuration or context: `configDir` is a config folder of the
 * caller's own, and the variables that would point it elsewhere are removed.
 */
export function runDockerCliAt(
  dockerHost: string,
  configDir: string,
  args: readonly string[],
  options: { readonly what?: string; readonly timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: configDir,
  };
  for (const key of [
    'DOCKER_CONTEXT',
    'DOCKER_TLS_VERIFY',
    'DOCKER_CERT_PATH',
    'DOCKER_API_VERSION',
  ]) {
    delete env[key];
  }
  const what = `docker ${args.join(' ')}${options.what ? ` on ${options.what}` : ''}`;
  return new Promise((resolve, reject) => {
    execFile(
      'docker',
      args,
      {
        encoding: 'utf8',
        env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${what} failed: ${error.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

import type { DockerClient, UpgradedConnection } from './client.ts';
import type { TerminalSize } from './exec.ts';
import { encodePathSegment } from './filters.ts';

/**
 * `POST /containers/{id}/attach?stream=1&stdin=1&stdout=1&stderr=1`, hijacked:
 * the engine answers `101` and the connection then carries the container's
 * output from now on (the raw terminal with a TTY, multiplexed frames without)
 * and takes its standard input (read by the container only when it was
 * created with `OpenStdin`). Closing it detaches; the container keeps running.
 */
export function attachContainer(client: DockerClient, id: string): Promise<UpgradedConnection> {
  return client.upgrade(
    {
      method: 'POST',
      path: `/containers/${encodePathSegment(id)}/attach`,
      query: { stream: true, stdin: true, stdout: true, stderr: true },
    },
    `attach to container "${id}"`,
  );
}

/** `POST /containers/{id}/resize?h=&w=`: resizes the pseudo-terminal of a container created with a TTY. */
export async function resizeContainer(
  client: DockerClient,
  id: string,
  size: TerminalSize,
): Promise<void> {
  const response = await client.request(
    {
      method: 'POST',
      path: `/containers/${encodePathSegment(id)}/resize`,
      query: { h: size.rows, w: size.cols },
    },
    `resize container "${id}"`,
  );
  await response.body.dump();
}

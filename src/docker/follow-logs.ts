import type { DockerClient } from './client.ts';
import { type LogOptions, toLogQuery } from './containers.ts';
import { decodeLogStream, type LogLine } from './demux.ts';
import { errorFromTransport } from './errors.ts';
import { encodePathSegment } from './filters.ts';

/** Options of {@link followContainerLogs}. */
export interface FollowLogsOptions extends Omit<LogOptions, 'until'> {
  /** The container was created with a TTY: its output is raw, all STDOUT. */
  readonly tty: boolean;
  /** Ends the stream and closes the connection. */
  readonly signal: AbortSignal;
}

/**
 * `GET /containers/{id}/logs?follow=1`: resolves once the engine answered (so that a
 * missing container fails here), then yields the container's lines as they are written,
 * demultiplexed unless it has a TTY; a partial line is held until it completes. The
 * stream has no idle timeout; it ends when the container stops (the engine closes it)
 * or `signal` aborts (quietly).
 */
export async function followContainerLogs(
  client: DockerClient,
  id: string,
  options: FollowLogsOptions,
): Promise<AsyncGenerator<LogLine, void, undefined>> {
  const { signal } = options;
  const what = `follow logs of container "${id}"`;
  const response = await client.withSignal(signal).request(
    {
      path: `/containers/${encodePathSegment(id)}/logs`,
      query: {
        follow: true,
        ...toLogQuery(options),
      },
      bodyTimeoutMs: 0,
    },
    what,
  );
  return yieldFollowedLines(
    response.body,
    signal,
    what,
    decodeLogStream(response.body, { tty: options.tty, timestamps: options.timestamps }),
  );
}

/**
 * Yields the lines decoded from a followed log body: a transport error after `signal` aborted
 * only ends the stream, and the connection is dropped once the consumer stops.
 */
export async function* yieldFollowedLines<Line>(
  body: { readonly destroyed: boolean; destroy(): void },
  signal: AbortSignal,
  what: string,
  lines: AsyncIterable<Line>,
): AsyncGenerator<Line, void, undefined> {
  try {
    yield* lines;
  } catch (error) {
    if (signal.aborted) return;
    throw errorFromTransport(error, what);
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

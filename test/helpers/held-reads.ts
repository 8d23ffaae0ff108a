// Engine reads held in flight at the fault proxy, for the tests of reads shared between
// requests (src/docker/shared-reads.ts): a client's reads are held to the end of their
// turn, and so can be joined, only while another request's read is in flight.
import type { DockerClient } from '../../src/docker/client.ts';
import type { FaultProxy } from './fault-proxy.ts';

/** How long the proxy holds each answer: reads stay in flight while a test asks for more. */
export const HOLD_MS = 300;

/** Request lines `proxy` saw so far that match `pattern`. */
export function linesMatching(proxy: FaultProxy, pattern: RegExp): string[] {
  return proxy.connections
    .flatMap((connection) => connection.requests)
    .filter((line) => pattern.test(line));
}

/** A view of `client` as one GraphQL request has it: its own signal, and leaving aborts it. */
export function requestView(client: DockerClient): { view: DockerClient; leave(): void } {
  const controller = new AbortController();
  return {
    view: client.withSignal(controller.signal),
    leave: () => controller.abort(new DOMException('the client went away', 'AbortError')),
  };
}

/**
 * Starts a read of another request on `client`, held by `proxy` (which must hold answers):
 * the engine is busy until it comes. Answers once the read is sent, with the read's answer
 * in an object (an async function would wait for a promise it returns).
 */
export async function busyEngine(
  proxy: FaultProxy,
  client: DockerClient,
): Promise<{ readonly answered: Promise<unknown> }> {
  const since = proxy.requestsSeen;
  const answered = requestView(client).view.json({ path: '/info' }, 'info');
  await proxy.waitForRequest(/\/info/, { since });
  return { answered };
}

/** Runs `ask` while another read of `client` is held at `proxy`, then lets answers pass again. */
export async function whileBusy<T>(
  proxy: FaultProxy,
  client: DockerClient,
  ask: () => Promise<T>,
): Promise<T> {
  proxy.setMode({ kind: 'delay', ms: HOLD_MS });
  try {
    const busy = await busyEngine(proxy, client);
    const result = await ask();
    await busy.answered;
    return result;
  } finally {
    proxy.setMode({ kind: 'pass' });
  }
}

// Hooks over the API: a subscription's messages as they come, and a clock for ages.
import { type DocumentInput, stringifyDocument } from '@urql/core';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, type Problem, problemsOfErrors } from './api.ts';

/** What a failed subscription tells the user: graphql-ws hands over errors of several kinds. */
function problemsOfSubscriptionError(error: unknown): Problem[] {
  // The server's `error` message: the operation was refused (validation, access...).
  if (Array.isArray(error)) return problemsOfErrors(error);
  // A close the client does not retry (e.g. 4403 forbidden), or a failure of its own.
  if (error instanceof CloseEvent) {
    return [{ code: 'NETWORK', message: `connection closed (${error.code}: ${error.reason})` }];
  }
  return [{ code: 'NETWORK', message: error instanceof Error ? error.message : String(error) }];
}

/** What {@link useSubscription} is told besides messages and problems. */
export interface SubscriptionEnds {
  readonly onComplete?: () => void;
  readonly onRestart?: () => void;
}

/**
 * Subscribes while mounted (and while `enabled`), calling `onMessage` once with each
 * message's data, `onProblem` with a failure, `onComplete` when the server ends the
 * subscription (e.g. a followed container stopped), and `onRestart` when graphql-ws
 * subscribed again after the connection dropped and came back (the server restarted, the
 * network failed): a stream that begins with history (a log tail) then sends it again, so
 * what was shown of it is to be dropped first. Re-subscribes when `key` changes.
 *
 * Straight over graphql-ws, whose sink gets each `next` message once. Not through urql's
 * client: it treats a subscription as one result that changes, and its subscriptionExchange
 * marks the end by emitting the last result once more (merged with `hasNext: false`), which a
 * list of messages shows twice (the last log line of a stopped container, say).
 */
export function useSubscription<Data, Variables extends Record<string, unknown>>(
  api: Api,
  document: DocumentInput<Data, Variables>,
  variables: Variables,
  key: string,
  onMessage: (data: Data) => void,
  onProblem: (problem: Problem) => void,
  enabled = true,
  { onComplete = () => {}, onRestart = () => {} }: SubscriptionEnds = {},
): void {
  const handlers = useRef({ onMessage, onProblem, onComplete, onRestart });
  handlers.current = { onMessage, onProblem, onComplete, onRestart };
  useEffect(() => {
    if (!enabled) return;
    // graphql-ws re-sends every subscription once the connection it retried is acknowledged,
    // before any message of theirs comes.
    const stopListening = api.ws.on('connected', (_socket, _payload, wasRetry) => {
      if (wasRetry) handlers.current.onRestart();
    });
    // graphql-ws calls `complete` also after an unsubscribe of ours: what comes once this
    // effect is cleaned up (unmounted, or re-subscribing for a new key) is not this
    // subscription's news.
    let active = true;
    const unsubscribe = api.ws.subscribe<Data>(
      { query: stringifyDocument(document), variables },
      {
        next: (result) => {
          if (!active) return;
          for (const problem of problemsOfErrors(result.errors ?? [])) {
            handlers.current.onProblem(problem);
          }
          if (result.data) handlers.current.onMessage(result.data);
        },
        error: (error) => {
          if (!active) return;
          for (const problem of problemsOfSubscriptionError(error)) {
            handlers.current.onProblem(problem);
          }
        },
        complete: () => {
          if (active) handlers.current.onComplete();
        },
      },
    );
    return () => {
      active = false;
      stopListening();
      unsubscribe();
    };
  }, [api, document, key, enabled]);
}

/** The time now, moving once a second: for uptimes and ages (no server call). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

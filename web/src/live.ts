// Hooks over the API: a subscription's messages as they come, and a clock for ages.
import type { AnyVariables, DocumentInput } from '@urql/core';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, type Problem, problemsOf } from './api.ts';

/**
 * Subscribes while mounted (and while `enabled`), calling `onMessage` with each
 * message's data and `onProblem` with a failure; re-subscribes when `key` changes.
 */
export function useSubscription<Data, Variables extends AnyVariables>(
  api: Api,
  document: DocumentInput<Data, Variables>,
  variables: Variables,
  key: string,
  onMessage: (data: Data) => void,
  onProblem: (problem: Problem) => void,
  enabled = true,
): void {
  const handlers = useRef({ onMessage, onProblem });
  handlers.current = { onMessage, onProblem };
  useEffect(() => {
    if (!enabled) return;
    const { unsubscribe } = api.client.subscription(document, variables).subscribe((result) => {
      for (const problem of problemsOf(result.error)) handlers.current.onProblem(problem);
      if (result.data) handlers.current.onMessage(result.data);
    });
    return unsubscribe;
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

import { type ExecutionResult, GraphQLError } from 'graphql';
import { handleStreamOrSingleExecutionResult, isAsyncIterable, type Plugin } from 'graphql-yoga';

/** Turns an error a client would see into the one it may see (graphql-yoga's `MaskError`). */
export type MaskError = (error: unknown, message: string) => Error;

/** What clients are told of an error that is not theirs to read. */
export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.';

/**
 * An abort (the client left, a timeout) ends a stream as it is: yoga's HTTP path logs it
 * at debug level and writes nothing, which masking it as an unexpected error would defeat.
 * The test is yoga's own (its `isAbortError` is not exported).
 */
function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    error.constructor?.name === 'DOMException' &&
    'name' in error &&
    (error.name === 'AbortError' || error.name === 'TimeoutError')
  );
}

/**
 * A subscription's results as every transport reads them: each result's errors masked,
 * an error the stream throws masked, and the plugins' end callbacks run once, however
 * the stream ends (the source is done, the client leaves, the source throws).
 *
 * Envelop would give each subscription one wrapper per kind of hook (the masking's
 * `onNext`, the places' `onEnd`, their `onSubscribeError`), each allocating several
 * promises and closures per result through `@whatwg-node/promise-helpers`: with 1,000
 * subscribers to the events, more than half of what the server allocated per delivered
 * event (a sampling heap profile of `npm run bench:events`). This does the same work in
 * one object with one promise per result.
 */
class MaskedStream implements AsyncGenerator<ExecutionResult, undefined, unknown> {
  readonly #source: AsyncIterator<ExecutionResult>;
  readonly #maskResult: (result: ExecutionResult) => ExecutionResult;
  readonly #maskError: (error: unknown) => unknown;
  #ends: (() => void)[] | null = [];

  constructor(
    source: AsyncIterable<ExecutionResult>,
    maskResult: (result: ExecutionResult) => ExecutionResult,
    maskError: (error: unknown) => unknown,
  ) {
    this.#source = source[Symbol.asyncIterator]();
    this.#maskResult = maskResult;
    this.#maskError = maskError;
  }

  /** Runs `end` once when the stream ends (at once if it already did). */
  whenEnded(end: () => void): void {
    if (this.#ends) this.#ends.push(end);
    else end();
  }

  #end(): void {
    const ends = this.#ends;
    this.#ends = null;
    for (const end of ends ?? []) end();
  }

  next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    return this.#source.next().then(this.#onStep, this.#onFailure);
  }

  // Made once per stream rather than per result: this runs for every delivery.
  readonly #onStep = (
    step: IteratorResult<ExecutionResult>,
  ): IteratorResult<ExecutionResult, undefined> => {
    if (step.done === true) {
      this.#end();
      return { done: true, value: undefined };
    }
    return { done: false, value: this.#maskResult(step.value) };
  };

  readonly #onFailure = (error: unknown): never => {
    this.#end();
    throw isAbortError(error) ? error : this.#maskError(error);
  };

  async return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.#end();
    await this.#source.return?.();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.#end();
    if (this.#source.throw) await this.#source.throw(error);
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}

/**
 * Runs `end` when the subscription `result` ends: at once when it is no stream (an early
 * error, a refusal), else when its stream ends. `result` is what an `onSubscribeResult`
 * hook is given: {@link useMaskedResults}, the first plugin with that hook, has made
 * every stream a {@link MaskedStream} by then. A stream made otherwise would have its
 * place never given back when it failed; it is refused loudly instead (the subscription
 * fails with a masked error, its cause logged).
 */
export function whenSubscriptionEnds(result: unknown, end: () => void): void {
  if (!isAsyncIterable(result)) {
    end();
    return;
  }
  if (!(result instanceof MaskedStream)) {
    end();
    throw new Error(
      'a subscription stream reached an onSubscribeResult hook unwrapped: useMaskedResults must be the first plugin with an onSubscribe hook',
    );
  }
  result.whenEnded(end);
}

/**
 * Whether yoga reads the request's parameters from a query string (a GET, a form), whose
 * `variables` and `extensions` it parses with JSON.parse, failing with its SyntaxError.
 */
function readsSearchParams(request: Request): boolean {
  return (
    request.method === 'GET' ||
    /^application\/x-www-form-urlencoded\b/i.test(request.headers.get('content-type') ?? '')
  );
}

/** What a client is told of `variables` or `extensions` that JSON.parse could not read. */
function notJsonParameters(): GraphQLError {
  return new GraphQLError('the "variables" and "extensions" parameters must be JSON objects', {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });
}

/**
 * Masks every error before a client sees it, over every transport: results of queries
 * and mutations, each result of a subscription, an error a subscription's stream throws,
 * an error of the context's creation, and errors yoga answers for a request it could not
 * run (`onResultProcess`, HTTP; parameters of a query string that are not JSON are the
 * client's, answered 400). `maskError` decides what reaches the client; an error it
 * returned is not masked again.
 *
 * In place of yoga's own masking (`maskedErrors: false` in createYoga), which wraps each
 * subscription's stream through envelop's per-result hooks (see {@link MaskedStream}).
 * Must be the first plugin: its `onSubscribeResult` runs before any other's, which then
 * find the masked stream (for {@link whenSubscriptionEnds}).
 */
export function useMaskedResults(maskError: MaskError): Plugin {
  const masked = new WeakSet<object>();
  const mask = (error: unknown): Error => {
    if (typeof error === 'object' && error !== null && masked.has(error)) return error as Error;
    const result = maskError(error, UNEXPECTED_ERROR_MESSAGE);
    masked.add(result);
    return result;
  };
  const maskResult = (result: ExecutionResult): ExecutionResult => {
    if (!result.errors?.length) return result;
    return { ...result, errors: result.errors.map((error) => mask(error) as GraphQLError) };
  };
  const handleResult = ({
    result,
    setResult,
  }: {
    result: ExecutionResult;
    setResult: (result: ExecutionResult) => void;
  }) => {
    if (result.errors?.length) setResult(maskResult(result));
  };
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      // The SyntaxError is no GraphQL error: the client's mistake was masked as the server's
      // fault ("Unexpected error.", 200) and logged with its stack, a line per request.
      if (!requestParser || !readsSearchParams(request)) return;
      setRequestParser(async (given) => {
        try {
          return await requestParser(given);
        } catch (error) {
          throw error instanceof SyntaxError ? notJsonParameters() : error;
        }
      });
    },
    onPluginInit({ registerContextErrorHandler }) {
      registerContextErrorHandler(({ error, setError }) => setError(mask(error)));
    },
    onExecute() {
      return {
        onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, handleResult),
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) {
            setResult(new MaskedStream(result, maskResult, mask));
            return;
          }
          handleResult({ result, setResult });
        },
      };
    },
    onResultProcess({ result, setResult }) {
      if (isAsyncIterable(result)) return;
      if (Array.isArray(result)) {
        if (result.some((one) => one.errors?.length)) setResult(result.map(maskResult));
        return;
      }
      handleResult({ result, setResult });
    },
  };
}

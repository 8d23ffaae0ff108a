import { useGraphQlJit } from '@envelop/graphql-jit';
import type { Logger } from '../logger.ts';

/**
 * Whether this runtime lets code make functions from strings. Cloudflare Workers refuse
 * it (`EvalError: Code generation from strings disallowed`); there operations keep
 * graphql-js's interpreter.
 */
export function canGenerateCode(): boolean {
  try {
    return new Function('return true')() === true;
  } catch {
    return false;
  }
}

/**
 * Runs operations through graphql-jit: each parsed document (yoga caches them) is compiled
 * once into JavaScript that walks its selections, instead of graphql-js interpreting the
 * document for every object of every answer. The resolvers, and so every rule the schema
 * wraps around them (permissions, label limits, engine binding, redaction), are the same
 * functions either way. Measured in bench/read-model.ts: the overview of 200 containers
 * from the read model took a third of the interpreter's time.
 *
 * It must come before every plugin that wraps the execute or subscribe function it is given
 * (tracing, shared subscription results): envelop hands each plugin the function the ones
 * before it set, and this plugin replaces it outright.
 */
export function useCompiledExecution(logger: Logger): ReturnType<typeof useGraphQlJit> {
  return useGraphQlJit(
    {},
    {
      // A document that graphql-jit cannot compile is answered with the errors it gives,
      // as graphql-js would answer them; logged, since a valid document should compile.
      onError: (result) => {
        logger.error('graphql-jit could not compile a document', {
          errors: (result.errors ?? []).map((error) => error.message).join('; '),
        });
      },
    },
  );
}

import { GraphQLError } from 'graphql';
import { type EngineError, EngineNotSupportedError } from '../docker/errors.ts';

/**
 * A client sent an argument dockergraph cannot use. The message names the
 * argument; `extensions.argument` carries its path for programs.
 */
export function invalidArgument(argument: string, problem: string): GraphQLError {
  return new GraphQLError(`Invalid argument "${argument}": ${problem}`, {
    extensions: { code: 'BAD_USER_INPUT', argument },
  });
}

/**
 * What a client sees of an engine failure: the engine's message and a code
 * (ENGINE_UNAVAILABLE, ENGINE_TIMEOUT, NOT_FOUND, CONFLICT, BAD_REQUEST, ...),
 * never the connection details underneath.
 */
export function engineErrorToGraphQL(error: EngineError, from: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: from.nodes ?? null,
    source: from.source ?? null,
    positions: from.positions ?? null,
    path: from.path ?? null,
    extensions: {
      code: error.kind,
      ...(error.status ? { engineStatus: error.status } : {}),
      // Which kind of engine cannot do it, as NotSupportedError's `engine` says in mutations.
      ...(error instanceof EngineNotSupportedError ? { engine: error.engine } : {}),
    },
  });
}

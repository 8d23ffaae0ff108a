import type { ExecutionResult } from 'graphql';

/**
 * Stands in for graphql-jit in the Workers bundle (scripts/build.ts aliases it): Workers refuse
 * code generation from strings, so src/app.ts never turns compiled execution on there
 * (`canGenerateCode()`), and the interpreter answers.
 */
export function compileQuery(): ExecutionResult {
  throw new Error(
    'graphql-jit is not available in Cloudflare Workers: they refuse code generation',
  );
}

export function isCompiledQuery(): boolean {
  return false;
}

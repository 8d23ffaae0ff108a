/**
 * Stands in for fast-json-stringify in every bundle (scripts/build.ts aliases it). graphql-jit
 * loads it at import but calls it only with its `customJSONSerializer` option, which
 * src/plugins/use-compiled-execution.ts does not set; with its JSON-schema compiler (ajv)
 * it would add about a quarter of a megabyte to each artifact and to each cold start.
 */
export default function fastJsonStringify(): never {
  throw new Error('fast-json-stringify is not bundled: graphql-jit customJSONSerializer is off');
}

import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents from the printed schema: for the test operations (written
 * with `graphql()` from test/generated) and the example operations in
 * examples/, which codegen also validates against the schema, and for the dashboard
 * (web/src).
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: false,
  // ESM imports with .js extensions, as NodeNext resolution requires.
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      documents: ['test/**/*.ts', 'examples/**/*.graphql', '!test/generated/**'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', SafeInt: 'number', File: 'File' },
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
      },
    },
    // The dashboard's operations, typed for its urql client.
    'web/src/generated/': {
      documents: ['web/src/**/*.tsx', 'web/src/**/*.ts', '!web/src/generated/**'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', SafeInt: 'number', File: 'File' },
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
      },
    },
  },
};

export default config;

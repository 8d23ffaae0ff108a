import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents from the printed schema: for the test operations (written
 * with `graphql()` from test/generated) and the example operations in
 * examples/, which codegen also validates against the schema.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['test/**/*.ts', 'examples/**/*.graphql', '!test/generated/**'],
  ignoreNoDocuments: false,
  // ESM imports with .js extensions, as NodeNext resolution requires.
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
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

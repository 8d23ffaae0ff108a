// The plugins reword library errors by matching the libraries' messages; these tests pin those
// messages, so that an upgrade that rewords one fails here instead of silently changing answers.
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { buildSchema, GraphQLError, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { LIBRARY_ALIASES_FOUND } from '../../src/plugins/use-alias-limit.ts';
import { LIBRARY_TOKEN_LIMIT_MESSAGE } from '../../src/plugins/use-token-limit.ts';

describe("graphql-js's token limit", () => {
  it('says the document has too many tokens in the words useTokenLimit matches', () => {
    let thrown: unknown;
    try {
      parse('{ a b c d e f }', { maxTokens: 4 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GraphQLError);
    expect((thrown as GraphQLError).message).toMatch(LIBRARY_TOKEN_LIMIT_MESSAGE);
  });

  it('parses a document within the limit', () => {
    expect(() => parse('{ a }', { maxTokens: 4 })).not.toThrow();
  });
});

describe("graphql-armor's alias limit", () => {
  it('names the number of aliases it found where useAliasLimit reads it', () => {
    const schema = buildSchema('type Query { a: Int }');
    const messages: string[] = [];
    const rule = maxAliasesRule({
      n: 2,
      propagateOnRejection: false,
      onReject: [(_context, error) => messages.push(error.message)],
    });
    validate(schema, parse('{ x: a y: a z: a }'), [rule]);
    expect(messages).toHaveLength(1);
    expect(LIBRARY_ALIASES_FOUND.exec(messages[0] ?? '')?.[1]).toBe('3');
  });
});

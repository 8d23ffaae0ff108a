// Every root field of the built schema and every kind of engine event has a label-scope rule in
// src/schema/scope-rules.ts: a field or event kind added without one fails here (and a root field
// without one is refused to label-limited tokens by the label-scope plugin).
import { GraphQLEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { eventScopeRules, scopeRules } from '../../src/schema/scope-rules.ts';

const rootTypes = {
  Query: schema.getQueryType(),
  Mutation: schema.getMutationType(),
  Subscription: schema.getSubscriptionType(),
};

describe('label-scope table', () => {
  it.each(Object.entries(rootTypes))(
    'gives every %s field a rule, and no rule to a field that is not there',
    (name, type) => {
      const fields = Object.keys(type?.getFields() ?? {}).sort();
      expect(fields.length).toBeGreaterThan(0);
      expect(Object.keys(scopeRules[name] ?? {}).sort()).toEqual(fields);
    },
  );

  it('names, in every target and lookup, an argument of its field of the right kind', () => {
    for (const [typeName, type] of Object.entries(rootTypes)) {
      const fields = type?.getFields() ?? {};
      for (const [fieldName, scope] of Object.entries(scopeRules[typeName] ?? {})) {
        const where = `${typeName}.${fieldName}`;
        if (scope.rule === 'visible-target')
          expect(scope.targets?.length, where).toBeGreaterThan(0);
        if (scope.rule === 'unscoped-with-reason') expect(scope.reason, where).toBeTruthy();
        if (scope.lookup) {
          expect(scope.rule, where).toBe('filtered-lookup');
          // The type whose global IDs it takes is the type it answers.
          expect(String(fields[fieldName]?.type), where).toBe(scope.lookup.type);
        }
        for (const target of [...(scope.targets ?? []), ...(scope.lookup ? [scope.lookup] : [])]) {
          const argument = fields[fieldName]?.args.find((each) => each.name === target.argument);
          expect(String(argument?.type), `${where}(${target.argument})`).toMatch(/^\[?String!/);
        }
      }
    }
  });

  it('gives every kind of engine event a rule', () => {
    const kinds = schema.getType('EngineEventType');
    if (!(kinds instanceof GraphQLEnumType)) throw new Error('EngineEventType is not an enum');
    const values = kinds
      .getValues()
      .map((value) => String(value.value))
      .sort();
    expect(Object.keys(eventScopeRules).sort()).toEqual(values);
  });
});

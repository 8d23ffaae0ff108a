import {
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';

const builtInScalars = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

function undocumented(type: GraphQLNamedType): string[] {
  const missing: string[] = [];
  if (!type.description) missing.push(type.name);
  if (isObjectType(type) || isInterfaceType(type)) {
    for (const field of Object.values(type.getFields())) {
      if (!field.description) missing.push(`${type.name}.${field.name}`);
      for (const arg of field.args)
        if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
    }
  }
  if (isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) {
      if (!field.description) missing.push(`${type.name}.${field.name}`);
    }
  }
  if (isEnumType(type)) {
    for (const value of type.getValues())
      if (!value.description) missing.push(`${type.name}.${value.name}`);
  }
  return missing;
}

describe('the schema is its own documentation', () => {
  it('describes every type, field, argument and enum value', () => {
    const missing = Object.values(schema.getTypeMap())
      .filter(
        (type) =>
          !type.name.startsWith('__') && !(isScalarType(type) && builtInScalars.has(type.name)),
      )
      .filter((type) => !isUnionType(type) || !type.description)
      .flatMap(undocumented);
    expect(missing).toEqual([]);
  });
});

import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.ts';

function parseDateTime(value: unknown): Date {
  if (typeof value === 'string') {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime()) && /^\d{4}-\d{2}-\d{2}T/.test(value)) return date;
  }
  throw new GraphQLError(
    `DateTime must be an ISO 8601 date-time string such as "2024-05-01T12:00:00Z", got ${JSON.stringify(value)}`,
  );
}

builder.scalarType('DateTime', {
  description:
    'A point in time, as an ISO 8601 string in UTC with milliseconds, e.g. "2024-05-01T12:00:00.000Z".',
  serialize: (value) => {
    const date = value instanceof Date ? value : new Date(value as string | number);
    if (Number.isNaN(date.getTime()))
      throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral: (node) => parseDateTime(node.kind === Kind.STRING ? node.value : undefined),
});

function parseSafeInt(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new GraphQLError(
    `SafeInt must be an integer between -(2^53-1) and 2^53-1, got ${JSON.stringify(value)}`,
  );
}

builder.scalarType('SafeInt', {
  description:
    'An integer up to 2^53-1 in magnitude (byte counts, memory sizes, nanoseconds): larger than Int, exact in JSON and JavaScript.',
  serialize: (value) => parseSafeInt(typeof value === 'number' ? Math.round(value) : value),
  parseValue: parseSafeInt,
  parseLiteral: (node) => parseSafeInt(node.kind === Kind.INT ? Number(node.value) : undefined),
});

builder.scalarType('File', {
  description:
    'A file sent with the request, as the GraphQL multipart request specification describes (tar archives for uploads, builds and imports).',
  serialize: () => {
    throw new GraphQLError('File is an input only');
  },
  // Only the multipart parser (src/plugins/use-uploads.ts) makes File values.
  parseValue: (value) => {
    if (value instanceof Blob) return value as File;
    throw new GraphQLError(
      'a File is sent as a multipart upload (GraphQL multipart request specification), with the variable set to null in "operations" and named in "map"',
    );
  },
  parseLiteral: () => {
    throw new GraphQLError(
      'a File cannot be written in the document: send it as a multipart upload, in a variable of type File',
    );
  },
});

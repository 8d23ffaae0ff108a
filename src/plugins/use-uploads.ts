import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Busboy } from '@fastify/busboy';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  type OperationDefinitionNode,
  parse,
  typeFromAST,
  visit,
} from 'graphql';
import { type GraphQLParams, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import { describeMissingPermissions, permissionsFor } from '../schema/access-rules.ts';
import { describePrincipal, type Principal } from '../security/principal.ts';
import type { Permission } from '../security/roles.ts';
import { guardOperations, markAdmitted, type OperationGuards } from './operation-guards.ts';
import { forEachRootField, refusedOperationRecord, transportOfRequest } from './use-audit.ts';
import { whenSubscriptionEnds } from './use-masked-results.ts';

/** Limits and policy an upload is held to. */
export interface UploadOptions {
  readonly schema: GraphQLSchema;
  readonly guards: OperationGuards;
  readonly principals: WeakMap<Request, Principal>;
  /** Largest `operations` or `map` field (DOCKERGRAPH_MAX_BODY_BYTES). */
  readonly maxFieldBytes: number;
  /** Largest file (DOCKERGRAPH_MAX_UPLOAD_BYTES; the whole body is held to it too). */
  readonly maxUploadBytes: number;
  /** Every write is refused (DOCKERGRAPH_READ_ONLY): every field that takes a file writes. */
  readonly readOnly: boolean;
  readonly clientAddressOf: (serverContext: unknown) => string | null;
}

const UPLOAD_SCALAR = 'File';

function uploadRefused(message: string, status: number, code = 'UPLOAD_REFUSED'): GraphQLError {
  // The rest of the body is not read: the connection cannot carry another request.
  return new GraphQLError(message, {
    extensions: { code, http: { status, headers: { connection: 'close' } } },
  });
}

function badMultipart(problem: string): GraphQLError {
  return uploadRefused(
    `invalid multipart request: ${problem} (GraphQL multipart request specification: the fields "operations", then "map", then the files)`,
    400,
    'BAD_REQUEST',
  );
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badMultipart(`the field "${field}" is not JSON`);
  }
}

/** `{ "0": ["variables.archive"] }`: which file goes where. */
function readMap(text: string): Map<string, string[]> {
  const parsed = parseJson(text, 'map');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badMultipart('the field "map" must be an object of file names to paths');
  }
  const map = new Map<string, string[]>();
  for (const [name, paths] of Object.entries(parsed)) {
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string')) {
      throw badMultipart(`map["${name}"] must be a list of paths such as "variables.archive"`);
    }
    map.set(name, paths as string[]);
  }
  return map;
}

/** Root fields of `operation` whose arguments use the variable `name`, through fragments. */
function fieldsUsingVariable(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  name: string,
): string[] {
  const fields = new Set<string>();
  forEachRootField(document, operation, (field) => {
    let uses = false;
    visit(field, {
      Variable(node) {
        if (node.name.value === name) uses = true;
      },
    });
    if (uses) fields.add(field.name.value);
  });
  return [...fields];
}

/**
 * Refuses the files of `map` unless each goes to a variable of type `File` that a
 * root field taking a `File` argument uses, and the principal holds that field's
 * permission: decided from `operations` and `map` alone, before any file byte is read.
 */
function checkUploads(
  options: UploadOptions,
  principal: Principal | undefined,
  operations: readonly GraphQLParams[],
  batched: boolean,
  map: ReadonlyMap<string, readonly string[]>,
): void {
  for (const [file, paths] of map) {
    for (const path of paths) {
      const parts = path.split('.');
      const index = batched ? Number(parts.shift()) : 0;
      const operation = operations[index];
      const [where, variable] = parts;
      if (!operation || where !== 'variables' || variable === undefined) {
        throw badMultipart(`map["${file}"] names "${path}", which is no variable of the operation`);
      }
      let document: DocumentNode;
      try {
        document = parse(operation.query ?? '', { maxTokens: options.guards.maxTokens });
      } catch {
        throw uploadRefused(
          `file "${file}" refused: the operation it is sent with cannot be read`,
          400,
        );
      }
      const definition = getOperationAST(document, operation.operationName);
      const declared = definition?.variableDefinitions?.find(
        (candidate) => candidate.variable.name.value === variable,
      );
      const type = declared ? typeFromAST(options.schema, declared.type) : undefined;
      if (!definition || !type || getNamedType(type).name !== UPLOAD_SCALAR) {
        throw uploadRefused(
          `file "${file}" refused: the operation takes no file in $${variable} (only variables of type ${UPLOAD_SCALAR}, of fields that take one, receive uploads)`,
          400,
        );
      }
      const rootType = options.schema.getRootType(definition.operation);
      const fields = fieldsUsingVariable(document, definition, variable);
      const takers = fields.filter((name) =>
        rootType
          ?.getFields()
          [name]?.args.some((arg) => getNamedType(arg.type).name === UPLOAD_SCALAR),
      );
      if (!rootType || takers.length === 0) {
        throw uploadRefused(
          `file "${file}" refused: no field of the operation takes $${variable} as a file`,
          400,
        );
      }
      for (const field of takers) {
        const permissions = permissionsFor(rootType.name, field);
        const who = principal ? describePrincipal(principal) : 'this request';
        if (options.readOnly) {
          // Worded as the field's own refusal: the same whichever way the operation came.
          throw uploadRefused(
            `${rootType.name}.${field} is turned off: the server is read-only (DOCKERGRAPH_READ_ONLY)`,
            403,
            'FORBIDDEN',
          );
        }
        const held = principal?.permissions ?? new Set<Permission>();
        if (!permissions?.every((permission) => held.has(permission))) {
          // Worded as the field's own refusal: the same whichever way the operation came.
          throw uploadRefused(
            `${who} may not use ${rootType.name}.${field}${permissions ? `: ${describeMissingPermissions(permissions, held)}` : ' (it has no access rule)'}`,
            403,
            'FORBIDDEN',
          );
        }
      }
    }
  }
}

/** Sets `value` at a dotted path of `target`, as the multipart spec's map says. */
function setAtPath(target: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  let current = target as Record<string, unknown>;
  for (const [index, key] of keys.entries()) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      throw badMultipart(`the path "${path}" is not allowed`);
    }
    if (index === keys.length - 1) {
      current[key] = value;
      return;
    }
    const next = current[key];
    if (typeof next !== 'object' || next === null) {
      const created: Record<string, unknown> = {};
      current[key] = created;
      current = created;
    } else current = next as Record<string, unknown>;
  }
}

/** The temporary folders of requests whose uploads are on disk. */
const folders = new WeakMap<Request, string>();

/** Requests whose subscription's stream may still read their uploads: removed when it ends. */
const streaming = new WeakSet<Request>();

/** Removes the uploads of `request`: when it is answered, ended, or aborted. */
async function removeUploads(request: Request): Promise<void> {
  const folder = folders.get(request);
  if (folder === undefined) return;
  folders.delete(request);
  await rm(folder, { recursive: true, force: true });
}

/**
 * Reads a multipart request as the GraphQL multipart request specification has it,
 * streaming: `operations` and `map` first, which are admitted (rate limit, registered
 * operations) and checked ({@link checkUploads}) before any file is read; then each
 * file is written to a private temporary folder (0700, files 0600) as it arrives,
 * never held in memory, and handed to resolvers as a `File` backed by that file.
 */
async function parseMultipart(
  options: UploadOptions,
  original: Request,
  request: Request,
  serverContext: unknown,
): Promise<GraphQLParams | GraphQLParams[]> {
  const contentType = request.headers.get('content-type') ?? '';
  const body = request.body;
  if (!body) throw badMultipart('the request has no body');
  const principal = options.principals.get(original);
  const auditSource = {
    principal,
    transport: transportOfRequest(original),
    clientAddress: options.clientAddressOf(serverContext),
  };
  const folder = await mkdtemp(join(tmpdir(), 'dockergraph-upload-'));
  folders.set(original, folder);
  // Yoga's own parser (Request.formData) holds every file in memory: busboy streams.
  const parser = new Busboy({
    headers: { 'content-type': contentType },
    limits: {
      fieldSize: options.maxFieldBytes,
      fields: 2,
      fileSize: options.maxUploadBytes,
    },
  });
  const source = Readable.from(body as unknown as AsyncIterable<Uint8Array>);
  let operationsText: string | undefined;
  /** The admitted operations and their file map, once the guards let them through. */
  let parsed:
    | { operations: GraphQLParams[]; batched: boolean; map: Map<string, string[]> }
    | undefined;
  /** The guards' verdict on the operations, once "map" has come. */
  let admission: Promise<void> | undefined;
  const written: Promise<void>[] = [];
  const files = new Map<string, { path: string; name: string; type: string }>();
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    source.destroy();
    parser.destroy();
  };
  parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
    try {
      if (valueTruncated) {
        throw uploadRefused(
          `the multipart field "${name}" is longer than ${options.maxFieldBytes} bytes (DOCKERGRAPH_MAX_BODY_BYTES)`,
          413,
          'REQUEST_TOO_LARGE',
        );
      }
      if (name === 'operations' && operationsText === undefined) {
        operationsText = value;
        return;
      }
      if (name !== 'map' || operationsText === undefined || admission !== undefined) {
        throw badMultipart(`unexpected field "${name}"`);
      }
      const operations = parseJson(operationsText, 'operations');
      const batched = Array.isArray(operations);
      const list = (batched ? operations : [operations]) as GraphQLParams[];
      if (!list.every((item) => typeof item === 'object' && item !== null)) {
        throw badMultipart('the field "operations" must hold an operation or a list of them');
      }
      const fileMap = readMap(value);
      // The guards every operation passes, before the files are read; not again once
      // parsed. They may wait on a shared store (Redis): files that arrive meanwhile
      // wait for the verdict (their streams hold busboy back, and busboy the body).
      admission = admit(list, batched, fileMap).catch(fail);
    } catch (error) {
      fail(error);
    }
  });
  const admit = async (
    list: GraphQLParams[],
    batched: boolean,
    fileMap: Map<string, string[]>,
  ): Promise<void> => {
    const admitted = await guardOperations(options.guards, auditSource, {
      operations: list,
      batched,
    });
    if (admitted instanceof GraphQLError) throw admitted;
    markAdmitted(original);
    try {
      checkUploads(options, principal, admitted, batched, fileMap);
    } catch (error) {
      // A refused mutation or subscription is audited as the other refusals are.
      if (error instanceof GraphQLError && options.guards.audit.enabled) {
        for (const operation of admitted) {
          const record = refusedOperationRecord(
            auditSource,
            operation,
            [error],
            options.guards.maxTokens,
          );
          if (record) options.guards.audit.write(record);
        }
      }
      throw error;
    }
    parsed = { operations: admitted, batched, map: fileMap };
  };
  parser.on('file', (name, stream, filename, _encoding, mimeType) => {
    if (admission === undefined) {
      stream.resume();
      fail(badMultipart('a file came before the fields "operations" and "map"'));
      return;
    }
    stream.on('limit', () =>
      fail(
        uploadRefused(
          `the file "${name}" is larger than the limit of ${options.maxUploadBytes} bytes (DOCKERGRAPH_MAX_UPLOAD_BYTES)`,
          413,
          'REQUEST_TOO_LARGE',
        ),
      ),
    );
    const store = async (pending: Promise<void>) => {
      await pending;
      if (!parsed) {
        // Refused: the reason is already the failure.
        stream.resume();
        return;
      }
      if (!parsed.map.has(name) || files.has(name)) {
        stream.resume();
        fail(badMultipart(`the file "${name}" is not named in "map", or comes twice`));
        return;
      }
      const path = join(folder, String(files.size));
      files.set(name, { path, name: filename, type: mimeType });
      await pipeline(stream, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    };
    written.push(store(admission).catch(fail));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      parser.once('finish', resolve);
      parser.once('close', resolve);
      parser.once('error', reject);
      source.once('error', reject);
      source.pipe(parser);
    }).catch((error: unknown) => {
      failure ??= error;
    });
    await admission;
    await Promise.all(written);
    if (failure === undefined && !parsed) {
      failure = badMultipart('the fields "operations" and "map" are missing');
    }
    if (failure !== undefined) throw failure;
    if (!parsed) throw badMultipart('the fields "operations" and "map" are missing');
    const target = parsed.batched ? parsed.operations : parsed.operations[0];
    for (const [name, paths] of parsed.map) {
      const file = files.get(name);
      if (!file) throw badMultipart(`the file "${name}" named in "map" was not sent`);
      // Backed by the file on disk: read as the engine reads it, never held whole.
      const blob = await openAsBlob(file.path, { type: file.type });
      const upload = new File([blob], file.name, { type: file.type });
      for (const path of paths) setAtPath(target, path, upload);
    }
    return parsed.batched ? parsed.operations : (parsed.operations[0] ?? {});
  } catch (error) {
    await removeUploads(original);
    if (error instanceof GraphQLError) throw error;
    throw badMultipart(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Multipart uploads: accepted only for operations that take a `File` argument, and
 * only once the principal is known to hold the permission of the fields that take
 * it; streamed to temporary files (see {@link parseMultipart}) that are removed when
 * the request has been answered (for a subscription, when its stream ends) or aborted.
 */
export function useUploads(options: UploadOptions): Plugin<GraphQLContext> {
  return {
    onRequestParse({ request, setRequestParser, serverContext }) {
      if (request.method !== 'POST') return;
      if (!/^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '')) return;
      request.signal.addEventListener('abort', () => void removeUploads(request), { once: true });
      setRequestParser((given) => parseMultipart(options, request, given, serverContext));
    },
    onSubscribe({ args }) {
      const { request } = args.contextValue as { request?: Request };
      if (!request || !folders.has(request)) return;
      return {
        onSubscribeResult({ result }) {
          // A subscription refused at its start is a result: answered, as a query's is.
          if (!isAsyncIterable(result)) return;
          streaming.add(request);
          whenSubscriptionEnds(result, () => void removeUploads(request));
        },
      };
    },
    onResponse({ request }) {
      // A subscription's stream ends later, and its uploads with it. Not every answer of type
      // text/event-stream is one: a mutation's result, a refused subscription's are written
      // so too, and their uploads (up to DOCKERGRAPH_MAX_UPLOAD_BYTES each) stayed on disk.
      if (!folders.has(request) || streaming.has(request)) return;
      void removeUploads(request);
    },
  };
}

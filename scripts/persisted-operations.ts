/**
 * Writes a persisted-operations file (DOCKERGRAPH_PERSISTED_OPERATIONS_FILE) from
 * .graphql files: `{ "<sha256 hex>": "<document>" }`, each document as graphql-js
 * prints it (comments and spacing dropped), which is the text clients hash.
 *
 *   npm run persisted-operations -- [file.graphql…] [--out operations.json]
 *   npm run persisted-operations -- [file.graphql…] --redis redis://host:6379 --key <hash>
 *
 * Without files it reads examples/*.graphql; without --out it writes to stdout. With
 * --redis it adds them to the Redis hash `--key` (DOCKERGRAPH_PERSISTED_OPERATIONS_REDIS_KEY),
 * which every replica reads at once, without a restart.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, print } from 'graphql';
import { Redis } from 'ioredis';
import { operationHash } from '../src/plugins/persisted-operations.ts';

/** The persisted-operations object of the documents in `files`, keyed by hash. */
export function persistedOperationsOf(files: readonly string[]): Record<string, string> {
  const operations: Record<string, string> = {};
  for (const file of files) {
    let document: string;
    try {
      document = print(parse(readFileSync(file, 'utf8')));
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`);
    }
    operations[operationHash(document)] = document;
  }
  return operations;
}

/** Adds `operations` to the Redis hash `key` at `url`; answers how many were new. */
export async function registerInRedis(
  url: string,
  key: string,
  operations: Readonly<Record<string, string>>,
): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return Object.keys(operations).length === 0 ? 0 : await redis.hset(key, operations);
  } finally {
    redis.disconnect();
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const files: string[] = [];
  let out: string | undefined;
  let redisUrl: string | undefined;
  let redisKey: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i] ?? '';
    if (argument === '--out') out = argv[++i];
    else if (argument === '--redis') redisUrl = argv[++i];
    else if (argument === '--key') redisKey = argv[++i];
    else files.push(argument);
  }
  if ((redisUrl === undefined) !== (redisKey === undefined)) {
    throw new Error('--redis <url> and --key <hash> go together');
  }
  if (files.length === 0) {
    const examples = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
    for (const name of readdirSync(examples).sort()) {
      if (name.endsWith('.graphql')) files.push(join(examples, name));
    }
  }
  const operations = persistedOperationsOf(files);
  if (redisUrl !== undefined && redisKey !== undefined) {
    const added = await registerInRedis(redisUrl, redisKey, operations);
    process.stderr.write(`registered ${files.length} operations in ${redisKey} (${added} new)\n`);
    return;
  }
  const text = `${JSON.stringify(operations, null, 2)}\n`;
  if (out === undefined) process.stdout.write(text);
  else {
    writeFileSync(resolve(out), text);
    process.stderr.write(`wrote ${files.length} operations to ${out}\n`);
  }
}

if (process.argv[1] && import.meta.url === `file://${resolve(process.argv[1])}`) {
  await main(process.argv.slice(2));
}

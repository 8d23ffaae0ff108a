/**
 * Writes a persisted-operations file (DOCKERGRAPH_PERSISTED_OPERATIONS_FILE) from
 * .graphql files: `{ "<sha256 hex>": "<document>" }`, each document as graphql-js
 * prints it (comments and spacing dropped), which is the text clients hash.
 *
 *   npm run persisted-operations -- [file.graphql…] [--out operations.json]
 *
 * Without files it reads examples/*.graphql; without --out it writes to stdout.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, print } from 'graphql';
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

function main(argv: readonly string[]): void {
  const files: string[] = [];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i] ?? '';
    if (argument === '--out') out = argv[++i];
    else files.push(argument);
  }
  if (files.length === 0) {
    const examples = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
    for (const name of readdirSync(examples).sort()) {
      if (name.endsWith('.graphql')) files.push(join(examples, name));
    }
  }
  const text = `${JSON.stringify(persistedOperationsOf(files), null, 2)}\n`;
  if (out === undefined) process.stdout.write(text);
  else {
    writeFileSync(resolve(out), text);
    process.stderr.write(`wrote ${files.length} operations to ${out}\n`);
  }
}

if (process.argv[1] && import.meta.url === `file://${resolve(process.argv[1])}`) {
  main(process.argv.slice(2));
}

/**
 * `npm run token -- --id ci --role admin [--label team=payments]...`: makes a
 * new random bearer token, prints it once, and prints the entry (with the
 * token's SHA-256, never the token) to add to the token configuration.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ConfigError, parseTokenConfiguration } from '../src/config.ts';
import { hashToken } from '../src/security/principal.ts';
import { BUILT_IN_ROLES } from '../src/security/roles.ts';

const USAGE =
  'usage: npm run token -- --id <token id> --role <role> [--label name=value]...\n' +
  `  --id     1 to 64 letters, digits, ".", "_" or "-", e.g. "ci"; it names the token in logs and errors\n` +
  `  --role   ${Object.keys(BUILT_IN_ROLES).join(', ')}, or a role defined under "roles" in the token file\n` +
  '  --label  limits the token to objects carrying this label (repeatable)';

/** What the token is for. */
export interface TokenRequest {
  readonly id: string;
  readonly role: string;
  readonly labels: Readonly<Record<string, string>> | null;
}

/** A made token and the configuration entry that lets it in. */
export interface MadeToken {
  /** The bearer token: 32 random bytes, base64url. Shown once, stored nowhere. */
  readonly token: string;
  /** The entry for "tokens" of DOCKERGRAPH_TOKENS_FILE or DOCKERGRAPH_TOKENS. */
  readonly entry: {
    readonly id: string;
    readonly role: string;
    readonly sha256: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
}

/** Raised for command-line arguments the script cannot use; the message says why. */
export class TokenArgumentError extends Error {
  override readonly name = 'TokenArgumentError';
}

/** Reads `--id`, `--role` and `--label name=value` (repeatable) from the command line. */
export function parseTokenArguments(argv: readonly string[]): TokenRequest {
  let id: string | undefined;
  let role: string | undefined;
  const labels: Record<string, string> = {};
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? '';
    const [flag, inline] = argument.startsWith('--') ? argument.split(/=(.*)/s, 2) : [argument];
    if (flag !== '--id' && flag !== '--role' && flag !== '--label') {
      throw new TokenArgumentError(`unknown argument "${argument}"`);
    }
    const value = inline ?? argv[++index];
    if (value === undefined || value === '') {
      throw new TokenArgumentError(`${flag} needs a value`);
    }
    if (flag === '--id') id = value;
    else if (flag === '--role') role = value;
    else {
      const separator = value.indexOf('=');
      if (separator <= 0) {
        throw new TokenArgumentError(`--label takes name=value, got "${value}"`);
      }
      const name = value.slice(0, separator);
      if (Object.hasOwn(labels, name)) {
        throw new TokenArgumentError(`--label "${name}" is given twice`);
      }
      labels[name] = value.slice(separator + 1);
    }
  }
  if (id === undefined) throw new TokenArgumentError('--id is required');
  if (role === undefined) throw new TokenArgumentError('--role is required');
  return { id, role, labels: Object.keys(labels).length > 0 ? labels : null };
}

/**
 * Makes a token for `request` from 32 random bytes (`random`, for tests), and
 * checks its entry with the parser the server reads tokens with.
 */
export function makeToken(request: TokenRequest, random: Buffer = randomBytes(32)): MadeToken {
  if (random.length < 32) throw new TokenArgumentError('a token needs 32 random bytes');
  const token = random.toString('base64url');
  const entry = {
    id: request.id,
    role: request.role,
    sha256: hashToken(token),
    ...(request.labels ? { labels: request.labels } : {}),
  };
  // A custom role is defined in the token file, next to the tokens: assume it is there.
  const roles = request.role in BUILT_IN_ROLES ? {} : { [request.role]: [] };
  try {
    parseTokenConfiguration(JSON.stringify({ roles, tokens: [entry] }), 'the token');
  } catch (error) {
    if (error instanceof ConfigError) {
      // "the token: tokens[0].id must be …" names the command-line argument instead.
      throw new TokenArgumentError(error.message.replace(/^the token: tokens\[0\]\./, '--'));
    }
    throw error;
  }
  return { token, entry };
}

/** What the script prints: the token once, then the entry and where it goes. */
export function describeMadeToken(made: MadeToken): string {
  const builtIn = made.entry.role in BUILT_IN_ROLES;
  return [
    `Token "${made.entry.id}" (role ${made.entry.role}). It is shown only this once; clients send it as "Authorization: Bearer <token>":`,
    '',
    `  ${made.token}`,
    '',
    'Add this entry to "tokens" in the token file (DOCKERGRAPH_TOKENS_FILE) or in DOCKERGRAPH_TOKENS; it holds the SHA-256 of the token, not the token:',
    '',
    `  ${JSON.stringify(made.entry)}`,
    ...(builtIn
      ? []
      : [
          '',
          `Role "${made.entry.role}" is not built in: define it under "roles" in the same configuration, e.g. {"roles": {"${made.entry.role}": ["read", "logs"]}}.`,
        ]),
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(describeMadeToken(makeToken(parseTokenArguments(process.argv.slice(2)))));
  } catch (error) {
    if (!(error instanceof TokenArgumentError)) throw error;
    process.stderr.write(`make-token: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
}

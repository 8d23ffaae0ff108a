import { type ASTNode, type DocumentNode, Kind, type ValueNode, visit } from 'graphql';

/**
 * Redaction of secrets from operation variables, for the audit log: what a
 * client sent may hold registry credentials, environment values, build
 * arguments and file contents, none of which may reach a log.
 */

/** What stands in for a secret value. */
export const REDACTED = '[redacted]';

/** Names whose whole value is a secret: credentials, tokens, keys. */
const SECRET_NAME =
  /pass(?:word|wd|phrase)?$|^pass|secret|token|credential|api_?key|private_?key|unlock_?key|authorization|auth$/i;

/**
 * Names holding environment-like `NAME=value` pairs: the names stay, every
 * value goes, since that is where secrets are passed to containers and builds.
 */
const ENVIRONMENT_NAME = /^(?:env|envs|environment|build_?args)$/i;

/**
 * `configurePlugin`'s `KEY=value` settings: redacted like an environment, except that an
 * item without `=` is hidden whole. A bare name in an environment means "inherit it"; a
 * bare setting means nothing, so it is most likely a value pasted without its key.
 */
const SETTINGS_NAME = /^settings$/i;

/** Names holding free text that may embed secrets: a process's input, file contents. */
const CONTENT_NAME = /^(?:stdin|dockerfile|content|contents)$/i;

/** Dockerfile instructions (`commit` and `import` changes); an `ENV` one carries values. */
const CHANGES_NAME = /^changes$/i;

/** `key=value` options inside a driver option string, e.g. CIFS `o=username=u,password=p`. */
const INLINE_SECRET_OPTION =
  /((?:^|[,\s])(?:pass(?:word|wd)?|secret|token|credentials?|api_?key)=)([^,\s]*)/gi;

/** How a value found under a name is redacted. */
type Rule = 'secret' | 'environment' | 'settings' | 'content' | 'changes' | 'none';

function ruleOf(name: string | undefined): Rule {
  if (name === undefined) return 'none';
  if (ENVIRONMENT_NAME.test(name)) return 'environment';
  if (SETTINGS_NAME.test(name)) return 'settings';
  if (CONTENT_NAME.test(name)) return 'content';
  if (CHANGES_NAME.test(name)) return 'changes';
  if (SECRET_NAME.test(name)) return 'secret';
  return 'none';
}

/** Whether a value found under `name` (an argument, input field or variable) is redacted. */
export function isSecretName(name: string): boolean {
  return ruleOf(name) !== 'none';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An uploaded file (a WHATWG `File`): shown by name and size, never by content. */
function isUpload(value: unknown): value is { name: string; size: number } {
  return (
    isRecord(value) &&
    typeof value.name === 'string' &&
    typeof value.size === 'number' &&
    typeof value.arrayBuffer === 'function'
  );
}

/** Every string and number below `value`: what a redacted value hid. */
function collectLeaves(value: unknown, secrets: string[]): void {
  if (typeof value === 'string') secrets.push(value);
  else if (typeof value === 'number' || typeof value === 'bigint') secrets.push(String(value));
  else if (Array.isArray(value)) for (const item of value) collectLeaves(item, secrets);
  else if (isRecord(value) && !isUpload(value)) {
    for (const item of Object.values(value)) collectLeaves(item, secrets);
  }
}

function hide(value: unknown, secrets: string[]): string {
  collectLeaves(value, secrets);
  return REDACTED;
}

/** The name of a `{name, value}` (or `{key, value}`) pair, if `value` is one. */
function pairName(value: Record<string, unknown>): string | undefined {
  if (!('value' in value)) return undefined;
  if (typeof value.name === 'string') return value.name;
  if (typeof value.key === 'string') return value.key;
  return undefined;
}

/** `NAME=value` → `NAME=[redacted]`; a bare `NAME` stays when `keepBare` (inherit it), else goes. */
function redactAssignment(text: string, secrets: string[], keepBare: boolean): string {
  const equals = text.indexOf('=');
  if (equals < 0) return keepBare ? text : hide(text, secrets);
  secrets.push(text.slice(equals + 1));
  return `${text.slice(0, equals)}=${REDACTED}`;
}

function redactEnvironment(value: unknown, secrets: string[], keepBare = true): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') return redactAssignment(value, secrets, keepBare);
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item === 'string') return redactAssignment(item, secrets, keepBare);
      if (isRecord(item) && pairName(item) !== undefined) {
        return { ...item, value: hide(item.value, secrets) };
      }
      return hide(item, secrets);
    });
  }
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [name, hide(item, secrets)]),
    );
  }
  return hide(value, secrets);
}

function redactChanges(value: unknown, secrets: string[]): unknown {
  const redactOne = (item: unknown) =>
    typeof item === 'string' && /^\s*ENV\s/i.test(item)
      ? `${/^\s*ENV/i.exec(item)?.[0] ?? 'ENV'} ${hide(item.replace(/^\s*ENV\s+/i, ''), secrets)}`
      : item;
  return Array.isArray(value) ? value.map(redactOne) : redactOne(value);
}

function redactInlineOptions(text: string, secrets: string[]): string {
  return text.replace(INLINE_SECRET_OPTION, (_match, prefix: string, secret: string) => {
    secrets.push(secret);
    return `${prefix}${REDACTED}`;
  });
}

/**
 * A copy of `value` fit for a log, as found under `name`: secrets replaced by
 * `[redacted]` (environment pairs keep their names), uploads shown as
 * `{file, size}`. The strings it took out are pushed onto `secrets`.
 */
export function redactValue(value: unknown, name?: string, secrets: string[] = []): unknown {
  if (value === null || value === undefined) return value;
  if (isUpload(value)) return { file: value.name, size: value.size };
  switch (ruleOf(name)) {
    case 'secret':
    case 'content':
      return hide(value, secrets);
    case 'environment':
      return redactEnvironment(value, secrets);
    case 'settings':
      return redactEnvironment(value, secrets, false);
    case 'changes':
      return redactChanges(value, secrets);
    case 'none':
      break;
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, undefined, secrets));
  if (!isRecord(value)) return value;
  const pair = pairName(value);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (pair !== undefined && key === 'value') {
      copy[key] = isSecretName(pair)
        ? hide(item, secrets)
        : typeof item === 'string'
          ? redactInlineOptions(item, secrets)
          : redactValue(item, undefined, secrets);
    } else {
      copy[key] = redactValue(item, key, secrets);
    }
  }
  return copy;
}

/** What a variable bound at a secret position is redacted as: the position's own rule. */
const WHOLLY_SECRET = 'secret';

function classifyPosition(path: readonly string[]): string | undefined {
  for (let index = path.length - 1; index >= 0; index -= 1) {
    const name = path[index] as string;
    const rule = ruleOf(name);
    if (rule === 'none') continue;
    // At the position itself its rule applies; anything inside it (an env entry's value) is
    // wholly secret.
    return index === path.length - 1 ? name : WHOLLY_SECRET;
  }
  return undefined;
}

/**
 * Calls `onLeaf` for each variable and literal leaf in the arguments of
 * `document` that sits at a position holding secrets, with the name it is to be
 * redacted as: where a value goes says what it is, whatever its variable's name.
 */
function visitSecretPositions(
  document: DocumentNode,
  onLeaf: (node: ValueNode, as: string) => void,
): void {
  const walk = (node: ValueNode, path: readonly string[], inherited?: string): void => {
    if (node.kind === Kind.LIST) {
      for (const item of node.values) walk(item, path, inherited);
    } else if (node.kind === Kind.OBJECT) {
      // A `{name: "password", value: …}` pair: its value is a secret whatever the list.
      const nameField = node.fields.find((field) => /^(?:name|key)$/.test(field.name.value));
      const pairIsSecret =
        nameField?.value.kind === Kind.STRING && isSecretName(nameField.value.value);
      for (const field of node.fields) {
        const secretPair = pairIsSecret && field.name.value === 'value' ? WHOLLY_SECRET : undefined;
        walk(field.value, [...path, field.name.value], secretPair ?? inherited);
      }
    } else if (node.kind !== Kind.NULL) {
      const as = inherited ?? classifyPosition(path);
      if (as !== undefined) onLeaf(node, as);
    }
  };
  visit(document as ASTNode, {
    Argument(argument) {
      walk(argument.value, [argument.name.value]);
    },
  });
}

/**
 * Variables of `document` used at positions that hold secrets, e.g. `$pw` in
 * `auth: { password: $pw }` or `$vars` in `input: { env: $vars }`, each with the
 * name its value is to be redacted as: a variable's own name says nothing about
 * where it goes.
 */
export function secretVariablePositions(document: DocumentNode): Map<string, string> {
  const positions = new Map<string, string>();
  visitSecretPositions(document, (node, as) => {
    if (node.kind !== Kind.VARIABLE) return;
    const known = positions.get(node.name.value);
    positions.set(node.name.value, known === undefined || known === as ? as : WHOLLY_SECRET);
  });
  return positions;
}

/**
 * The literal values `document` writes at positions that hold secrets (e.g.
 * `env: [{name: "TOKEN", value: 123456}]`), as their source text: validation
 * messages quote such literals, so they are scrubbed from audit lines too.
 */
export function secretLiterals(document: DocumentNode): string[] {
  const literals: string[] = [];
  visitSecretPositions(document, (node) => {
    if ('value' in node && typeof node.value === 'string') literals.push(node.value);
  });
  return literals;
}

/** Variables fit for an audit line, and the secret strings taken out of them. */
export interface RedactedVariables {
  readonly variables: Record<string, unknown> | null;
  /** The values that were redacted, to scrub from error messages of the same operation. */
  readonly secrets: readonly string[];
}

/**
 * Redacts an operation's variables: by each variable's name, by what its value
 * holds (`password`, `env`, uploads, …), and by where `document` uses it.
 */
export function redactVariables(
  variables: Readonly<Record<string, unknown>> | null | undefined,
  document?: DocumentNode,
): RedactedVariables {
  if (variables === null || variables === undefined) return { variables: null, secrets: [] };
  const positions = document ? secretVariablePositions(document) : new Map<string, string>();
  const secrets: string[] = [];
  const redacted: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    redacted[name] = redactValue(value, positions.get(name) ?? name, secrets);
  }
  return { variables: redacted, secrets };
}

/** Shortest secret scrubbed from text: shorter ones would mangle words that merely contain them. */
const MIN_SCRUBBED_LENGTH = 4;

/** `text` with every occurrence of the `secrets` replaced by `[redacted]`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  const longestFirst = [...new Set(secrets)]
    .filter((secret) => secret.length >= MIN_SCRUBBED_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) scrubbed = scrubbed.split(secret).join(REDACTED);
  return scrubbed;
}

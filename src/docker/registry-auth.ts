/**
 * Registry credentials for pull, push and build, sent as the
 * `X-Registry-Auth` header: base64url of a JSON object with `username`,
 * `password`, `serveraddress` or `identitytoken`. The header is never logged
 * and credentials never appear in errors.
 */
export interface RegistryCredentials {
  readonly username?: string;
  readonly password?: string;
  /** Registry host, e.g. "registry.example.com:5000". */
  readonly serverAddress?: string;
  /** A token from `POST /auth`, instead of username and password. */
  readonly identityToken?: string;
}

/**
 * The `X-Registry-Auth` header value; `{}` when there are no credentials (push requires the header).
 * The engine decodes it with Go's padded URL-safe base64 and silently drops credentials it cannot
 * decode, so the padding must stay.
 */
export function encodeRegistryAuth(credentials: RegistryCredentials | undefined): string {
  return encodeBase64Url(JSON.stringify(authConfigOf(credentials)));
}

/**
 * The `X-Registry-Config` header value of a build: the credentials of each registry a `FROM`
 * image may come from, keyed by registry host, encoded as `X-Registry-Auth` is.
 */
export function encodeRegistryConfig(
  config: Readonly<Record<string, RegistryCredentials>>,
): string {
  const json: Record<string, Record<string, string>> = {};
  for (const [registry, credentials] of Object.entries(config)) {
    json[registry] = authConfigOf(credentials);
  }
  return encodeBase64Url(JSON.stringify(json));
}

/** The engine's `AuthConfig` JSON of credentials. */
function authConfigOf(credentials: RegistryCredentials | undefined): Record<string, string> {
  const json: Record<string, string> = {};
  if (credentials?.username !== undefined) json.username = credentials.username;
  if (credentials?.password !== undefined) json.password = credentials.password;
  if (credentials?.serverAddress !== undefined) json.serveraddress = credentials.serverAddress;
  if (credentials?.identityToken !== undefined) json.identitytoken = credentials.identityToken;
  return json;
}

function encodeBase64Url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

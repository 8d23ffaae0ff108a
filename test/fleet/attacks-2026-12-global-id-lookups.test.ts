// Attacks on lookups by global ID over a fleet (December 2026 review of 3c85d75): the root
// lookups `container(idOrName:)`, `image(reference:)`, `volume(name:)` and `network(idOrName:)`
// are bound to the engine a global ID names. A token limited to engines (one engine, and two)
// sends the IDs of a hidden engine's real objects, as given and re-encoded (padded, wrapped in
// blanks, cut by dots, junk after "=", the engine name in capitals), with `engine:` naming a
// visible engine, the hidden one, or none, given to the lookup of another type, mixed with
// visible lookups in one request, and over WebSocket: each answer must be byte for byte the
// answer to the same ID naming an engine that does not exist ("fleet-z"), once the names are
// swapped, and no call may reach the hidden engine.
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { randomToken, tokensEnv } from '../helpers/access.ts';
import {
  FLEET_BASE_IMAGE,
  FLEET_ENGINE_NAMES,
  fleetTestRun,
  runDockerCli,
  startFleetServer,
} from '../helpers/fleet.ts';
import { encodeGlobalId, LOOKUPS, type LookupField } from '../helpers/global-ids.ts';
import { clientWithToken, finalAnswer } from '../helpers/graphql-ws.ts';
import { renamedText } from '../helpers/renamed.ts';

const testRun = fleetTestRun('global-id-lookups');
const { run, label: LABEL } = testRun;
const tokens = { root: randomToken(), onlyA: randomToken(), ab: randomToken() };
const env = {
  ...tokensEnv([
    { id: 'root', role: 'admin', token: tokens.root },
    { id: 'only-a', role: 'admin', token: tokens.onlyA, engines: ['fleet-a'] },
    // Two engines, one by its label: the binding of several engines, not the single one.
    { id: 'a-and-staging', role: 'admin', token: tokens.ab, engines: ['fleet-a', 'env=staging'] },
  ]),
  DOCKERGRAPH_RATE_LIMIT: '0',
  // No event streams of its own: every call to an engine is one a request made.
  DOCKERGRAPH_READ_MODEL: 'off',
};
const LABELS = { 'fleet-a': { env: 'prod' }, 'fleet-b': { env: 'staging' }, 'fleet-c': {} };

const FIELDS = Object.keys(LOOKUPS) as LookupField[];

/** Per engine, the object id of one real object of each type. */
const objects: Record<string, Record<LookupField, string>> = {};
/** Engine calls made per engine since the server started, as "METHOD /path". */
const calls: Record<string, string[]> = {};
let server: RunningServer;
const volumeName = `${run}-vol`;

function objectOf(engine: string, field: LookupField): string {
  const found = objects[engine]?.[field];
  if (found === undefined) throw new Error(`no ${field} of ${engine}`);
  return found;
}

/** POSTs `document` with `token`; the answer's text, as the client receives it. */
async function post(
  document: string,
  variables: Record<string, unknown>,
  token: string,
): Promise<string> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: document, variables }),
  });
  return `${response.status} ${await response.text()}`;
}

function lookupDocument(field: LookupField, withEngine: boolean): string {
  const { argument } = LOOKUPS[field];
  return withEngine
    ? `query Lookup($value: String!, $engine: String) { ${field}(${argument}: $value, engine: $engine) { id } }`
    : `query Lookup($value: String!) { ${field}(${argument}: $value) { id } }`;
}

/**
 * Expects `byForged` (asked with `forged`, an ID on fleet-z, no engine at all) to be an error,
 * and `byHidden` (asked with `hidden`, the same on the hidden fleet-c) to be the very same text
 * with the IDs, the engine names and `pairs` written back: nothing tells the two apart.
 */
async function expectAnsweredAsForged(
  what: string,
  byHidden: Promise<string>,
  byForged: Promise<string>,
  [hidden, forged]: readonly [string, string],
  pairs: readonly (readonly [string, string])[] = [],
): Promise<void> {
  const [hiddenText, forgedText] = await Promise.all([byHidden, byForged]);
  expect(forgedText, what).toMatch(/"errors"/);
  expect(hiddenText, what).toBe(
    renamedText(forgedText, [[forged, hidden], ...pairs, ['fleet-z', 'fleet-c']]),
  );
}

/** Spellings of one global ID's bytes (as `Type:engine:objectId`), which base64 reads as the same. */
const SPELLINGS: Readonly<Record<string, (decoded: string) => string>> = {
  'as written': (decoded) => Buffer.from(decoded).toString('base64url'),
  'standard base64, padded': (decoded) => Buffer.from(decoded).toString('base64'),
  'wrapped in blanks': (decoded) => ` \t${Buffer.from(decoded).toString('base64url')}\n`,
  'cut by dots': (decoded) => {
    const id = Buffer.from(decoded).toString('base64url');
    return `${id.slice(0, 5)}.${id.slice(5, 17)}.${id.slice(17)}`;
  },
  'junk after "="': (decoded) => `${Buffer.from(decoded).toString('base64')}=Zm9v`,
};

beforeAll(async () => {
  await Promise.all(
    FLEET_ENGINE_NAMES.map(async (engine) => {
      const container = await testRun.runIdleContainer(engine, `${run}-${engine}-idle`);
      await runDockerCli(engine, ['volume', 'create', '--label', LABEL, volumeName]);
      const image = await runDockerCli(engine, [
        'image',
        'inspect',
        '-f',
        '{{.Id}}',
        FLEET_BASE_IMAGE,
      ]);
      const network = await runDockerCli(engine, ['network', 'inspect', '-f', '{{.Id}}', 'bridge']);
      objects[engine] = {
        container,
        image: image.stdout.trim(),
        volume: volumeName,
        network: network.stdout.trim(),
      };
    }),
  );
  server = await startFleetServer(env, LABELS, (name, client) => {
    const own: string[] = [];
    calls[name] = own;
    client.observe((call) => own.push(`${call.method} ${call.path}`));
  });
});

afterAll(async () => {
  await server?.stop();
  await Promise.all(
    FLEET_ENGINE_NAMES.map(async (engine) => {
      const { stdout } = await runDockerCli(engine, ['ps', '-aq', '--filter', `label=${LABEL}`]);
      const found = stdout.split('\n').filter(Boolean);
      if (found.length > 0) await runDockerCli(engine, ['rm', '-f', ...found]);
      await runDockerCli(engine, ['volume', 'rm', '-f', volumeName]);
    }),
  );
});

/** Calls made to fleet-c while `send` ran. */
async function callsToHiddenDuring(send: () => Promise<void>): Promise<string[]> {
  const hidden = calls['fleet-c'] ?? [];
  const start = hidden.length;
  await send();
  return hidden.slice(start);
}

describe('a token limited to engines, looking up by global ID', () => {
  it('finds the hidden engine objects with the unlimited token, by the IDs the attacks send', async () => {
    for (const field of FIELDS) {
      const id = encodeGlobalId(LOOKUPS[field].type, 'fleet-c', objectOf('fleet-c', field));
      expect(await post(lookupDocument(field, false), { value: id }, tokens.root)).toBe(
        `200 ${JSON.stringify({ data: { [field]: { id } } })}`,
      );
    }
  });

  it('answers each spelling of a hidden engine ID, on every lookup, byte for byte as one naming no engine', async () => {
    const seen = await callsToHiddenDuring(async () => {
      for (const token of [tokens.ab, tokens.onlyA]) {
        for (const field of FIELDS) {
          const { type } = LOOKUPS[field];
          const objectId = objectOf('fleet-c', field);
          const spellings: [string, string, string][] = Object.entries(SPELLINGS).map(
            ([spelling, spell]) => [
              spelling,
              spell(`${type}:fleet-c:${objectId}`),
              spell(`${type}:fleet-z:${objectId}`),
            ],
          );
          spellings.push([
            'engine name in capitals',
            encodeGlobalId(type, 'FLEET-C', objectId),
            encodeGlobalId(type, 'FLEET-Z', objectId),
          ]);
          for (const [spelling, hidden, forged] of spellings) {
            await expectAnsweredAsForged(
              `${field} ${spelling}`,
              post(lookupDocument(field, false), { value: hidden }, token),
              post(lookupDocument(field, false), { value: forged }, token),
              [hidden, forged],
              // Lookups that trim their argument echo it trimmed.
              [
                [forged.trim(), hidden.trim()],
                ['FLEET-Z', 'FLEET-C'],
              ],
            );
          }
        }
      }
    });
    expect(seen).toEqual([]);
    // Each spelling is read as a global ID: a visible engine's object is found by it, unbound.
    for (const field of FIELDS) {
      const { type } = LOOKUPS[field];
      const decoded = `${type}:fleet-b:${objectOf('fleet-b', field)}`;
      const id = encodeGlobalId(type, 'fleet-b', objectOf('fleet-b', field));
      for (const [spelling, spell] of Object.entries(SPELLINGS)) {
        expect(
          await post(lookupDocument(field, false), { value: spell(decoded) }, tokens.ab),
          `${field} ${spelling}`,
        ).toBe(`200 ${JSON.stringify({ data: { [field]: { id } } })}`);
      }
    }
  });

  it('answers `engine:` naming a visible engine, the hidden one, or one of no engine, beside a hidden ID, as for an ID of no engine', async () => {
    const seen = await callsToHiddenDuring(async () => {
      for (const token of [tokens.ab, tokens.onlyA]) {
        for (const field of FIELDS) {
          const { type } = LOOKUPS[field];
          const objectId = objectOf('fleet-c', field);
          const hidden = encodeGlobalId(type, 'fleet-c', objectId);
          const forged = encodeGlobalId(type, 'fleet-z', objectId);
          const cases: [
            string,
            { value: string; engine: string },
            { value: string; engine: string },
          ][] = [
            // A contradiction either way: the refusal must not tell a hidden engine from none.
            [
              'a visible engine, contradicting the ID',
              { value: hidden, engine: 'fleet-a' },
              { value: forged, engine: 'fleet-a' },
            ],
            [
              'the same engine',
              { value: hidden, engine: 'fleet-c' },
              { value: forged, engine: 'fleet-z' },
            ],
            // The engine's own key only, as one names an object on an engine one believes in.
            [
              'an engine key',
              { value: objectId, engine: 'fleet-c' },
              { value: objectId, engine: 'fleet-z' },
            ],
          ];
          for (const [what, asHidden, asForged] of cases) {
            await expectAnsweredAsForged(
              `${field} ${what}`,
              post(lookupDocument(field, true), asHidden, token),
              post(lookupDocument(field, true), asForged, token),
              [hidden, forged],
            );
          }
        }
      }
    });
    expect(seen).toEqual([]);
  });

  it('answers a hidden engine ID given to the lookup of another type as one naming no engine', async () => {
    const seen = await callsToHiddenDuring(async () => {
      for (const token of [tokens.ab, tokens.onlyA]) {
        for (const from of FIELDS) {
          const { type } = LOOKUPS[from];
          const objectId = objectOf('fleet-c', from);
          const hidden = encodeGlobalId(type, 'fleet-c', objectId);
          const forged = encodeGlobalId(type, 'fleet-z', objectId);
          for (const to of FIELDS.filter((field) => field !== from)) {
            await expectAnsweredAsForged(
              `${from} ID to ${to}`,
              post(lookupDocument(to, false), { value: hidden }, token),
              post(lookupDocument(to, false), { value: forged }, token),
              [hidden, forged],
            );
          }
        }
      }
    });
    expect(seen).toEqual([]);
  });

  it('answers hidden IDs beside visible ones in one request as IDs of no engine, the visible found', async () => {
    const document = `query Mixed($visible: String!, $hidden: String!, $image: String!, $volume: String!) {
      a: container(idOrName: $visible) { id }
      b: container(idOrName: $hidden) { id }
      c: image(reference: $image) { id }
      d: volume(name: $volume) { id }
      e: container(idOrName: $visible) { id }
    }`;
    const variablesOn = (engine: string) => ({
      visible: encodeGlobalId('Container', 'fleet-a', objectOf('fleet-a', 'container')),
      hidden: encodeGlobalId('Container', engine, objectOf('fleet-c', 'container')),
      image: encodeGlobalId('Image', engine, objectOf('fleet-c', 'image')),
      volume: encodeGlobalId('Volume', engine, volumeName),
    });
    const seen = await callsToHiddenDuring(async () => {
      for (const token of [tokens.ab, tokens.onlyA]) {
        const hiddenVariables = variablesOn('fleet-c');
        const forgedVariables = variablesOn('fleet-z');
        const [byHidden, byForged] = await Promise.all([
          post(document, hiddenVariables, token),
          post(document, forgedVariables, token),
        ]);
        const parsed = JSON.parse(byForged.slice(4)) as { data: Record<string, unknown> };
        expect(parsed.data).toEqual({
          a: { id: hiddenVariables.visible },
          b: null,
          c: null,
          d: null,
          e: { id: hiddenVariables.visible },
        });
        expect(byHidden).toBe(
          renamedText(byForged, [
            [forgedVariables.hidden, hiddenVariables.hidden],
            [forgedVariables.image, hiddenVariables.image],
            [forgedVariables.volume, hiddenVariables.volume],
            ['fleet-z', 'fleet-c'],
          ]),
        );
      }
    });
    expect(seen).toEqual([]);
  });

  it('answers the same over WebSocket', async () => {
    const clients: Client[] = [];
    try {
      const seen = await callsToHiddenDuring(async () => {
        for (const token of [tokens.ab, tokens.onlyA]) {
          const client = clientWithToken(server.url, token);
          clients.push(client);
          for (const field of FIELDS) {
            const objectId = objectOf('fleet-c', field);
            const hidden = encodeGlobalId(LOOKUPS[field].type, 'fleet-c', objectId);
            const forged = encodeGlobalId(LOOKUPS[field].type, 'fleet-z', objectId);
            const ask = (value: string) =>
              finalAnswer(client, { query: lookupDocument(field, false), variables: { value } });
            await expectAnsweredAsForged(
              field,
              ask(hidden).then((answer) => JSON.stringify(answer)),
              ask(forged).then((answer) => JSON.stringify(answer)),
              [hidden, forged],
            );
          }
        }
      });
      expect(seen).toEqual([]);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });
});

// `npm start` with an engines file: the engines it names are served, and SIGHUP re-reads the
// file without a restart. An engine removed ends its open event streams with a RESYNC naming
// the removal; an engine added is served at once; a file that does not read changes nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSubscription } from '../helpers/collect-subscription.ts';
import { fleetEngine, writeEnginesFile } from '../helpers/fleet.ts';
import { freePort } from '../helpers/free-port.ts';
import { clientOf } from '../helpers/graphql-ws.ts';
import { startServerProcess, stopServerProcesses } from '../helpers/server-process.ts';
import { waitFor } from '../helpers/wait-for.ts';

let dir: string;
let url: string;

function entry(name: string, env: string) {
  return { name, host: fleetEngine(name).dockerHost, labels: { env } };
}

async function engineNames(): Promise<string[]> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ engines { name labels { name value } } }' }),
  });
  const body = (await response.json()) as {
    data?: { engines: { name: string; labels: { name: string; value: string }[] }[] };
  };
  return (body.data?.engines ?? []).map(
    (engine) => `${engine.name}:${engine.labels.map((label) => label.value).join(',')}`,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-engines-'));
});

afterAll(async () => {
  await stopServerProcesses();
  await rm(dir, { recursive: true, force: true });
});

describe('npm start with an engines file', () => {
  it('serves the engines of the file and re-reads it on SIGHUP', async () => {
    const path = await writeEnginesFile(
      dir,
      [entry('fleet-a', 'prod'), entry('fleet-b', 'prod')],
      'yaml',
    );
    const port = await freePort();
    const child = startServerProcess({
      HOME: dir,
      HOST: '127.0.0.1',
      PORT: String(port),
      DOCKERGRAPH_AUDIT: 'off',
      DOCKERGRAPH_ENGINES_FILE: path,
    });
    const listening = await child.waitForLine(
      (line) => line.msg === 'dockergraph listening',
      60_000,
    );
    expect(listening.engines).toBe('fleet-a, fleet-b');
    url = `http://127.0.0.1:${port}`;
    expect(await engineNames()).toEqual(['fleet-a:prod', 'fleet-b:prod']);

    // A subscriber of fleet-b's events, open while fleet-b is removed.
    const client = clientOf(url);
    const events = collectSubscription<
      'events',
      { kind: string; reason: string | null; engine: { name: string } }
    >(
      'events',
      client.iterate({
        query: 'subscription { events(engines: ["fleet-b"]) { kind reason engine { name } } }',
      }),
    );
    try {
      // The subscription is running once the server counts it and holds fleet-b's upstream
      // (its metrics say so): the removal below must end it, not find it unstarted. The
      // upstream alone does not tell: fleet-b's read model holds it open from the start.
      await waitFor(
        async () => {
          const metrics = await (await fetch(`${url}/metrics`)).text();
          return metrics.includes('dockergraph_subscriptions_open{transport="websocket"} 1') &&
            metrics.includes('dockergraph_upstream_streams_open{engine="fleet-b",kind="events"} 1')
            ? true
            : undefined;
        },
        { timeoutMs: 30_000, what: "the subscription, and fleet-b's event upstream" },
      );

      // fleet-b out, fleet-c in (as JSON now), fleet-a relabelled.
      const previous = child.lines.length;
      await writeFile(
        path,
        `${JSON.stringify({ engines: [entry('fleet-a', 'staging'), entry('fleet-c', 'prod')] })}\n`,
      );
      child.process.kill('SIGHUP');
      const reloaded = await child.waitForLine(
        (line) => line.msg === 'engines reloaded' && child.lines.indexOf(line) >= previous,
        60_000,
      );
      expect(reloaded).toMatchObject({ added: 'fleet-c', removed: 'fleet-b', changed: 'fleet-a' });
      expect(await engineNames()).toEqual(['fleet-a:staging', 'fleet-c:prod']);
      const ended = await events.until(
        (messages) => messages.find((message) => message.kind === 'RESYNC'),
        30_000,
        'the RESYNC of the removed engine',
      );
      expect(ended).toEqual({
        kind: 'RESYNC',
        reason: 'engine "fleet-b" was removed from the configuration',
        engine: { name: 'fleet-b' },
      });
      await events.untilEnded(30_000);

      // A file that does not read keeps the engines as they are, and says why.
      await writeFile(path, '{"engines": [{"name": "Bad Name", "host": "unix:///x.sock"}]}\n');
      const before = child.lines.length;
      child.process.kill('SIGHUP');
      const refused = await child.waitForLine(
        (line) =>
          line.msg === 'engines not reloaded: the configuration does not read' &&
          child.lines.indexOf(line) >= before,
        60_000,
      );
      expect(String(refused.error)).toContain('engines[0]');
      expect(await engineNames()).toEqual(['fleet-a:staging', 'fleet-c:prod']);
    } finally {
      await events.stop();
      await client.dispose();
    }
  });
});

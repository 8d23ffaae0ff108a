// The Workers artifact (dist/workers/worker.mjs) in workerd (npm package "workerd", the
// runtime of Cloudflare Workers and wrangler), with nodejs_compat. Workers open no sockets for
// undici: the engine is reached with the fetch transport through a service binding named
// DOCKER_ENGINE to the engine's address over TLS with a client key pair: what an mTLS
// certificate binding (wrangler's `mtls_certificates`) gives a deployed Worker.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { runtimeBinary } from '../helpers/runtimes.ts';
import { describeTarget, spawnTarget } from '../helpers/serverless-target.ts';

const bundle = fileURLToPath(new URL('../../dist/workers/worker.mjs', import.meta.url));

/** A loopback port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** workerd's configuration: the Worker, its text bindings, and the engine binding. */
function configuration(env: Record<string, string>, port: number): string {
  const engine = inject('remoteEngine');
  const text = JSON.stringify;
  const bindings = Object.entries(env)
    .map(([name, value]) => `(name = ${text(name)}, text = ${text(value)})`)
    .join(',\n    ');
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "engine", external = (address = ${text(`${engine.address}:${engine.port}`)}, https = (
      tlsOptions = (
        keypair = (privateKey = ${text(engine.key)}, certificateChain = ${text(engine.cert)}),
        trustedCertificates = [${text(engine.ca)}]
      ),
      certificateHost = ${text(engine.address)}
    ))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed "worker.mjs")],
  compatibilityDate = "2026-01-01",
  compatibilityFlags = ["nodejs_compat"],
  bindings = [
    ${bindings},
    (name = "DOCKER_ENGINE", service = "engine"),
  ],
);
`;
}

describeTarget(
  'Cloudflare Workers in workerd (fetch transport, mTLS through the engine binding)',
  async (env) => {
    const engine = inject('remoteEngine');
    const folder = mkdtempSync(join(tmpdir(), 'dg-workerd-'));
    // The certificates live in the binding; the Worker's settings hold none.
    const { DOCKER_TLS_CA, DOCKER_TLS_CERT, DOCKER_TLS_KEY, HOST, PORT, ...settings } = env;
    settings.DOCKER_HOST = `https://${engine.address}:${engine.port}`;
    const port = await freePort();
    copyFileSync(bundle, join(folder, 'worker.mjs'));
    writeFileSync(join(folder, 'config.capnp'), configuration(settings, port));
    const target = await spawnTarget(
      runtimeBinary('workerd'),
      ['serve', 'config.capnp', '--verbose'],
      {},
      {
        cwd: folder,
        listening: /Listening on (http:\/\/\S+)/,
        path: '/graphql',
      },
    ).catch((error: unknown) => {
      rmSync(folder, { recursive: true, force: true });
      throw error;
    });
    return {
      ...target,
      async stop() {
        await target.stop();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  },
  { supported: true },
);

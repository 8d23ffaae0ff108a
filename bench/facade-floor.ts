/**
 * The floor of `bench/compare.ts`: the least any facade over the engine in a Node process of
 * its own does for the bench's questions, without GraphQL, security or logging. It reads the
 * request body as JSON (`{ "question": "flat" | "nested" | "first", "label": "k=v" }`), asks
 * the engine what the direct client asks (undici on its socket), parses the answer, keeps the
 * fields dockergraph's query selects, and answers them as JSON. dockergraph's time above this
 * floor is what GraphQL and its own layers cost; the floor's above the direct call is what
 * standing between a client and the engine costs.
 *
 * Usage: `node facade-floor.mjs <engine socket path> <API version>`; prints
 * `{"url":"http://127.0.0.1:<port>"}` once listening, and stops when its stdin closes.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [socketPath, apiVersion] = process.argv.slice(2);
if (!socketPath || !apiVersion) throw new Error('usage: facade-floor <socket path> <API version>');
const engine = new Pool('http://localhost', { socketPath, connections: 16 });

interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Status: string;
  Created: number;
  Labels: Record<string, string> | null;
  ImageID: string;
  NetworkSettings: { Networks: Record<string, { NetworkID: string; IPAddress: string }> };
  Mounts: { Name?: string; Destination: string }[];
}

async function engineJson<T>(path: string, query: Record<string, string> = {}): Promise<T> {
  const search = new URLSearchParams(query).toString();
  const { statusCode, body } = await engine.request({
    method: 'GET',
    path: `/v${apiVersion}${path}${search ? `?${search}` : ''}`,
  });
  if (statusCode !== 200) throw new Error(`${path}: ${statusCode} ${await body.text()}`);
  return (await body.json()) as T;
}

const listOf = (label: string, limit?: number) =>
  engineJson<ContainerSummary[]>('/containers/json', {
    all: '1',
    filters: JSON.stringify({ label: [label] }),
    ...(limit === undefined ? {} : { limit: String(limit) }),
  });

const flatFields = (container: ContainerSummary) => ({
  id: container.Id,
  name: (container.Names[0] ?? '').replace(/^\//, ''),
  state: container.State.toUpperCase(),
  status: container.Status,
  created: new Date(container.Created * 1_000).toISOString(),
  labels: Object.entries(container.Labels ?? {}).map(([name, value]) => ({ name, value })),
});

const answers = {
  flat: async (label: string) => (await listOf(label)).map(flatFields),
  first: async (label: string) => (await listOf(label, 50)).map(flatFields),
  nested: async (label: string) => {
    const [containers, images, networks, volumes] = await Promise.all([
      listOf(label),
      engineJson<{ Id: string; RepoTags: string[] | null }[]>('/images/json'),
      engineJson<{ Id: string; Name: string }[]>('/networks'),
      engineJson<{ Volumes: { Name: string }[] | null }>('/volumes'),
    ]);
    const imageById = new Map(images.map((image) => [image.Id, image]));
    const networkById = new Map(networks.map((network) => [network.Id, network]));
    const volumeByName = new Map((volumes.Volumes ?? []).map((volume) => [volume.Name, volume]));
    return containers.map((container) => {
      const image = imageById.get(container.ImageID);
      return {
        id: container.Id,
        name: (container.Names[0] ?? '').replace(/^\//, ''),
        state: container.State.toUpperCase(),
        status: container.Status,
        image: image ? { id: image.Id, tags: image.RepoTags ?? [] } : null,
        networks: Object.entries(container.NetworkSettings.Networks).map(([name, network]) => ({
          networkName: name,
          ipAddress: network.IPAddress || null,
          network: { name: networkById.get(network.NetworkID)?.Name ?? null },
        })),
        mounts: container.Mounts.map((mount) => ({
          destination: mount.Destination,
          volume: mount.Name ? { name: volumeByName.get(mount.Name)?.Name ?? null } : null,
        })),
      };
    });
  },
};

const isQuestion = (value: unknown): value is keyof typeof answers =>
  value === 'flat' || value === 'first' || value === 'nested';

const server = createServer(async (request, response) => {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const { question, label } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      question?: unknown;
      label?: unknown;
    };
    if (!isQuestion(question) || typeof label !== 'string') throw new Error('bad question');
    const text = JSON.stringify({ data: await answers[question](label) });
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  } catch (error) {
    response.writeHead(500, { 'content-type': 'text/plain' });
    response.end(String(error));
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
// Stops with the bench: on SIGTERM, and when the bench's end of stdin closes (it died).
const stop = () => {
  process.stdin.destroy();
  server.close();
  server.closeAllConnections();
  void engine.close();
};
process.on('SIGTERM', stop);
process.stdin.once('end', stop).resume();

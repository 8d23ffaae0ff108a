// globalSetup of the "podman" project: a private rootful Podman serving the Docker-compatible
// API on its own socket, with its own storage, runroot, configuration, event log and network
// namespace under a temporary folder; everything it made is removed on teardown.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  rmdir,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { listProcesses } from './processes.ts';
import { waitFor } from './wait-for.ts';

/** The image every test runs; Podman stores it as `localhost/dockergraph/busybox:latest`. */
const BASE_IMAGE = 'dockergraph/busybox:latest';
const BUSYBOX = '/usr/bin/busybox';
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const START_TIMEOUT_MS = 60_000;

function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: env ?? process.env },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** GET on the service's socket; resolves with the status, or rejects when nothing answers. */
function getStatus(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function sendDelete(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'DELETE', timeout: 60_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJson<T>(socketPath: string, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A root filesystem of busybox and its applets, as a folder `podman import` reads from a tar. */
async function buildRootfs(root: string): Promise<void> {
  for (const folder of ['bin', 'etc', 'root', 'tmp', 'home', 'usr']) {
    await mkdir(join(root, folder), { recursive: true });
  }
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(BUSYBOX, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  const applets = (await run(BUSYBOX, ['--list'])).split('\n');
  for (const applet of applets) {
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    await symlink('busybox', join(root, 'bin', applet));
  }
  await symlink('bin', join(root, 'sbin'));
  await symlink('../bin', join(root, 'usr/bin'));
  await symlink('../bin', join(root, 'usr/sbin'));
  await writeFile(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
  );
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** Mount points at or below `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function missingTool(what: string): Error {
  return new Error(
    `the podman tests need root and Debian's podman and busybox-static packages (${what}); install them with apt-get install podman busybox-static`,
  );
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0) throw missingTool('not running as root');
  await run('podman', ['--version']).catch((error: unknown) => {
    throw missingTool(error instanceof Error ? error.message : String(error));
  });

  const dir = await mkdtemp(join(tmpdir(), 'dgpod-'));
  const netns = `dgpod-${dir.slice(-6).toLowerCase()}`;
  const socketPath = join(dir, 'podman.sock');
  let service: ChildProcess | null = null;
  let netnsMade = false;

  // Podman reads these instead of the machine's /etc/containers files: nothing global changes.
  const containersConf = join(dir, 'containers.conf');
  const registriesConf = join(dir, 'registries.conf');
  // The hard nofile limit on these machines is 20000: Podman's default ulimits are refused.
  await writeFile(
    containersConf,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(dir, 'events.log')}"`,
      `tmp_dir = "${join(dir, 'tmp')}"`,
      '[network]',
      // netavark, as on Debian with recommended packages: its answers are the ones tested.
      'network_backend = "netavark"',
      `network_config_dir = "${join(dir, 'networks')}"`,
      '',
    ].join('\n'),
  );
  // No registry is reachable: short names resolve to local images only.
  await writeFile(registriesConf, 'unqualified-search-registries = []\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: containersConf,
    CONTAINERS_REGISTRIES_CONF: registriesConf,
  };
  const flags = [
    '--root',
    join(dir, 'root'),
    '--runroot',
    join(dir, 'run'),
    '--tmpdir',
    join(dir, 'tmp'),
    '--network-config-dir',
    join(dir, 'networks'),
    '--cgroup-manager=cgroupfs',
    '--events-backend=file',
    '--storage-driver=overlay',
  ];

  // Rootful Podman keeps two folders of its own whatever its flags: netavark's state (IPAM
  // database, aardvark-dns configuration) in /run/containers/networks, shared by every rootful
  // Podman, and the blob cache of image copies in /var/lib/containers/cache. Podman runs in a
  // mount namespace of its own where both are folders of `dir`.
  const sharedPaths = [
    { path: '/run/containers', source: join(dir, 'shared-run') },
    { path: '/var/lib/containers/cache', source: join(dir, 'shared-cache') },
  ];
  const madeMountPoints: { readonly made: string; readonly path: string }[] = [];
  const isolated = (command: readonly string[]): string[] => [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$1" /run/containers && mount --bind "$2" /var/lib/containers/cache && shift 2 && exec "$@"',
    'sh',
    ...sharedPaths.map(({ source }) => source),
    ...command,
  ];

  async function teardown(): Promise<void> {
    if (service?.exitCode === null) {
      // Containers first, so that their conmon processes, mounts and netns files go.
      const containers = await getJson<{ Id: string }[]>(
        socketPath,
        '/v1.41/containers/json?all=1',
      ).catch(() => []);
      for (const { Id } of containers) {
        await sendDelete(socketPath, `/v1.41/containers/${Id}?force=1&v=1`).catch(() => 0);
      }
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      await exited;
    }
    // Exec sessions can leave conmon processes behind; they are ours when they name our folder.
    const naming = (await listProcesses()).filter((entry) => entry.argv.join('\0').includes(dir));
    for (const { pid } of naming) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const point of await mountsUnder(dir)) {
      await run('umount', ['-l', point]).catch(() => '');
    }
    // aardvark-dns (netavark's DNS server) runs on by itself until its last container goes.
    const aardvark = await readFile(
      join(dir, 'shared-run/networks/aardvark-dns/aardvark.pid'),
      'utf8',
    ).catch(() => '');
    if (/^\d+$/.test(aardvark.trim())) {
      try {
        process.kill(Number(aardvark.trim()), 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    if (netnsMade) await run('ip', ['netns', 'delete', netns]).catch(() => '');
    // Empty mount points this setup made; a folder something else filled stays.
    for (const { made, path } of madeMountPoints) {
      for (let folder = path; folder.startsWith(made); folder = dirname(folder)) {
        await rmdir(folder).catch(() => undefined);
      }
    }
    await rm(dir, { recursive: true, force: true });
  }

  try {
    await mkdir(join(dir, 'tmp'));
    // A namespace of its own: Podman's bridge and firewall rules stay out of the host's.
    await run('ip', ['netns', 'add', netns]);
    netnsMade = true;
    await run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);

    const rootfs = join(dir, 'rootfs');
    await buildRootfs(rootfs);
    const tarPath = join(dir, 'rootfs.tar');
    await run('tar', [
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      '-C',
      rootfs,
      '-cf',
      tarPath,
      '.',
    ]);
    const changes = ['CMD ["sh"]', `ENV PATH=${IMAGE_PATH}`, 'WORKDIR /'].flatMap((change) => [
      '--change',
      change,
    ]);
    for (const { path, source } of sharedPaths) {
      await mkdir(source, { recursive: true });
      // The mount points must exist outside; the first folder made is the one to remove.
      const made = await mkdir(path, { recursive: true });
      if (made !== undefined) madeMountPoints.push({ made, path });
    }
    const [command = 'unshare', ...args] = isolated([
      'podman',
      ...flags,
      'import',
      ...changes,
      tarPath,
      BASE_IMAGE,
    ]);
    await run(command, args, env);
    await rm(rootfs, { recursive: true, force: true });

    // nsenter, not `ip netns exec`: that one remounts /sys and hides the cgroups.
    const started = spawn(
      'nsenter',
      [
        `--net=/var/run/netns/${netns}`,
        ...isolated(['podman', ...flags, 'system', 'service', '--time=0', `unix://${socketPath}`]),
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    service = started;
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    await waitFor(
      async () => {
        if (started.exitCode !== null) {
          throw new Error(`podman system service exited (${started.exitCode}): ${stderr}`);
        }
        return (await getStatus(socketPath, '/_ping')) === 200;
      },
      { timeoutMs: START_TIMEOUT_MS, what: 'the Podman service to answer /_ping' },
    );
  } catch (error) {
    await teardown();
    throw error;
  }

  project.provide('dockerHost', `unix://${socketPath}`);
  return teardown;
}

import type { Readable } from 'node:stream';
import type { DockerClient } from './client.ts';
import { isPodman } from './engine-kind.ts';
import {
  BuildFailedError,
  EngineError,
  EngineNotFoundError,
  InvalidInputError,
  RegistryAuthError,
} from './errors.ts';
import { type ProgressEvent, readProgress } from './progress.ts';
import { encodeRegistryConfig, type RegistryCredentials } from './registry-auth.ts';

/**
 * Images made from tar archives: builds (`POST /build`), imports of a root
 * filesystem (`POST /images/create?fromSrc=-`) and loads of `docker save`
 * archives (`POST /images/load`). Each answers HTTP 200 with a JSON progress
 * stream and reports a failure inside it, so each reads the stream to its end.
 *
 * @module
 */

/** A tar archive to send as a request body: in memory, or streamed from an upload. */
export type ArchiveBody = Buffer | Readable;

/** How much of a build's output is kept. */
export interface BuildLogLimits {
  /** Lines kept at most; older ones are dropped first. */
  readonly maxLines: number;
  /** Characters kept at most over all lines; older lines are dropped first. */
  readonly maxChars: number;
  /** A longer line is cut to this many characters. */
  readonly maxLineChars: number;
}

/** Enough for large builds, small enough for one GraphQL answer. */
export const BUILD_LOG_LIMITS: BuildLogLimits = {
  maxLines: 10_000,
  maxChars: 1_000_000,
  maxLineChars: 16_384,
};

/** A build's output as lines; `truncated` when lines were dropped or cut to fit the limits. */
export interface BuildOutput {
  readonly lines: string[];
  readonly truncated: boolean;
}

/** The colour codes the engine wraps `RUN` stderr in (`ESC[91m` … `ESC[0m`), and any other SGR. */
const sgrPattern = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;]*m`, 'g');
const lineCutMark = ' [… line cut]';

/**
 * Collects the `stream` text of a build into lines. The engine sends output in
 * arbitrary pieces (a step header and its newline arrive apart), so text is
 * joined and split on "\n". Colour codes are removed, and of a line rewritten
 * in place with "\r" (progress bars) only its last state is kept. When the
 * output outgrows the limits the oldest lines are dropped: the end of a log
 * says how the build ended.
 */
export class BuildLog {
  private readonly lines: string[] = [];
  private first = 0;
  private chars = 0;
  private pending = '';
  private pendingCut = false;
  private truncated = false;

  /** `onLine` hears each line once it is complete, before any limit drops it. */
  constructor(
    private readonly limits: BuildLogLimits = BUILD_LOG_LIMITS,
    private readonly onLine: ((line: string) => void) | null = null,
  ) {}

  /** Adds a piece of output text. */
  append(text: string): void {
    const pieces = text.split('\n');
    pieces.forEach((piece, index) => {
      this.addToPending(piece);
      if (index < pieces.length - 1) this.completeLine();
    });
  }

  /** Adds a whole line. */
  appendLine(line: string): void {
    if (this.pending !== '') this.completeLine();
    this.append(`${line}\n`);
  }

  /** Completes the last line when the output ended without its "\n". */
  finish(): void {
    if (this.pending !== '') this.completeLine();
  }

  /** The lines so far, the last one included even without its "\n". */
  output(): BuildOutput {
    const lines = this.lines.slice(this.first);
    const last = this.pending === '' ? null : this.clean(this.pending);
    return { lines: last === null ? lines : [...lines, last], truncated: this.truncated };
  }

  private addToPending(piece: string): void {
    if (this.pendingCut) return;
    this.pending += piece;
    if (this.pending.length > this.limits.maxLineChars) {
      this.pending = this.pending.slice(0, this.limits.maxLineChars) + lineCutMark;
      this.pendingCut = true;
      this.truncated = true;
    }
  }

  private clean(text: string): string {
    const plain = text.replace(sgrPattern, '').replace(/\r+$/, '');
    return plain.slice(plain.lastIndexOf('\r') + 1);
  }

  private completeLine(): void {
    const line = this.clean(this.pending);
    this.pending = '';
    this.pendingCut = false;
    this.onLine?.(line);
    this.lines.push(line);
    this.chars += line.length;
    while (
      this.lines.length - this.first > this.limits.maxLines ||
      (this.chars > this.limits.maxChars && this.lines.length - this.first > 1)
    ) {
      this.chars -= this.lines[this.first]?.length ?? 0;
      this.first += 1;
      this.truncated = true;
    }
    // Forget dropped lines now and then rather than shifting the array on every line.
    if (this.first > 1024 && this.first * 2 > this.lines.length) {
      this.lines.splice(0, this.first);
      this.first = 0;
    }
  }
}

/** Options of a build (`docker build`). */
export interface BuildOptions {
  /** The build context: a tar archive, optionally gzip, bzip2 or xz compressed. */
  readonly context?: ArchiveBody;
  /**
   * Instead of `context`: a URL the engine fetches the context from, a Git repository
   * or a tar archive (the `remote` parameter, sent with no body).
   */
  readonly remote?: string;
  /** Credentials for the registries of `FROM` images, keyed by registry host. */
  readonly registryConfig?: Readonly<Record<string, RegistryCredentials>>;
  /** Path of the Dockerfile inside the context; "Dockerfile" when omitted. */
  readonly dockerfile?: string;
  /** References to tag the image with, e.g. "app:1.0". */
  readonly tags?: readonly string[];
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** The stage of a multi-stage Dockerfile to stop at. */
  readonly target?: string;
  /** Run every step again instead of reusing cached layers. */
  readonly noCache?: boolean;
  /** Pull newer versions of the FROM images even when they are present. */
  readonly pull?: boolean;
  /** `os/arch[/variant]` of the image to build. */
  readonly platform?: string;
  /** Network mode of the `RUN` steps: "bridge" (the default), "host", "none" or a network. */
  readonly networkMode?: string;
  /** Extra /etc/hosts entries of the `RUN` steps, "host:ip". */
  readonly extraHosts?: readonly string[];
  /** Images whose layers the build may reuse as cache. */
  readonly cacheFrom?: readonly string[];
  /** Limits of the `RUN` step containers, as `docker build --cpu-shares …` gives them. */
  readonly cpuShares?: number;
  readonly cpusetCpus?: string;
  readonly cpuPeriod?: number;
  readonly cpuQuota?: number;
  readonly memory?: number;
  readonly memorySwap?: number;
  readonly logLimits?: BuildLogLimits;
  /**
   * Hears each line of output as it completes (step headers such as "Step 2/5 : RUN make",
   * command output, pull milestones of `FROM` images), before the build ends.
   */
  readonly onLine?: (line: string) => void;
}

/** A finished build. */
export interface BuildResult {
  /** Id of the built image, "sha256:" and 64 hex digits. */
  readonly imageId: string;
  readonly log: BuildOutput;
}

/** "Step 2/5 : RUN make": the header the classic builder writes before each instruction. */
const stepPattern = /^Step (\d+)\/(\d+) : (\S+)/;

/** A step header of the classic builder's output: "Step 2/5 : RUN make". */
export interface BuildStepHeader {
  /** The step's number, from 1. */
  readonly step: number;
  /** The number of steps of the build. */
  readonly count: number;
  /** The instruction's keyword in capitals, e.g. "RUN". */
  readonly instruction: string;
}

/** Reads a step header at the start of `text`; null when it starts with none. */
export function parseStepHeader(text: string): BuildStepHeader | null {
  const match = stepPattern.exec(text);
  if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined) return null;
  return { step: Number(match[1]), count: Number(match[2]), instruction: match[3].toUpperCase() };
}
/** The classic builder's last line when it sends no `aux` id (engines before API 1.30). */
const builtPattern = /^Successfully built ([0-9a-f]{12,64})\s*$/m;

/**
 * `POST /build`: builds an image with the classic builder from a tar context,
 * reading the progress stream to its end. The output becomes the log; the id
 * comes from the stream's `aux.ID`.
 *
 * A failing step throws a {@link BuildFailedError} carrying the log so far. A
 * `FROM` image that is missing or refused by its registry throws an
 * {@link EngineNotFoundError} or a {@link RegistryAuthError}. A Dockerfile the
 * engine cannot parse, a missing target stage or Dockerfile path, a body
 * that is not a tar archive and a remote context it cannot fetch are refused before the build starts: see
 * {@link buildRefusal}.
 */
export async function buildImage(
  client: DockerClient,
  options: BuildOptions,
): Promise<BuildResult> {
  const what = 'build image';
  const response = await client.request(
    {
      method: 'POST',
      path: '/build',
      query: {
        dockerfile: options.dockerfile,
        remote: options.remote,
        t: options.tags && options.tags.length > 0 ? options.tags : undefined,
        buildargs: options.buildArgs ? JSON.stringify(options.buildArgs) : undefined,
        labels: options.labels ? JSON.stringify(options.labels) : undefined,
        target: options.target,
        nocache: options.noCache,
        pull: options.pull,
        platform: options.platform,
        networkmode: options.networkMode,
        // The engine reads extra hosts as one comma-separated parameter.
        extrahosts:
          options.extraHosts && options.extraHosts.length > 0
            ? options.extraHosts.join(',')
            : undefined,
        cachefrom:
          options.cacheFrom && options.cacheFrom.length > 0
            ? JSON.stringify(options.cacheFrom)
            : undefined,
        cpushares: options.cpuShares,
        cpusetcpus: options.cpusetCpus,
        cpuperiod: options.cpuPeriod,
        cpuquota: options.cpuQuota,
        memory: options.memory,
        memswap: options.memorySwap,
        // Remove the intermediate containers of steps, also of failed ones.
        rm: true,
        forcerm: true,
      },
      headers: {
        ...(options.remote === undefined ? { 'content-type': 'application/x-tar' } : {}),
        ...(options.registryConfig
          ? { 'x-registry-config': encodeRegistryConfig(options.registryConfig) }
          : {}),
      },
      ...(options.remote === undefined ? { body: options.context ?? Buffer.alloc(0) } : {}),
      // A step may run for minutes without output.
      timeoutMs: 600_000,
      bodyTimeoutMs: 600_000,
    },
    what,
  );
  const log = new BuildLog(options.logLimits, options.onLine ?? null);
  let instruction: string | null = null;
  let imageId: string | null = null;
  const onEvent = (event: ProgressEvent) => {
    if (event.aux?.ID !== undefined) imageId = event.aux.ID;
    if (event.stream !== undefined) {
      const header = parseStepHeader(event.stream);
      if (header !== null) instruction = header.instruction;
      log.append(event.stream);
    } else if (event.status !== undefined && event.progressDetail?.current === undefined) {
      // Pull progress of a FROM image: keep the milestones, not the byte counts.
      log.appendLine(event.id ? `${event.id}: ${event.status}` : event.status);
    }
  };
  try {
    await readProgress(response.body, what, { onEvent });
    log.finish();
  } catch (error) {
    log.finish();
    // Failures reported inside the stream carry the HTTP status of the answer; transport ones 0.
    if (!(error instanceof EngineError) || error.status === 0) throw error;
    const pullFailure = error instanceof EngineNotFoundError || error instanceof RegistryAuthError;
    if (instruction === 'FROM' && pullFailure) throw error;
    const { lines, truncated } = log.output();
    throw new BuildFailedError(error.message, lines, truncated, { cause: error });
  }
  const output = log.output();
  const id = imageId ?? builtPattern.exec(output.lines.join('\n'))?.[1] ?? null;
  if (id === null) {
    throw new EngineError(
      'ENGINE_ERROR',
      `${what}: the engine did not say which image it built`,
      200,
    );
  }
  return { imageId: id, log: output };
}

/** What part of a build request the engine refused before building. */
export type BuildRefusal = 'dockerfile' | 'dockerfilePath' | 'target' | 'context' | 'remote';

/**
 * Which part of the request an error of {@link buildImage} is about, when the
 * engine refused the request itself (no build ran): the Dockerfile's text, its
 * path in the context, the target stage, or the context archive.
 */
export function buildRefusal(error: unknown): BuildRefusal | null {
  if (!(error instanceof EngineError) || error instanceof BuildFailedError) return null;
  const { message } = error;
  if (/Cannot locate specified Dockerfile/i.test(message)) return 'dockerfilePath';
  if (/dockerfile parse error|unknown instruction|cannot be empty/i.test(message))
    return 'dockerfile';
  if (/failed to reach build target/i.test(message)) return 'target';
  // The engine could not fetch a remote context (`remote=`): a download or a `git clone` failed.
  if (
    /error downloading remote context|unable to prepare context|git clone|error fetching/i.test(
      message,
    )
  )
    return 'remote';
  if (isArchiveProblem(message)) return 'context';
  return null;
}

/** What the engine says of a body that is not a (readable) tar archive. */
function isArchiveProblem(message: string): boolean {
  return /unexpected EOF|Error processing tar file|archive\/tar|invalid tar header|unrecognized archive/i.test(
    message,
  );
}

/** Options of an import (`docker import`). */
export interface ImportOptions {
  /** A tar archive of a root filesystem, e.g. a container export; may be compressed. */
  readonly archive?: ArchiveBody;
  /** Instead of `archive`: an http(s) URL the engine downloads the archive from. */
  readonly fromUrl?: string;
  /** Repository to tag the image into, e.g. "team/app". */
  readonly repository?: string;
  /** Tag within `repository`; "latest" when omitted. */
  readonly tag?: string;
  /** Commit message recorded in the image. */
  readonly message?: string;
  /** Dockerfile instructions applied to the image config, e.g. `CMD ["sh"]`. */
  readonly changes?: readonly string[];
  /** `os/arch[/variant]` recorded in the image. */
  readonly platform?: string;
}

/**
 * Dockerfile instructions the engine accepts as `changes` of an import or
 * commit; others it refuses with "… is not a valid change command".
 */
export const IMAGE_CHANGE_INSTRUCTIONS: readonly string[] = [
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'HEALTHCHECK',
  'LABEL',
  'ONBUILD',
  'USER',
  'VOLUME',
  'WORKDIR',
];

/**
 * Checks the `changes` of a commit or an import (`what`, e.g. "a commit"): each one
 * instruction of {@link IMAGE_CHANGE_INSTRUCTIONS} with its argument, on one line.
 */
export function checkImageChanges(
  field: string,
  changes: readonly string[] | null | undefined,
  what: string,
): void {
  changes?.forEach((change, index) => {
    const entry = `${field}[${index}]`;
    // The engine reads all changes as one Dockerfile: a line break would start another instruction.
    if (/[\r\n]/.test(change)) throw new InvalidInputError(entry, 'must be a single line');
    const match = /^\s*(\S+)(?:\s+(\S.*))?$/.exec(change);
    const keyword = match?.[1]?.toUpperCase();
    if (keyword === undefined || !IMAGE_CHANGE_INSTRUCTIONS.includes(keyword)) {
      throw new InvalidInputError(
        entry,
        `"${match?.[1] ?? change}" is not an instruction ${what} applies; use one of ${IMAGE_CHANGE_INSTRUCTIONS.join(', ')}`,
      );
    }
    if (match?.[2] === undefined) {
      throw new InvalidInputError(entry, `${keyword} needs an argument`);
    }
  });
}

const imageIdPattern = /^sha256:[0-9a-f]{64}$/;

/**
 * `POST /images/create?fromSrc=-`: makes an image of one layer from a tar of a
 * root filesystem sent as the body, or (`fromSrc=<url>`) one the engine downloads. The progress stream's last `status` is the
 * new image's id. A body that is not a tar archive is refused with an
 * {@link ArchiveRefusedError}.
 */
export async function importImage(client: DockerClient, options: ImportOptions): Promise<string> {
  const what = 'import image';
  let imageId: string | null = null;
  // Podman's import reads only `repo` and ignores `tag` (the image is tagged "latest"); it
  // takes the tag within `repo`, as `repo:tag`.
  const tagInRepo =
    options.repository !== undefined && options.tag !== undefined && (await isPodman(client));
  try {
    const response = await client.request(
      {
        method: 'POST',
        path: '/images/create',
        query: {
          fromSrc: options.fromUrl ?? '-',
          repo: tagInRepo ? `${options.repository}:${options.tag}` : options.repository,
          tag: tagInRepo ? undefined : options.tag,
          message: options.message,
          changes: options.changes && options.changes.length > 0 ? options.changes : undefined,
          platform: options.platform,
        },
        ...(options.fromUrl === undefined
          ? {
              headers: { 'content-type': 'application/x-tar' },
              body: options.archive ?? Buffer.alloc(0),
            }
          : {}),
        timeoutMs: 600_000,
        bodyTimeoutMs: 600_000,
      },
      what,
    );
    await readProgress(response.body, what, {
      onEvent: (event) => {
        if (event.status !== undefined && imageIdPattern.test(event.status)) imageId = event.status;
      },
    });
  } catch (error) {
    throw refusedArchive(error, what);
  }
  if (imageId === null) {
    throw new EngineError(
      'ENGINE_ERROR',
      `${what}: the engine did not say which image it made`,
      200,
    );
  }
  return imageId;
}

/**
 * The engine could not read an uploaded archive, or it is not the kind of
 * archive the endpoint takes: input the engine refused (`field` null).
 */
export class ArchiveRefusedError extends InvalidInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(null, message, options);
  }
}

/** An archive the engine could not read becomes an {@link ArchiveRefusedError}; others pass. */
function refusedArchive(error: unknown, what: string): unknown {
  if (!(error instanceof EngineError) || error.status === 0) return error;
  if (isArchiveProblem(error.message)) {
    return new ArchiveRefusedError(error.message, { cause: error });
  }
  // The engine names its own temporary folder when the archive has neither manifest.json
  // nor repositories: say what that means instead.
  if (/[/\\](repositories|manifest\.json)\W.*no such file or directory/i.test(error.message)) {
    return new ArchiveRefusedError(
      `${what}: the archive is not an image archive as \`docker save\` writes it (it has neither manifest.json nor repositories)`,
      { cause: error },
    );
  }
  return error;
}

/** What a load reported: the references and ids of the images it loaded, in order. */
export interface LoadResult {
  /** "name:tag" references, or image ids of images saved without a tag. */
  readonly loaded: string[];
}

const loadedPattern = /^Loaded image(?: ID)?: (\S+)\s*$/;

/**
 * `POST /images/load?quiet=1`: loads the images of a `docker save` archive
 * sent as the body. The stream names each loaded image ("Loaded image:
 * name:tag" or "Loaded image ID: sha256:…"). An archive the engine cannot read,
 * or one that is not an image archive, is refused with an
 * {@link ArchiveRefusedError}.
 */
export async function loadImages(client: DockerClient, archive: ArchiveBody): Promise<LoadResult> {
  const what = 'load images';
  const loaded: string[] = [];
  try {
    const response = await client.request(
      {
        method: 'POST',
        path: '/images/load',
        query: { quiet: true },
        headers: { 'content-type': 'application/x-tar' },
        body: archive,
        timeoutMs: 600_000,
        bodyTimeoutMs: 600_000,
      },
      what,
    );
    const log = new BuildLog();
    await readProgress(response.body, what, {
      onEvent: (event) => {
        if (event.stream !== undefined) log.append(event.stream);
      },
    });
    for (const line of log.output().lines) {
      const reference = loadedPattern.exec(line)?.[1];
      if (reference !== undefined) loaded.push(reference);
    }
  } catch (error) {
    throw refusedArchive(error, what);
  }
  return { loaded };
}

import { readContainer } from '../accessors/container.ts';
import { compareText } from '../compare-text.ts';
import type { GraphQLContext } from '../context.ts';
import {
  type ContainerFilters,
  listContainerChanges,
  listContainerProcesses,
  readContainerLogs,
} from '../docker/containers.ts';
import type { ContainerStateName } from '../docker/engine-shapes.ts';
import { computeStatsFigures } from '../docker/stats.ts';
import type { ContainerPrefix } from '../loaders.ts';
import { can, describePrincipal } from '../security/principal.ts';
import { forbiddenError } from './access.ts';
import { builder } from './builder.ts';
import { HealthStatusEnum } from './container-enums.ts';
import { invalidArgument } from './errors.ts';
import { toLabelFilter } from './filter-inputs.ts';
import { engineArgs, enginesArgs, readAcrossEngines } from './fleet.ts';
import { lookupKeyOf } from './node-id.ts';
import {
  decodePosition,
  engineOfNewestFirstGroup,
  newestFirstGroup,
  paginateOrdered,
  selectsField,
} from './pagination.ts';
import {
  CONTAINER_LOG_LIMITS,
  ComposeInfoRef,
  ContainerConfigRef,
  ContainerHealthRef,
  ContainerLogsRef,
  ContainerMountRef,
  ContainerPortRef,
  ContainerProcessesRef,
  type ContainerRecord,
  ContainerRef,
  ContainerSizeRef,
  ContainerStatsRef,
  FilesystemChangeRef,
  HostConfigRef,
  ImageRef,
  NetworkAttachmentRef,
  toContainerRecord,
  toImageRecord,
} from './refs.ts';
import { lookupOf } from './scope-rules.ts';
import {
  checkNonEmpty,
  labelFields,
  logSinceArg,
  logStreamArgs,
  logTimestampsArg,
  shortenId,
  toLogOptions,
} from './shared.ts';

/** The container's facts, from whichever engine answer is at hand (see `ContainerAccessor`). */
function read(container: ContainerRecord, context: GraphQLContext) {
  return readContainer(container, context.loaders);
}

// ---------------------------------------------------------------------------
// Enums

const ContainerStateEnum = builder.enumType('ContainerState', {
  description: 'Lifecycle state of a container.',
  values: {
    CREATED: { value: 'created', description: 'Created and never started.' },
    RUNNING: { value: 'running', description: 'Its main process runs.' },
    PAUSED: { value: 'paused', description: 'Its processes are frozen.' },
    RESTARTING: { value: 'restarting', description: 'Being restarted by its restart policy.' },
    REMOVING: { value: 'removing', description: 'Being removed.' },
    EXITED: { value: 'exited', description: 'Its main process ended.' },
    DEAD: {
      value: 'dead',
      description: 'The engine failed to stop or remove it; only removal is possible.',
    },
  } as const satisfies Record<string, { value: ContainerStateName; description: string }>,
});

/** `ps` columns that name each process's program but show neither its arguments nor its environment. */
const SAFE_PS_ARGS = '-eo pid,ppid,user,stime,time,comm';

// ---------------------------------------------------------------------------
// The container

ContainerRef.implement({
  description: 'A Docker container.',
  fields: (t) => ({
    dockerId: t.exposeString('id', { description: "The engine's id: 64 hexadecimal digits." }),
    shortId: t.string({
      description: 'The first 12 digits of the id, as the docker CLI shows it.',
      resolve: (c) => shortenId(c.id),
    }),
    name: t.string({
      description: 'Its name, without the leading slash.',
      resolve: (c, _args, context) => read(c, context).name(),
    }),
    names: t.stringList({
      description: 'Every name it answers to, without leading slashes (legacy links add more).',
      resolve: (c, _args, context) => read(c, context).names(),
    }),
    image: t.field({
      type: ImageRef,
      nullable: true,
      description: 'The image it was created from; null when that image was removed.',
      resolve: async (c, _args, context) => {
        const imageId = await read(c, context).imageId();
        if (!imageId) return null;
        const image = await context.loaders.images.byId.load(imageId);
        return image ? toImageRecord(c.engine, image) : null;
      },
    }),
    imageReference: t.string({
      description: 'The image reference it was created with, e.g. "nginx:1.27" (or an id).',
      resolve: (c, _args, context) => read(c, context).imageReference(),
    }),
    command: t.string({
      description: 'Command line it runs, entrypoint and arguments joined.',
      resolve: (c, _args, context) => read(c, context).command(),
    }),
    created: t.field({
      type: 'DateTime',
      description: 'When it was created.',
      resolve: (c, _args, context) => read(c, context).created(),
    }),
    state: t.field({
      type: ContainerStateEnum,
      description: 'Lifecycle state.',
      resolve: async (c, _args, context) => (await read(c, context).state()) ?? 'dead',
    }),
    status: t.string({
      description:
        'Human-readable status, e.g. "Up 5 minutes (healthy)" or "Exited (0) 2 hours ago".',
      resolve: (c, _args, context) => read(c, context).status(),
    }),
    health: t.field({
      type: ContainerHealthRef,
      nullable: true,
      description: 'Healthcheck state; null when it has no healthcheck.',
      resolve: (c, _args, context) => read(c, context).health(),
    }),
    exitCode: t.int({
      nullable: true,
      description: 'Exit code of its last run; null while it has never stopped.',
      resolve: (c, _args, context) => read(c, context).exitCode(),
    }),
    oomKilled: t.boolean({
      description: 'Whether its last run was killed for lack of memory.',
      resolve: (c, _args, context) => read(c, context).oomKilled(),
    }),
    error: t.string({
      nullable: true,
      description: 'Why the engine could not start or run it, if it failed.',
      resolve: (c, _args, context) => read(c, context).error(),
    }),
    pid: t.int({
      nullable: true,
      description: 'Host process id of its main process while it runs.',
      resolve: (c, _args, context) => read(c, context).pid(),
    }),
    startedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it last started; null if never.',
      resolve: (c, _args, context) => read(c, context).startedAt(),
    }),
    finishedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it last stopped; null if never.',
      resolve: (c, _args, context) => read(c, context).finishedAt(),
    }),
    restartCount: t.int({
      description: 'How often its restart policy restarted it.',
      resolve: (c, _args, context) => read(c, context).restartCount(),
    }),
    platform: t.string({
      nullable: true,
      description: 'Operating system it runs on, e.g. "linux".',
      resolve: (c, _args, context) => read(c, context).platform(),
    }),
    ports: t.field({
      type: [ContainerPortRef],
      description: 'Exposed ports and where they are published.',
      resolve: (c, _args, context) => read(c, context).ports(),
    }),
    ...labelFields(t, (c, context) => read(c, context).labels()),
    mounts: t.field({
      type: [ContainerMountRef],
      description: 'Volumes, bind mounts and tmpfs mounted into it.',
      resolve: async (c, _args, context) => {
        const mounts = await read(c, context).mounts();
        return mounts.map((mount) => ({ mount, engine: c.engine }));
      },
    }),
    networks: t.field({
      type: [NetworkAttachmentRef],
      description: 'Networks it is attached to, with its address on each.',
      resolve: async (c, _args, context) => {
        const { endpoints, complete } = await read(c, context).endpoints();
        return Object.entries(endpoints)
          .map(([networkName, settings]) => ({
            container: c,
            networkName,
            settings,
            fromInspect: complete,
          }))
          .sort((a, b) => compareText(a.networkName, b.networkName));
      },
    }),
    config: t.field({
      type: ContainerConfigRef,
      nullable: true,
      description: 'How it was configured at creation; null when it no longer exists.',
      resolve: (c, _args, context) => read(c, context).config(),
    }),
    hostConfig: t.field({
      type: HostConfigRef,
      nullable: true,
      description:
        'Resources, restart policy, networking and privileges; null when it no longer exists.',
      resolve: (c, _args, context) => read(c, context).hostConfig(),
    }),
    compose: t.field({
      type: ComposeInfoRef,
      nullable: true,
      description: 'Compose project and service; null when Compose did not create it.',
      resolve: async (c, _args, context) => {
        const labels = await read(c, context).labels();
        const project = labels['com.docker.compose.project'];
        return project ? { project, labels } : null;
      },
    }),
    size: t.field({
      type: ContainerSizeRef,
      nullable: true,
      description:
        'Disk space it uses. Slow: the engine walks its files; one engine call serves every container asked.',
      resolve: (c, _args, context) => context.loaders.containers.size.load(c.id),
    }),
    top: t.field({
      type: ContainerProcessesRef,
      nullable: true,
      description: `Its processes (\`docker top\`); null when it is not running. Command lines and environments can hold secrets: without the \`secrets\` permission the columns are fixed (\`ps ${SAFE_PS_ARGS}\`: the program name, not its arguments) and \`psArgs\` is refused.`,
      args: {
        psArgs: t.arg.string({
          required: false,
          description:
            'Arguments to `ps`, e.g. "aux"; the default is "-ef". Needs the `secrets` permission: `ps` can print environments ("e") and command lines. Podman reads them as its own format descriptors, e.g. "pid,user,args" ("-ef" and "-eo <columns>" are translated); other arguments make it run the container’s `ps`, whose output it gives as one column.',
        }),
      },
      resolve: async (c, { psArgs }, context) => {
        const given = psArgs !== null && psArgs !== undefined;
        if (given && !can(context.principal, 'secrets')) {
          throw forbiddenError(
            `${describePrincipal(context.principal)} may not give Container.top psArgs: ps arguments can show environments and command lines, which needs the "secrets" permission`,
          );
        }
        if (given && !/^[A-Za-z0-9 ,=-]*$/.test(psArgs)) {
          throw invalidArgument(
            'psArgs',
            'may hold only letters, digits, spaces, "-", "," and "="',
          );
        }
        if (!(await read(c, context).isRunning())) return null;
        const args = given ? psArgs : can(context.principal, 'secrets') ? undefined : SAFE_PS_ARGS;
        return listContainerProcesses(context.docker, c.id, args);
      },
    }),
    changes: t.field({
      type: [FilesystemChangeRef],
      description: 'Paths that differ from its image (`docker diff`).',
      resolve: (c, _args, context) => listContainerChanges(context.docker, c.id),
    }),
    logs: t.field({
      type: ContainerLogsRef,
      description:
        'Its output so far (`docker logs`), demultiplexed into lines; TTY output is all STDOUT.',
      args: {
        tail: t.arg.int({
          required: false,
          description: 'Only the last this many lines; all when omitted.',
        }),
        since: logSinceArg(t.arg, 'Only lines written at or after this time.'),
        until: t.arg({
          type: 'DateTime',
          required: false,
          description: 'Only lines written before this time.',
        }),
        timestamps: logTimestampsArg(t.arg),
        ...logStreamArgs(t.arg, { stdout: 'standard output', stderr: 'standard error' }),
      },
      resolve: async (c, args, context) => {
        const options = toLogOptions(args);
        const inspect = await read(c, context).details();
        if (!inspect) return { lines: [], truncated: false, incomplete: false };
        return readContainerLogs(
          context.docker,
          c.id,
          { ...options, tty: inspect.Config.Tty ?? false },
          CONTAINER_LOG_LIMITS,
        );
      },
    }),
    stats: t.field({
      type: ContainerStatsRef,
      nullable: true,
      description:
        'One sample of its resource use; null when it is not running. Takes about two seconds: the engine samples CPU twice.',
      resolve: async (c, _args, context) => {
        if (!(await read(c, context).isRunning())) return null;
        return computeStatsFigures(await context.loaders.containers.stats.load(c.id));
      },
    }),
  }),
});

// ---------------------------------------------------------------------------
// Queries

const ContainerFilterInput = builder.inputType('ContainerFilter', {
  description:
    'Which containers to list. Conditions of different fields must all hold; values within one field are alternatives.',
  fields: (t) => ({
    ids: t.stringList({ required: false, description: 'Ids or id prefixes.' }),
    names: t.stringList({
      required: false,
      description: 'Names, matched as regular expressions on any of its names.',
    }),
    states: t.field({
      type: [ContainerStateEnum],
      required: false,
      description: 'Lifecycle states.',
    }),
    labels: t.stringList({
      required: false,
      description: 'Labels as `key` (set to anything) or `key=value`; all must match.',
    }),
    ancestors: t.stringList({
      required: false,
      description: 'Images (name, name:tag, or id) it was created from or from a descendant of.',
    }),
    networks: t.stringList({
      required: false,
      description: 'Networks (name or id) it is attached to.',
    }),
    volumes: t.stringList({
      required: false,
      description: 'Volumes (name) or mount destinations it has.',
    }),
    health: t.field({
      type: [HealthStatusEnum],
      required: false,
      description: 'Healthcheck results.',
    }),
    exitCodes: t.intList({ required: false, description: 'Exit codes of stopped containers.' }),
    createdBefore: t.string({
      required: false,
      description: 'Only containers created before this one (id, id prefix or name).',
    }),
    createdSince: t.string({
      required: false,
      description: 'Only containers created after this one (id, id prefix or name).',
    }),
    exposedPorts: t.stringList({
      required: false,
      description:
        'Ports it exposes, as "port[/protocol]" or a range "start-end[/protocol]", e.g. "80", "53/udp", "8000-8080/tcp".',
    }),
    publishedPorts: t.stringList({
      required: false,
      description:
        'Host ports it publishes a port on (the host side of `-p`), in the form of `exposedPorts`. Exposed and published ports match running containers only.',
    }),
    isTask: t.boolean({
      required: false,
      description: 'true: only containers running swarm service tasks; false: only the others.',
    }),
    composeProject: t.string({ required: false, description: 'Compose project name.' }),
    composeService: t.string({ required: false, description: 'Compose service name.' }),
  }),
});

type ContainerFilterValue = typeof ContainerFilterInput.$inferInput;

/** Turns the GraphQL filter into engine filters, rejecting what the engine would misread. */
function toContainerFilters(filter: ContainerFilterValue | null | undefined): ContainerFilters {
  if (!filter) return {};
  const { composeProject, composeService, ...given } = toLabelFilter(filter);
  const labels = [...(given.labels ?? [])];
  for (const [name, label, value] of [
    ['composeProject', 'project', composeProject],
    ['composeService', 'service', composeService],
  ] as const) {
    if (value === undefined) continue;
    if (value.trim() === '' || value.includes('='))
      throw invalidArgument(`filter.${name}`, 'must be a non-empty name without "="');
    labels.push(`com.docker.compose.${label}=${value}`);
  }
  given.exitCodes?.forEach((code, index) => {
    if (code < 0 || code > 255)
      throw invalidArgument(`filter.exitCodes[${index}]`, `must be from 0 to 255, got ${code}`);
  });
  for (const name of ['ids', 'names', 'ancestors', 'networks', 'volumes'] as const) {
    checkNonEmpty(`filter.${name}`, given[name]);
  }
  for (const name of ['exposedPorts', 'publishedPorts'] as const) {
    for (const [index, port] of (given[name] ?? []).entries()) {
      checkPortFilter(`filter.${name}[${index}]`, port);
    }
  }
  for (const name of ['createdBefore', 'createdSince'] as const) {
    const reference = given[name];
    if (reference !== undefined && (reference.trim() === '' || /[\s/]/.test(reference.trim())))
      throw invalidArgument(`filter.${name}`, `"${reference}" is not a container id or name`);
  }
  return labels.length > 0 ? { ...given, labels } : given;
}

/** A port filter as the engine reads it: "port[/protocol]" or "start-end[/protocol]". */
function checkPortFilter(argument: string, text: string) {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/.exec(text);
  const start = Number(match?.[1]);
  const end = match?.[2] === undefined ? start : Number(match[2]);
  if (!match || start < 1 || end > 65535 || start > end) {
    throw invalidArgument(
      argument,
      `"${text}" is not a port or range of ports (1 to 65535) with an optional /tcp, /udp or /sctp`,
    );
  }
}

/**
 * The containers `createdBefore`/`createdSince` name, resolved to full ids among
 * those the principal sees (the engine would resolve a name it may not see, and its
 * answer would tell that the container exists); one it may not see is answered as
 * a missing one.
 */
async function resolveCreatedFilters(
  context: GraphQLContext,
  filters: ContainerFilters,
): Promise<ContainerFilters> {
  const resolved: { createdBefore?: string; createdSince?: string } = {};
  for (const name of ['createdBefore', 'createdSince'] as const) {
    const reference = filters[name];
    if (reference === undefined) continue;
    const inspect = await context.loaders.containers.inspect.load(
      reference.trim().replace(/^\//, ''),
    );
    if (!inspect) {
      throw invalidArgument(
        `filter.${name}`,
        `there is no container "${reference}" on engine "${context.engineName}"`,
      );
    }
    resolved[name] = inspect.Id;
  }
  return { ...filters, ...resolved };
}

/** How `container(…)` names its object: from the label-scope table. */
const CONTAINER_LOOKUP = lookupOf('container');

builder.queryFields((t) => ({
  containers: t.connection(
    {
      type: ContainerRef,
      description:
        "Containers, running or not, of every engine asked. Each engine's in its own order: newest first by creation time to the nanosecond, as the engine lists them. Across engines, merged by creation second (newest first), then by engine name, each engine's containers keeping their order within a second. A cursor names its container: when that container is gone (or is not one the token may see), the page after it starts at the first container of its engine and creation second, and a page before it ends after the last of them, so such a page may repeat containers already seen (deduplicate by id) but never skips one. `first` alone, or with `after`, is read with the engine's `limit` (and its `before` filter); `last`, `before` and `totalCount` read the whole list.",
      args: {
        ...enginesArgs,
        filter: t.arg({
          type: ContainerFilterInput,
          required: false,
          description: 'Which containers to list.',
        }),
      },
      resolve: async (_root, args, context, info) => {
        const given = toContainerFilters(args.filter);
        const { first } = args;
        const after = args.after ? decodePosition('after', args.after) : undefined;
        // `first` N, from the start or after a cursor, and no count of the whole list asked
        // for: the engine's `limit` answers it (every filter, label limits included, is
        // applied by the engine), with `before` for the cursor. Across engines, the first N
        // of each engine hold the first N of all.
        const pushdown =
          typeof first === 'number' &&
          first >= 0 &&
          !args.before &&
          (args.last === null || args.last === undefined) &&
          !selectsField(info, 'totalCount');
        const afterEngine = after ? engineOfNewestFirstGroup(after.group) : null;
        const answers = await readAcrossEngines(context, info, args.engines, async (bound) => {
          // A container named by `createdBefore`/`createdSince` must be on every engine asked.
          const filters = await resolveCreatedFilters(bound, given);
          const whole = async (): Promise<ContainerPrefix> => ({
            containers: await bound.loaders.containers.list(filters),
            whole: true,
            afterFound: false,
          });
          // After a cursor, only its own engine can start right after it; the others' lists
          // are read whole (the merge finds where the cursor's second and engine fall in them).
          const read =
            !pushdown || (after && afterEngine !== bound.engineName)
              ? await whole()
              : await bound.loaders.containers.newest(filters, first, after?.id);
          for (const summary of read.containers)
            bound.loaders.containers.summaryById.prime(summary.Id, summary);
          return {
            records: read.containers.map((summary) => toContainerRecord(bound.engineName, summary)),
            whole: read.whole,
            afterFound: read.afterFound,
            count: () => bound.loaders.containers.list(filters).then((all) => all.length),
          };
        });
        const page = paginateOrdered(
          answers.flatMap((answer) => answer.value.records),
          args,
          (c) => ({ group: newestFirstGroup(c.summary?.Created ?? 0, c.engine), id: c.id }),
        );
        // Read after the cursor's container: the merged list starts after it, not at the start.
        if (answers.some((answer) => answer.value.afterFound)) page.pageInfo.hasPreviousPage = true;
        if (answers.every((answer) => answer.value.whole)) return page;
        // Not selected (checked above); read the whole lists should it be asked for after all.
        const { edges, pageInfo } = page;
        return {
          edges,
          pageInfo,
          get totalCount() {
            return Promise.all(answers.map((answer) => answer.value.count())).then((counts) =>
              counts.reduce((sum, count) => sum + count, 0),
            );
          },
        };
      },
    },
    { name: 'ContainerConnection', description: 'A page of containers.' },
    { name: 'ContainerEdge', description: 'A container and its cursor.' },
  ),
  container: t.field({
    type: ContainerRef,
    nullable: true,
    description:
      'One container by id, unique id prefix, name or global ID; null when there is none.',
    args: {
      ...engineArgs,
      idOrName: t.arg.string({
        required: true,
        description:
          'Id, unique id prefix, name (with or without the leading slash), or global ID (the `id` of a Container, which also names its engine).',
      }),
    },
    resolve: async (_root, { idOrName }, context) => {
      const key = lookupKeyOf(() => context.engineName, CONTAINER_LOOKUP, idOrName.trim());
      // Through the loader: a container the principal may not see is answered as missing.
      const inspect = await context.loaders.containers.inspect.load(key);
      if (!inspect) return null;
      context.loaders.containers.inspect.prime(inspect.Id, inspect);
      return { engine: context.engineName, id: inspect.Id, summary: null, inspect };
    },
  }),
}));

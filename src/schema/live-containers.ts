import type { GraphQLContext } from '../context.ts';
import type { EngineContainerInspect } from '../docker/containers.ts';
import type { LogLine } from '../docker/demux.ts';
import { EngineNotFoundError } from '../docker/errors.ts';
import { followContainerLogs } from '../docker/follow-logs.ts';
import { bufferDroppingOldest, type Delivered } from '../docker/live-buffer.ts';
import { computeStatsFigures } from '../docker/stats.ts';
import type { ContainerStatsSample } from '../docker/stats-hub.ts';
import { builder } from './builder.ts';
import { invalidArgument } from './errors.ts';
import { toEngineReference } from './node-id.ts';
import { ContainerStatsRef, LogLineRef } from './refs.ts';
import {
  droppedLinesField,
  logSinceArg,
  logStreamArgs,
  logTimestampsArg,
  toLogOptions,
} from './shared.ts';

/** Lines a `containerLogs` subscriber may have waiting before the oldest are dropped. */
const LOG_BUFFER_LINES = 1000;

/** Inspects a container the subscription names, or fails with NOT_FOUND naming it. */
async function inspectOrFail(
  context: GraphQLContext,
  field: string,
  value: string,
): Promise<EngineContainerInspect> {
  // A global ID, as the mutations take it (a limited principal's is decoded before, by the
  // label scope); what cannot name a container is refused before any engine call.
  const reference = toEngineReference(context.engineName, 'Container', value);
  if ('problem' in reference) throw invalidArgument(field, reference.problem);
  // Through the loader: a container the principal may not see is answered as missing.
  const inspect = await context.loaders.containers.inspect.load(reference.id);
  if (!inspect) {
    throw new EngineNotFoundError('NOT_FOUND', `No such container: ${value}`, 404);
  }
  return inspect;
}

const ContainerLogMessageRef = builder
  .objectRef<Delivered<LogLine>>('ContainerLogMessage')
  .implement({
    description: 'One line of the `containerLogs` subscription.',
    fields: (t) => ({
      line: t.field({
        type: LogLineRef,
        description: 'The line the container wrote.',
        resolve: (message) => message.value,
      }),
      dropped: droppedLinesField(t),
    }),
  });

interface StatsMessage extends Delivered<ContainerStatsSample> {
  readonly containerName: string;
}

const ContainerStatsMessageRef = builder
  .objectRef<StatsMessage>('ContainerStatsMessage')
  .implement({
    description: 'One sample of the `containerStats` subscription.',
    fields: (t) => ({
      containerId: t.string({
        description: 'The full engine id of the container the sample is of.',
        resolve: (message) => message.value.containerId,
      }),
      containerName: t.exposeString('containerName', {
        description: 'Its name, without the leading slash, as it was when subscribing.',
      }),
      stats: t.field({
        type: ContainerStatsRef,
        description: 'The figures `docker stats` shows, computed from this sample.',
        resolve: (message) => computeStatsFigures(message.value.stats),
      }),
      dropped: t.exposeInt('dropped', {
        description:
          'Samples (of any of the containers) discarded just before this one because this subscriber read too slowly (0 normally).',
      }),
    }),
  });

builder.subscriptionField('containerLogs', (t) =>
  t.field({
    type: ContainerLogMessageRef,
    description:
      "A container's output as it is written (`docker logs --follow`), one line per message; TTY output is all STDOUT. Completes when the container stops, or when its engine leaves the configuration (a reload). A subscriber that reads too slowly loses the oldest waiting lines and is told how many.",
    args: {
      id: t.arg.string({
        required: true,
        description: 'The container: global ID, engine id, unique id prefix or name.',
      }),
      tail: t.arg.int({
        required: false,
        description: 'Begin with only the last this many lines written so far; all when omitted.',
      }),
      since: logSinceArg(t.arg, 'Begin with the lines written at or after this time.'),
      timestamps: logTimestampsArg(t.arg),
      ...logStreamArgs(t.arg, { stdout: 'standard output', stderr: 'standard error' }),
    },
    subscribe: async (_root, args, context) => {
      const options = toLogOptions(args);
      const inspect = await inspectOrFail(context, 'id', args.id);
      const controller = new AbortController();
      const lines = await followContainerLogs(context.docker, inspect.Id, {
        ...options,
        tty: inspect.Config.Tty ?? false,
        // The stream ends when the subscriber leaves, when the server shuts down, or when the
        // engine leaves the configuration (the token may no longer see it).
        signal: AbortSignal.any([controller.signal, context.shutdown, context.retired]),
      });
      return bufferDroppingOldest(
        lines,
        LOG_BUFFER_LINES,
        () => controller.abort(),
        (error) => context.reportLiveError('container log stream failed', error),
      );
    },
    resolve: (message) => message,
  }),
);

builder.subscriptionField('containerStats', (t) =>
  t.field({
    type: ContainerStatsMessageRef,
    description:
      'Live resource use of one or more containers (`docker stats`), about one sample per container and second, each naming its container. Every container has one engine stream shared by all its subscribers. Completes when all the containers stopped. A subscriber that reads too slowly loses the oldest waiting samples and is told how many.',
    args: {
      ids: t.arg.stringList({
        required: true,
        description: 'The containers: global IDs, engine ids, unique id prefixes or names.',
      }),
    },
    subscribe: async (_root, { ids }, context) => {
      if (ids.length === 0) throw invalidArgument('ids', 'must name at least one container');
      const inspects = await Promise.all(
        ids.map((id, index) => inspectOrFail(context, `ids[${index}]`, id)),
      );
      const names = new Map(
        inspects.map((inspect) => [inspect.Id, inspect.Name.replace(/^\//, '')]),
      );
      const samples = context.stats.subscribe(inspects.map((inspect) => inspect.Id));
      return (async function* messages(): AsyncGenerator<StatsMessage, void, undefined> {
        try {
          for await (const sample of samples) {
            yield { ...sample, containerName: names.get(sample.value.containerId) ?? '' };
          }
        } finally {
          await samples.return();
        }
      })();
    },
    resolve: (message) => message,
  }),
);

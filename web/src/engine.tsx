// The engines: each with whether it answers, then version, host facts and disk usage of
// those that do; and the live events feed of all of them.
import { useEffect, useRef, useState } from 'preact/hooks';
import { runQuery } from './api.ts';
import { enginesInScope, type ViewProps } from './app.tsx';
import { formatBytes } from './format.ts';
import type { DashboardEngineQuery, DashboardEventsSubscription } from './generated/graphql.ts';
import { useSubscription } from './live.ts';
import { EngineQuery, EventsSubscription } from './operations.ts';

export function EngineView(props: ViewProps) {
  const shown = new Set(enginesInScope(props));
  const engines = props.engines.filter((engine) => shown.has(engine.name));
  return (
    <>
      <section class="engines">
        <h2>Engines</h2>
        <table class="list" data-testid="engines">
          <thead>
            <tr>
              <th>Name</th>
              <th>Labels</th>
              <th>Status</th>
              <th class="wide">Last error</th>
            </tr>
          </thead>
          <tbody>
            {engines.map((engine) => (
              <tr key={engine.name} data-engine={engine.name}>
                <td data-label="Name">{engine.name}</td>
                <td data-label="Labels">
                  {engine.labels.map((label) => `${label.name}=${label.value}`).join(', ') || '–'}
                </td>
                <td data-label="Status">
                  <span
                    class={`state state-${engine.reachable ? 'RUNNING' : 'DEAD'}`}
                    data-testid="reachable"
                  >
                    {engine.reachable ? 'reachable' : 'unreachable'}
                  </span>
                </td>
                <td data-label="Last error" class="wide">
                  {engine.lastError ?? '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {engines
        .filter((engine) => engine.reachable)
        .map((engine) => (
          <EngineDetails key={engine.name} {...props} name={engine.name} />
        ))}
    </>
  );
}

function EngineDetails({ api, report, resync, name }: ViewProps & { name: string }) {
  const [engine, setEngine] = useState<DashboardEngineQuery['engine'] | null>(null);
  useEffect(() => {
    void runQuery(api, EngineQuery, { name }).then(({ data, problems }) => {
      for (const problem of problems) report(problem);
      if (data) setEngine(data.engine);
    });
  }, [api, name, report, resync]);
  if (!engine) return <p class="empty">Loading {name}…</p>;
  const { info, version, diskUsage } = engine;
  const rows = [
    ['Images', diskUsage.images],
    ['Containers', diskUsage.containers],
    ['Volumes', diskUsage.volumes],
    ['Build cache', diskUsage.buildCache],
  ] as const;
  return (
    <section class="engine">
      <h2>
        {engine.name}: Docker {version.version} (API {version.apiVersion}), {version.os}/
        {version.arch}
      </h2>
      <dl>
        <dt>Host</dt>
        <dd>
          {info.name}, {info.operatingSystem}, kernel {info.kernelVersion}
        </dd>
        <dt>Resources</dt>
        <dd>
          {info.cpus} CPUs, {formatBytes(info.memoryBytes)}
        </dd>
        <dt>Storage driver</dt>
        <dd>{info.driver}</dd>
        <dt>Containers</dt>
        <dd>
          {info.containers.total} ({info.containers.running} running, {info.containers.paused}{' '}
          paused, {info.containers.stopped} stopped)
        </dd>
        <dt>Images</dt>
        <dd>{info.images}</dd>
        {info.warnings.length > 0 && (
          <>
            <dt>Warnings</dt>
            <dd>{info.warnings.join(' ')}</dd>
          </>
        )}
      </dl>
      <h3>Disk usage</h3>
      <table class="list">
        <thead>
          <tr>
            <th>Kind</th>
            <th>Count</th>
            <th>Active</th>
            <th>Size</th>
            <th>Reclaimable</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([kind, usage]) => (
            <tr key={kind}>
              <td data-label="Kind">{kind}</td>
              <td data-label="Count">{usage.count}</td>
              <td data-label="Active">{usage.active}</td>
              <td data-label="Size">{formatBytes(usage.sizeBytes)}</td>
              <td data-label="Reclaimable">{formatBytes(usage.reclaimableBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

type EventMessage = DashboardEventsSubscription['events'];
const MAX_EVENTS = 300;

/** An event's identity: a replay sends again the events at the time it starts from. */
function eventKeyOf(message: EventMessage): string | null {
  const { event } = message;
  return event
    ? `${message.engine.name} ${event.timeNano} ${event.type} ${event.action} ${event.actor.id}`
    : null;
}

export function EventsView({ api, report, resync, scope }: ViewProps) {
  const [events, setEvents] = useState<readonly (EventMessage & { key: number })[]>([]);
  const counter = useRef(0);
  // After the connection came back, the stream starts again from the last event shown (or
  // from when the view opened), so that the events of the outage are shown too, as far as
  // the engines still hold them (their last 256).
  const [since, setSince] = useState<string | null>(null);
  const openedAt = useRef(new Date().toISOString());
  const lastTime = useRef<string | null>(null);
  const shown = useRef(new Set<string>());
  useSubscription(
    api,
    EventsSubscription,
    { engines: scope ? [...scope] : null, since },
    `${scope?.join(',') ?? ''}:${resync}:${since ?? ''}`,
    ({ events: message }) => {
      const key = eventKeyOf(message);
      if (key !== null) {
        if (shown.current.has(key)) return;
        shown.current.add(key);
        // Enough to recognise what a replay sends again.
        if (shown.current.size > 2 * MAX_EVENTS) {
          const [oldest] = shown.current;
          if (oldest !== undefined) shown.current.delete(oldest);
        }
        lastTime.current = message.event?.time ?? lastTime.current;
      }
      counter.current += 1;
      const entry = { ...message, key: counter.current };
      setEvents((current) => [entry, ...current.slice(0, MAX_EVENTS - 1)]);
    },
    report,
    true,
    { onRestart: () => setSince(lastTime.current ?? openedAt.current) },
  );
  return (
    <section>
      <h2>Events</h2>
      {events.length === 0 && <p class="empty">Waiting for engine events…</p>}
      <ul class="events" data-testid="events">
        {events.map((message) =>
          message.event ? (
            <li key={message.key} data-engine={message.engine.name}>
              <time>{new Date(message.event.time).toLocaleTimeString()}</time>{' '}
              <span class="engine">{message.engine.name}</span>{' '}
              <span class="kind">{message.event.type?.toLowerCase()}</span>{' '}
              <strong>{message.event.action}</strong>{' '}
              {message.event.actor.attributes.find((a) => a.name === 'name')?.value ??
                message.event.actor.id.slice(0, 12)}
            </li>
          ) : (
            <li key={message.key} class="resync" data-engine={message.engine.name}>
              {message.engine.name} {message.kind}: {message.reason}
            </li>
          ),
        )}
      </ul>
    </section>
  );
}

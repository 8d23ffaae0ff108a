// The engine: version, host facts, disk usage; and the live events feed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { runQuery } from './api.ts';
import type { ViewProps } from './app.tsx';
import { formatBytes } from './format.ts';
import type { DashboardEngineQuery, DashboardEventsSubscription } from './generated/graphql.ts';
import { useSubscription } from './live.ts';
import { EngineQuery, EventsSubscription } from './operations.ts';

export function EngineView({ api, report, resync }: ViewProps) {
  const [engine, setEngine] = useState<DashboardEngineQuery['engine'] | null>(null);
  useEffect(() => {
    void runQuery(api, EngineQuery, {}).then(({ data, problem }) => {
      if (problem) report(problem);
      if (data) setEngine(data.engine);
    });
  }, [api, report, resync]);
  if (!engine) return <p class="empty">Loading…</p>;
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

export function EventsView({ api, report }: ViewProps) {
  const [events, setEvents] = useState<readonly (EventMessage & { key: number })[]>([]);
  const counter = useRef(0);
  useSubscription(
    api,
    EventsSubscription,
    {},
    'events',
    ({ events: message }) => {
      counter.current += 1;
      const entry = { ...message, key: counter.current };
      setEvents((current) => [entry, ...current.slice(0, MAX_EVENTS - 1)]);
    },
    report,
  );
  return (
    <section>
      <h2>Events</h2>
      {events.length === 0 && <p class="empty">Waiting for engine events…</p>}
      <ul class="events" data-testid="events">
        {events.map((message) =>
          message.event ? (
            <li key={message.key}>
              <time>{new Date(message.event.time).toLocaleTimeString()}</time>{' '}
              <span class="kind">{message.event.type?.toLowerCase()}</span>{' '}
              <strong>{message.event.action}</strong>{' '}
              {message.event.actor.attributes.find((a) => a.name === 'name')?.value ??
                message.event.actor.id.slice(0, 12)}
            </li>
          ) : (
            <li key={message.key} class="resync">
              {message.kind}: {message.reason}
            </li>
          ),
        )}
      </ul>
    </section>
  );
}

import { builder } from './builder.ts';

/** A key and its value, from one of the engine's string maps. */
export interface KeyValue {
  readonly name: string;
  readonly value: string;
}

/** Turns an engine string map into sorted name/value pairs. */
export function toKeyValues(map: Readonly<Record<string, string>> | null | undefined): KeyValue[] {
  return Object.entries(map ?? {})
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export const LabelRef = builder.objectRef<KeyValue>('Label').implement({
  description:
    'A label: metadata set on an object by whoever created it, e.g. `com.example.team=payments`.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The label key.' }),
    value: t.exposeString('value', { description: 'The label value (may be empty).' }),
  }),
});

export const OptionRef = builder.objectRef<KeyValue>('DriverOption').implement({
  description: 'An option passed to a volume, network or IPAM driver.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The option name.' }),
    value: t.exposeString('value', { description: 'The option value.' }),
  }),
});

/** Engines write "zero" times as `0001-01-01T00:00:00Z`: no time at all. */
export function parseEngineTime(value: string | null | undefined): Date | null {
  if (!value || value.startsWith('0001-01-01')) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The first 12 hex digits of an id, as the docker CLI shows it; `sha256:` is dropped. */
export function shortenId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** `key` or `key=value` with a non-empty key: the form of Docker label filters. */
export const labelFilterPattern = /^[^=\s][^=]*(=.*)?$/;

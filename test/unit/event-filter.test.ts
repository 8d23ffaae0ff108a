import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../src/docker/event-hub.ts';
import type { EngineEvent } from '../../src/docker/events.ts';

function event(
  Type: string,
  Action: string,
  ID: string,
  Attributes: Record<string, string> = {},
): EngineEvent {
  return {
    Type,
    Action,
    Actor: { ID, Attributes },
    scope: 'local',
    time: 1795471054,
    timeNano: '1795471054442840270',
  };
}

const web = event('container', 'start', 'abc123def', {
  name: 'web',
  image: 'dockergraph/busybox:latest',
  'com.example.team': 'payments',
  tier: '',
});

describe('matchesFilter', () => {
  it('passes everything without conditions', () => {
    expect(matchesFilter(web, {})).toBe(true);
  });

  it('matches types and actions, an action also by the verb before its colon', () => {
    expect(matchesFilter(web, { types: ['container'], actions: ['start', 'die'] })).toBe(true);
    expect(matchesFilter(web, { types: ['network'] })).toBe(false);
    expect(matchesFilter(web, { actions: ['die'] })).toBe(false);
    const exec = event('container', 'exec_start: sh -c true', 'abc123def');
    expect(matchesFilter(exec, { actions: ['exec_start'] })).toBe(true);
  });

  it('matches labels as key or key=value, all of them', () => {
    expect(matchesFilter(web, { labels: ['com.example.team'] })).toBe(true);
    expect(matchesFilter(web, { labels: ['com.example.team=payments', 'tier='] })).toBe(true);
    expect(matchesFilter(web, { labels: ['com.example.team=search'] })).toBe(false);
    expect(matchesFilter(web, { labels: ['com.example.team', 'missing'] })).toBe(false);
    expect(matchesFilter(web, { labels: ['constructor'] })).toBe(false);
  });

  it('matches objects by id, id prefix or name, any of the kinds named', () => {
    expect(matchesFilter(web, { containers: ['web'] })).toBe(true);
    expect(matchesFilter(web, { containers: ['abc1'] })).toBe(true);
    expect(matchesFilter(web, { containers: ['db'] })).toBe(false);
    expect(matchesFilter(web, { images: ['dockergraph/busybox:latest'] })).toBe(true);
    expect(matchesFilter(web, { containers: ['db'], images: ['dockergraph/busybox:latest'] })).toBe(
      true,
    );
    expect(matchesFilter(web, { volumes: ['web'] })).toBe(false);
    const network = event('network', 'connect', 'f00ba4', { name: 'bridge', container: 'abc' });
    expect(matchesFilter(network, { networks: ['bridge'] })).toBe(true);
    expect(matchesFilter(network, { containers: ['abc'] })).toBe(false);
    const volume = event('volume', 'create', 'data', { driver: 'local' });
    expect(matchesFilter(volume, { volumes: ['data'] })).toBe(true);
    expect(matchesFilter(volume, { volumes: ['dat'] })).toBe(false);
  });
});

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OTHER_ENGINE_PATH, templateEnginePath } from '../../src/docker/path-template.ts';
import { BoundedLabel, OTHER_LABEL } from '../../src/plugins/metrics.ts';
import { routeOfPath } from '../../src/plugins/use-metrics.ts';

const specFolder = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'shared',
  'docker-engine-api',
);

/** The paths an Engine API definition lists (its `paths:` keys, two spaces in). */
function specPaths(file: string): string[] {
  const text = readFileSync(join(specFolder, file), 'utf8');
  return [...text.matchAll(/^ {2}(\/\S*):\s*$/gm)].map((match) => match[1] ?? '');
}

const containerId = 'f3a9c0e1b2d34567890abcdef1234567890abcdef1234567890abcdef123456';
/** An image reference with a registry port, a path and a tag: slashes and colons inside `{name}`. */
const imageReference = 'registry.example:5000/team/app:1.2';

/** A path the engine is sent for `template`, with real-looking ids and names in it. */
function filled(template: string): string {
  const collection = template.split('/')[1];
  const name = collection === 'volumes' ? 'data_volume' : imageReference;
  return template.replaceAll('{id}', containerId).replaceAll('{name}', name);
}

describe('templateEnginePath', () => {
  for (const file of ['v1.41.yaml', 'v1.56.yaml']) {
    it(`gives back every path of the Engine API ${file} from a path with ids in it`, () => {
      const paths = specPaths(file);
      expect(paths.length).toBeGreaterThan(80);
      for (const template of paths) {
        expect({ template, got: templateEnginePath(filled(template)) }).toEqual({
          template,
          got: template,
        });
      }
    });
  }

  it('never keeps an id, a name or a reference', () => {
    expect(templateEnginePath(`/containers/${containerId}/json`)).toBe('/containers/{id}/json');
    expect(templateEnginePath('/containers/web-1')).toBe('/containers/{id}');
    expect(templateEnginePath('/images/busybox%3Alatest/json')).toBe('/images/{name}/json');
    expect(templateEnginePath(`/images/${imageReference}`)).toBe('/images/{name}');
    expect(templateEnginePath('/networks/bridge/connect')).toBe('/networks/{id}/connect');
    expect(templateEnginePath('/exec/abc/start')).toBe('/exec/{id}/start');
  });

  it('tells fixed paths from ids', () => {
    expect(templateEnginePath('/containers/json')).toBe('/containers/json');
    expect(templateEnginePath('/images/json')).toBe('/images/json');
    expect(templateEnginePath('/libpod/images/prune')).toBe('/libpod/images/prune');
    expect(templateEnginePath('/volumes/prune')).toBe('/volumes/prune');
  });

  it('counts a path the API does not have as other', () => {
    expect(templateEnginePath(`/${containerId}`)).toBe(OTHER_ENGINE_PATH);
    expect(templateEnginePath(`/containers/${containerId}/secret-action`)).toBe(OTHER_ENGINE_PATH);
    expect(templateEnginePath('/volumes/a/b')).toBe(OTHER_ENGINE_PATH);
    expect(templateEnginePath('/')).toBe(OTHER_ENGINE_PATH);
  });
});

describe('BoundedLabel', () => {
  it('keeps the first valid values up to its capacity, then answers other', () => {
    const label = new BoundedLabel(2, (value) => /^[A-Za-z]+$/.test(value));
    expect(label.of('ListContainers')).toBe('ListContainers');
    expect(label.of('not valid!')).toBe(OTHER_LABEL);
    expect(label.of('Second')).toBe('Second');
    expect(label.of('Third')).toBe(OTHER_LABEL);
    // Values already kept stay kept.
    expect(label.of('ListContainers')).toBe('ListContainers');
  });
});

describe('routeOfPath', () => {
  it('counts requests by route, never by the ids in a download path', () => {
    expect(routeOfPath('/graphql')).toBe('/graphql');
    expect(routeOfPath(`/files/local/containers/${containerId}/export`)).toBe('/files');
    expect(routeOfPath('/dashboard/dashboard.js')).toBe('/dashboard');
    expect(routeOfPath(`/${containerId}`)).toBe('other');
  });
});

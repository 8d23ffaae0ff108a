// The cost model of src/schema/cost-rules.ts against the default limits: what users run fits,
// costly lists do not.
import { readdirSync, readFileSync } from 'node:fs';
import { complexityFromQuery } from '@pothos/plugin-complexity';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_QUERY } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { UNPAGED_LIST_SIZE } from '../../src/schema/cost-rules.ts';
import { schema } from '../../src/schema/index.ts';

const { maxCost, maxDepth } = loadConfig({ HOME: '/nonexistent' }).limits;

function costOf(document: string, variables: Record<string, unknown> = {}) {
  return complexityFromQuery(document, { schema, variables, ctx: {} });
}

const examplesFolder = new URL('../../examples/', import.meta.url);
const examples = readdirSync(examplesFolder).filter((name) => name.endsWith('.graphql'));

describe('the cost model', () => {
  it('costs the overview example by the objects it reads', () => {
    // engine, version, info, info.containers: 4. containers(first: 20): 1, then 20 times
    // edges 1 + node 1 + image 1 + ports 1 + networks 1 + mounts (1, and 5 × volume 1) = 11.
    const overview = readFileSync(new URL('overview.graphql', examplesFolder), 'utf8');
    expect(costOf(overview)).toMatchObject({ complexity: 4 + 1 + 20 * 11, depth: 6 });
  });

  it("keeps GraphiQL's example and every example of examples/ within the default limits", () => {
    expect(examples.length).toBeGreaterThan(5);
    const costs = [
      { name: 'EXAMPLE_QUERY', ...costOf(EXAMPLE_QUERY) },
      ...examples.map((name) => ({
        name,
        ...costOf(readFileSync(new URL(name, examplesFolder), 'utf8'), {
          idOrName: 'web',
          password: 'secret',
          project: 'web',
        }),
      })),
    ];
    for (const { name, complexity, depth } of costs) {
      expect({ name, withinCost: complexity <= maxCost, withinDepth: depth <= maxDepth }).toEqual({
        name,
        withinCost: true,
        withinDepth: true,
      });
    }
  });

  it('multiplies a connection by its page size, or by the assumed size when unpaged', () => {
    const page = (args: string) => `{ containers${args} { edges { node { name } } } }`;
    // The connection field, then edges and node for each container; names are free.
    expect(costOf(page('(first: 7)')).complexity).toBe(1 + 7 * 2);
    expect(costOf(page('(last: 3)')).complexity).toBe(1 + 3 * 2);
    expect(costOf(page('')).complexity).toBe(1 + UNPAGED_LIST_SIZE * 2);
    expect(
      costOf('query ($n: Int) { containers(first: $n) { edges { node { name } } } }', { n: 50 })
        .complexity,
    ).toBe(1 + 50 * 2);
  });

  it('makes slow fields cost more than plain ones', () => {
    const field = (selection: string) =>
      costOf(`{ containers(first: 1) { edges { node { ${selection} } } } }`).complexity -
      costOf('{ containers(first: 1) { edges { node { name } } } }').complexity;
    expect(field('image { tags }')).toBe(1);
    expect(field('size { rootFsBytes }')).toBeGreaterThanOrEqual(20);
    expect(field('stats { cpuPercent }')).toBeGreaterThanOrEqual(20);
    expect(field('changes { path }')).toBeGreaterThanOrEqual(20);
    expect(field('logs { lines { message } }')).toBeGreaterThanOrEqual(10);
    expect(field('image { history { createdBy } }')).toBeGreaterThanOrEqual(10);
    expect(costOf('{ engine { diskUsage { layersSizeBytes } } }').complexity).toBeGreaterThan(100);
    expect(costOf('{ searchImages(term: "busybox") { name } }').complexity).toBeGreaterThan(25);
  });

  it('puts a long list with slow fields, and nested lists, over the default cost limit', () => {
    const longList = costOf(
      '{ containers(first: 1000) { edges { node { size { rootFsBytes } stats { cpuPercent } } } } }',
    );
    expect(longList.complexity).toBeGreaterThan(maxCost);
    const nested = costOf(
      '{ images(first: 50) { edges { node { containers { stats { cpuPercent } } } } } }',
    );
    expect(nested.complexity).toBeGreaterThan(maxCost);
    // Paged, the same reads fit.
    const paged = costOf(
      '{ containers(first: 50) { edges { node { size { rootFsBytes } stats { cpuPercent } } } } }',
    );
    expect(paged.complexity).toBeLessThanOrEqual(maxCost);
  });
});

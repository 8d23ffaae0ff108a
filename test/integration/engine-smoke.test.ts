import { Agent, request } from 'undici';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BASE_IMAGE, dockerSocketPath } from '../helpers/engine.ts';

const dockerHost = inject('dockerHost');
const agent = new Agent({ connect: { socketPath: dockerSocketPath(dockerHost) } });

afterAll(async () => {
  await agent.close();
});

describe('private Docker engine', () => {
  it('answers GET /_ping with OK', async () => {
    const res = await request('http://docker/_ping', { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('OK');
  });

  it('speaks Engine API 1.41', async () => {
    const res = await request('http://docker/version', { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    const version = (await res.body.json()) as { ApiVersion?: string };
    expect(version.ApiVersion).toBe('1.41');
  });

  it(`has the base image ${BASE_IMAGE}`, async () => {
    const res = await request(`http://docker/images/${BASE_IMAGE}/json`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    const image = (await res.body.json()) as { RepoTags?: string[]; Config?: { Cmd?: string[] } };
    expect(image.RepoTags).toContain(BASE_IMAGE);
    expect(image.Config?.Cmd).toEqual(['sh']);
  });
});

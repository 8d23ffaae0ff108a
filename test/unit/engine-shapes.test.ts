import { describe, expect, it } from 'vitest';
import {
  checkContainerInspectShape,
  checkContainerListShape,
} from '../../src/docker/engine-shapes.ts';
import { EngineError } from '../../src/docker/errors.ts';

const what = 'inspect container "web"';

interface InspectAnswer {
  Id: string;
  Name: string;
  State: { Status: unknown; Running: boolean; Health?: Record<string, unknown> };
}

function inspectAnswer(state: {
  Status: unknown;
  Health?: Record<string, unknown>;
}): InspectAnswer {
  return { Id: 'abc', Name: '/web', State: { Running: true, ...state } };
}

describe('engine answers checked at the boundary', () => {
  it('leaves out the health Podman answers with an empty status (no healthcheck), as Docker does', () => {
    const answer = inspectAnswer({
      Status: 'running',
      Health: { Status: '', FailingStreak: 0, Log: null },
    });
    expect(checkContainerInspectShape(answer, what).State.Health).toBeUndefined();
  });

  it("maps Podman's own container states onto Docker's", () => {
    for (const [podman, docker] of [
      ['stopped', 'exited'],
      ['stopping', 'running'],
      ['configured', 'created'],
    ]) {
      expect(checkContainerInspectShape(inspectAnswer({ Status: podman }), what).State.Status).toBe(
        docker,
      );
    }
  });

  it('maps a missing health status to "none"', () => {
    const answer = inspectAnswer({ Status: 'running', Health: { FailingStreak: 0 } });
    expect(checkContainerInspectShape(answer, what).State.Health?.Status).toBe('none');
  });

  it('keeps the health statuses the API defines', () => {
    for (const status of ['none', 'starting', 'healthy', 'unhealthy']) {
      const answer = inspectAnswer({ Status: 'running', Health: { Status: status } });
      expect(checkContainerInspectShape(answer, what).State.Health?.Status).toBe(status);
    }
  });

  it('fails with a clear error naming an unknown health status or state', () => {
    const health = () =>
      checkContainerInspectShape(
        inspectAnswer({ Status: 'running', Health: { Status: 'degraded' } }),
        what,
      );
    expect(health).toThrow(EngineError);
    expect(health).toThrow(
      'the engine\'s answer to "inspect container "web"" is not what the Docker Engine API defines: unknown health status "degraded"',
    );
    expect(() => checkContainerInspectShape(inspectAnswer({ Status: 'frozen' }), what)).toThrow(
      'unknown container state "frozen"',
    );
    expect(() => checkContainerInspectShape({ message: 'hi' }, what)).toThrow(
      'no container (Id and State)',
    );
  });

  it('checks the state of every container of a list', () => {
    expect(checkContainerListShape([{ Id: 'a', State: 'exited' }], 'list containers')).toEqual([
      { Id: 'a', State: 'exited' },
    ]);
    expect(() =>
      checkContainerListShape([{ Id: 'a', State: 'Up 3 hours' }], 'list containers'),
    ).toThrow('unknown container state "Up 3 hours"');
  });
});

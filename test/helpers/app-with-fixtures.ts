// A test app and the engine fixtures of one suite, released together after it: the set-up of
// the mutation tests that make objects through the app and label them with the run.
import { afterAll } from 'vitest';
import { createTestApp, type TestApp, type TestAppOptions, type TestEnvironment } from './app.ts';
import { EngineFixtures, TEST_LABEL } from './docker-fixtures.ts';

export interface AppWithFixtures {
  readonly app: TestApp;
  readonly fixtures: EngineFixtures;
  /** The run label as a GraphQL `KeyValueInput`, for the objects the app is asked to make. */
  readonly runLabel: { readonly name: string; readonly value: string };
}

/**
 * Makes an app (configured by `env`, presenting `options`) and fixtures for the enclosing suite;
 * after its tests, removes what the run labelled, then closes the app.
 */
export function useAppWithFixtures(
  env: TestEnvironment = {},
  options: TestAppOptions = {},
): AppWithFixtures {
  const app = createTestApp(env, options);
  const fixtures = new EngineFixtures();
  afterAll(async () => {
    await fixtures.cleanup();
    await app.close();
  });
  return { app, fixtures, runLabel: { name: TEST_LABEL, value: fixtures.run } };
}

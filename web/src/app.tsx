// The dashboard: sign-in, banners, and the views (containers, images, volumes, networks,
// events, engine). It uses only the public GraphQL API.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Api, createApi, type Problem, runQuery, storedToken, storeToken } from './api.ts';
import { ContainersView } from './containers.tsx';
import { EngineView, EventsView } from './engine.tsx';
import type { DashboardEnginesQuery, DashboardViewerQuery } from './generated/graphql.ts';
import { EnginesQuery, ViewerQuery } from './operations.ts';
import { ImagesView, NetworksView, VolumesView } from './resources.tsx';

export type Viewer = DashboardViewerQuery['viewer'];
export type EngineSummary = DashboardEnginesQuery['engines'][number];

/** What a view needs from the page. */
export interface ViewProps {
  readonly api: Api;
  readonly viewer: Viewer;
  readonly report: (problem: Problem) => void;
  /** Moves on each engine recovery: views re-list then. */
  readonly resync: number;
  /** Every engine the token sees, reachable or not. */
  readonly engines: readonly EngineSummary[];
  /** The engines the filter picked (the `engines:` of lists), or null for all of them. */
  readonly scope: readonly string[] | null;
}

/** The names of the engines a view shows: the filter's, or every engine. */
export function enginesInScope({ engines, scope }: Pick<ViewProps, 'engines' | 'scope'>): string[] {
  return scope ? [...scope] : engines.map((engine) => engine.name);
}

const TABS = ['containers', 'images', 'volumes', 'networks', 'events', 'engine'] as const;
type Tab = (typeof TABS)[number];

const BANNER_TEXT: Readonly<Record<string, string>> = {
  ENGINE_UNAVAILABLE: 'The Docker engine cannot be reached: what is shown may be out of date.',
  ENGINE_TIMEOUT: 'The Docker engine is not answering in time.',
  FORBIDDEN: 'Your token is not allowed to do that.',
  RATE_LIMITED: 'Too many requests: wait a moment and try again.',
};

/** Banners are one per code, and one per engine for the problems an engine caused. */
function bannerKey(problem: Problem): string {
  return problem.engine ? `engine:${problem.engine}` : problem.code;
}

function engineBannerText(problem: Problem & { engine: string }): string {
  const what = problem.code === 'ENGINE_TIMEOUT' ? 'is not answering in time' : 'is unreachable';
  return `Engine ${problem.engine} ${what}: ${problem.message}`;
}

interface Readiness {
  readonly engines?: readonly { name: string; reachable: boolean; error?: string }[];
}

function tabOf(hash: string): Tab {
  const name = hash.replace(/^#/, '');
  return (TABS as readonly string[]).includes(name) ? (name as Tab) : 'containers';
}

export function App({ tokensRequired }: { tokensRequired: boolean }) {
  const [token, setToken] = useState<string | null>(storedToken());
  const api = useMemo(() => createApi(token), [token]);
  useEffect(() => () => api.dispose(), [api]);
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [signInError, setSignInError] = useState<string | null>(null);
  const [banners, setBanners] = useState<ReadonlyMap<string, Problem>>(new Map());
  // The banners now, for the readiness probe, whose interval outlives each render.
  const shownBanners = useRef(banners);
  shownBanners.current = banners;
  const [engineDown, setEngineDown] = useState(false);
  const [resync, setResync] = useState(0);
  const [tab, setTab] = useState<Tab>(tabOf(location.hash));
  const [engines, setEngines] = useState<readonly EngineSummary[]>([]);
  const [engineFilter, setEngineFilter] = useState('');
  const scope = useMemo(() => (engineFilter ? [engineFilter] : null), [engineFilter]);

  const report = useCallback((problem: Problem) => {
    if (problem.code === 'UNAUTHENTICATED') {
      storeToken(null);
      setViewer(null);
      setToken(null);
      setSignInError(problem.message);
      return;
    }
    setBanners((current) => new Map(current).set(bannerKey(problem), problem));
  }, []);
  const dismiss = useCallback(
    (key: string) =>
      setBanners((current) => {
        if (!current.has(key)) return current;
        const next = new Map(current);
        next.delete(key);
        return next;
      }),
    [],
  );

  useEffect(() => {
    const onHash = () => setTab(tabOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (tokensRequired && !token) return;
    let current = true;
    void runQuery(api, ViewerQuery, {}).then(({ data, problems }) => {
      if (!current) return;
      for (const problem of problems) report(problem);
      if (data) {
        setViewer(data.viewer);
        setSignInError(null);
      }
    });
    return () => {
      current = false;
    };
  }, [api, token, tokensRequired, report]);

  useEffect(() => {
    if (!viewer) return;
    let current = true;
    void runQuery(api, EnginesQuery, {}).then(({ data, problems }) => {
      if (!current) return;
      for (const problem of problems) report(problem);
      if (data) setEngines(data.engines);
    });
    return () => {
      current = false;
    };
  }, [api, viewer, report, resync]);

  // Engine health from /readyz (a ping of each engine; 503 when none answers): a banner while
  // all are down or one is, and a re-list of everything when one is back (events may have
  // been missed meanwhile). It names the engines of the token it is sent, none without one.
  useEffect(() => {
    let down = false;
    const unreachable = new Set<string>();
    const probe = async () => {
      let ok = false;
      let readiness: Readiness = {};
      try {
        const response = await fetch('/readyz', {
          cache: 'no-store',
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        ok = response.ok;
        readiness = (await response.json()) as Readiness;
      } catch {
        ok = false;
      }
      let recovered = false;
      for (const engine of readiness.engines ?? []) {
        if (!engine.reachable && !unreachable.has(engine.name)) {
          unreachable.add(engine.name);
          report({
            code: 'ENGINE_UNAVAILABLE',
            message: engine.error ?? 'readiness check failed',
            engine: engine.name,
          });
        } else if (engine.reachable) {
          // Also a banner a list raised (its partial answer) before a probe saw the engine down.
          const raised = shownBanners.current.has(`engine:${engine.name}`);
          if (unreachable.delete(engine.name) || raised) {
            dismiss(`engine:${engine.name}`);
            recovered = true;
          }
        }
      }
      if (!ok && !down) {
        down = true;
        setEngineDown(true);
      } else if (ok && down) {
        down = false;
        setEngineDown(false);
        dismiss('ENGINE_UNAVAILABLE');
        recovered = true;
      }
      if (recovered) setResync((value) => value + 1);
    };
    const timer = setInterval(() => void probe(), 3000);
    return () => clearInterval(timer);
  }, [report, dismiss, token]);

  if (tokensRequired && !viewer) {
    return <SignIn error={signInError} onToken={(value) => (storeToken(value), setToken(value))} />;
  }
  const props: ViewProps | null = viewer && { api, viewer, report, resync, engines, scope };
  const shown = new Map(banners);
  if (engineDown) {
    shown.set('ENGINE_UNAVAILABLE', {
      code: 'ENGINE_UNAVAILABLE',
      message: 'readiness check failed',
    });
  }
  return (
    <div class="page">
      <header class="top">
        <h1>dockergraph</h1>
        <nav>
          {TABS.map((name) => (
            <a key={name} href={`#${name}`} class={name === tab ? 'active' : ''}>
              {name}
            </a>
          ))}
        </nav>
        <select
          aria-label="Engine"
          value={engineFilter}
          onChange={(event) => setEngineFilter(event.currentTarget.value)}
        >
          <option value="">all engines</option>
          {engines.map((engine) => (
            <option key={engine.name} value={engine.name}>
              {engine.name}
            </option>
          ))}
        </select>
        <div class="who">
          {viewer && (
            <span data-testid="viewer">
              {viewer.tokenId ? `${viewer.tokenId} (${viewer.role})` : viewer.role}
              {viewer.readOnly ? ', read-only' : ''}
            </span>
          )}
          {tokensRequired && (
            <button
              type="button"
              onClick={() => {
                storeToken(null);
                setViewer(null);
                setToken(null);
              }}
            >
              Sign out
            </button>
          )}
        </div>
      </header>
      {[...shown.entries()].map(([key, problem]) =>
        problem.engine ? (
          <div
            key={key}
            class={`banner banner-engine banner-engine-${problem.code}`}
            data-engine={problem.engine}
            role="alert"
          >
            <strong>{problem.code}</strong>{' '}
            <span>{engineBannerText({ ...problem, engine: problem.engine })}</span>
            <button type="button" aria-label="Dismiss" onClick={() => dismiss(key)}>
              ×
            </button>
          </div>
        ) : (
          <div key={key} class={`banner banner-${problem.code}`} role="alert">
            <strong>{problem.code}</strong> {BANNER_TEXT[problem.code] ?? ''}{' '}
            <span>{problem.message}</span>
            <button type="button" aria-label="Dismiss" onClick={() => dismiss(key)}>
              ×
            </button>
          </div>
        ),
      )}
      {props && (
        <main>
          {tab === 'containers' && <ContainersView {...props} />}
          {tab === 'images' && <ImagesView {...props} />}
          {tab === 'volumes' && <VolumesView {...props} />}
          {tab === 'networks' && <NetworksView {...props} />}
          {tab === 'events' && <EventsView {...props} />}
          {tab === 'engine' && <EngineView {...props} />}
        </main>
      )}
    </div>
  );
}

function SignIn({ error, onToken }: { error: string | null; onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <form
      class="sign-in"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim()) onToken(value.trim());
      }}
    >
      <h1>dockergraph</h1>
      <label>
        Token
        <input
          type="password"
          name="token"
          autocomplete="off"
          value={value}
          onInput={(event) => setValue(event.currentTarget.value)}
        />
      </label>
      <button type="submit">Sign in</button>
      <p class="hint">Kept in this tab only (sessionStorage). "npm run token" makes one.</p>
      {error && <p class="error">{error}</p>}
    </form>
  );
}

// The dashboard: sign-in, banners, and the views (containers, images, volumes, networks,
// events, engine). It uses only the public GraphQL API.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { type Api, createApi, type Problem, runQuery, storedToken, storeToken } from './api.ts';
import { ContainersView } from './containers.tsx';
import { EngineView, EventsView } from './engine.tsx';
import type { DashboardViewerQuery } from './generated/graphql.ts';
import { ViewerQuery } from './operations.ts';
import { ImagesView, NetworksView, VolumesView } from './resources.tsx';

export type Viewer = DashboardViewerQuery['viewer'];

/** What a view needs from the page. */
export interface ViewProps {
  readonly api: Api;
  readonly viewer: Viewer;
  readonly report: (problem: Problem) => void;
  /** Moves on each engine recovery: views re-list then. */
  readonly resync: number;
}

const TABS = ['containers', 'images', 'volumes', 'networks', 'events', 'engine'] as const;
type Tab = (typeof TABS)[number];

const BANNER_TEXT: Readonly<Record<string, string>> = {
  ENGINE_UNAVAILABLE: 'The Docker engine cannot be reached: what is shown may be out of date.',
  ENGINE_TIMEOUT: 'The Docker engine is not answering in time.',
  FORBIDDEN: 'Your token is not allowed to do that.',
  RATE_LIMITED: 'Too many requests: wait a moment and try again.',
};

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
  const [engineDown, setEngineDown] = useState(false);
  const [resync, setResync] = useState(0);
  const [tab, setTab] = useState<Tab>(tabOf(location.hash));

  const report = useCallback((problem: Problem) => {
    if (problem.code === 'UNAUTHENTICATED') {
      storeToken(null);
      setViewer(null);
      setToken(null);
      setSignInError(problem.message);
      return;
    }
    setBanners((current) => new Map(current).set(problem.code, problem));
  }, []);
  const dismiss = (code: string) =>
    setBanners((current) => {
      const next = new Map(current);
      next.delete(code);
      return next;
    });

  useEffect(() => {
    const onHash = () => setTab(tabOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (tokensRequired && !token) return;
    let current = true;
    void runQuery(api, ViewerQuery, {}).then(({ data, problem }) => {
      if (!current) return;
      if (problem) report(problem);
      if (data) {
        setViewer(data.viewer);
        setSignInError(null);
      }
    });
    return () => {
      current = false;
    };
  }, [api, token, tokensRequired, report]);

  // Engine health from /readyz (one ping of the engine): a banner while it is down, and a
  // re-list of everything when it is back (events may have been missed meanwhile).
  useEffect(() => {
    let down = false;
    const probe = async () => {
      let ok = false;
      try {
        ok = (await fetch('/readyz', { cache: 'no-store' })).ok;
      } catch {
        ok = false;
      }
      if (!ok && !down) {
        down = true;
        setEngineDown(true);
      } else if (ok && down) {
        down = false;
        setEngineDown(false);
        dismiss('ENGINE_UNAVAILABLE');
        setResync((value) => value + 1);
      }
    };
    const timer = setInterval(() => void probe(), 3000);
    return () => clearInterval(timer);
  }, []);

  if (tokensRequired && !viewer) {
    return <SignIn error={signInError} onToken={(value) => (storeToken(value), setToken(value))} />;
  }
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
      {[...shown.values()].map((problem) => (
        <div key={problem.code} class={`banner banner-${problem.code}`} role="alert">
          <strong>{problem.code}</strong> {BANNER_TEXT[problem.code] ?? ''}{' '}
          <span>{problem.message}</span>
          <button type="button" aria-label="Dismiss" onClick={() => dismiss(problem.code)}>
            ×
          </button>
        </div>
      ))}
      {viewer && (
        <main>
          {tab === 'containers' && (
            <ContainersView api={api} viewer={viewer} report={report} resync={resync} />
          )}
          {tab === 'images' && (
            <ImagesView api={api} viewer={viewer} report={report} resync={resync} />
          )}
          {tab === 'volumes' && (
            <VolumesView api={api} viewer={viewer} report={report} resync={resync} />
          )}
          {tab === 'networks' && (
            <NetworksView api={api} viewer={viewer} report={report} resync={resync} />
          )}
          {tab === 'events' && (
            <EventsView api={api} viewer={viewer} report={report} resync={resync} />
          )}
          {tab === 'engine' && (
            <EngineView api={api} viewer={viewer} report={report} resync={resync} />
          )}
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

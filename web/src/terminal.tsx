// A terminal on a container (xterm.js, bundled) over the server's terminal WebSocket
// (/terminal/{engine}/{container}/exec|attach; protocol in src/terminal-protocol.ts): typed
// keys go out as binary frames, resizes as {"type":"resize"} text frames, output comes back
// as binary frames. The token travels as the `dockergraph.bearer.<base64url>` subprotocol.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.ts';
import type { ViewProps } from './app.tsx';

type Mode = 'exec' | 'attach';

function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function terminalUrl(engine: string, container: string, mode: Mode): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const path = `/terminal/${encodeURIComponent(engine)}/${encodeURIComponent(container)}/${mode}`;
  return `${scheme}//${location.host}${path}${mode === 'exec' ? '?cmd=sh' : ''}`;
}

export function ContainerTerminal({
  api,
  report,
  engine,
  id,
}: Pick<ViewProps, 'api' | 'report'> & { engine: string; id: string }) {
  const [mode, setMode] = useState<Mode | null>(null);
  const [status, setStatus] = useState('');
  return (
    <div class="terminal">
      <div class="toolbar">
        <strong>Terminal</strong>
        <button type="button" onClick={() => setMode('exec')} disabled={mode !== null}>
          exec sh
        </button>
        <button type="button" onClick={() => setMode('attach')} disabled={mode !== null}>
          attach
        </button>
        {mode !== null && (
          <button type="button" onClick={() => setMode(null)}>
            disconnect
          </button>
        )}
        <span data-testid="terminal-status">{status}</span>
      </div>
      {mode !== null && (
        <TerminalSession
          key={mode}
          api={api}
          report={report}
          engine={engine}
          id={id}
          mode={mode}
          onStatus={setStatus}
        />
      )}
    </div>
  );
}

function TerminalSession({
  api,
  engine,
  id,
  mode,
  onStatus,
}: Pick<ViewProps, 'report'> & {
  api: Api;
  /** The container's own engine: the route names it. */
  engine: string;
  id: string;
  mode: Mode;
  onStatus: (status: string) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const terminal = new Terminal({ convertEol: false, fontSize: 13, rows: 20 });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(element);
    onStatus('connecting');
    const protocols = ['dockergraph.terminal.v1'];
    if (api.token) protocols.push(`dockergraph.bearer.${base64url(api.token)}`);
    const socket = new WebSocket(terminalUrl(engine, id, mode), protocols);
    socket.binaryType = 'arraybuffer';
    const sendSize = () => {
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: 'resize', cols: terminal.cols, rows: terminal.rows }));
      }
    };
    socket.onopen = () => {
      fit.fit();
      sendSize();
    };
    socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === 'string') onStatus('connected');
      else terminal.write(new Uint8Array(event.data));
    };
    socket.onclose = (event) =>
      onStatus(`closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
    terminal.onData((data) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(new TextEncoder().encode(data));
    });
    terminal.onResize(sendSize);
    const onWindowResize = () => fit.fit();
    window.addEventListener('resize', onWindowResize);
    terminal.focus();
    return () => {
      window.removeEventListener('resize', onWindowResize);
      socket.close(1000, 'closed by the page');
      terminal.dispose();
    };
  }, [api, engine, id, mode, onStatus]);
  return <div ref={box} class="xterm-box" data-testid="terminal" />;
}

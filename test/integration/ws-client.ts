/** A WebSocket client that goes through the relay's HTTP proxy in absolute form, for the WebSocket tests. */
import net from 'node:net';
import { onCleanup } from './harness.js';
export interface WsMessage {
  data: Buffer;
  isBinary: boolean;
}

/** Messages a WebSocket received, in order, collected from the moment it was created (none can slip past). */
export class WsInbox {
  private readonly queue: WsMessage[] = [];
  private waiter: ((m: WsMessage) => void) | undefined;

  push(m: WsMessage): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(m);
    } else this.queue.push(m);
  }

  next(timeoutMs = 10_000): Promise<WsMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no WebSocket message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (msg) => {
        clearTimeout(timer);
        resolve(msg);
      };
    });
  }
}

export interface WsOutcome {
  /** The open socket after a 101, or undefined when the proxy answered otherwise. */
  ws?: import('ws').WebSocket;
  inbox: WsInbox;
  /** Status of a refusal, and its headers and body. */
  status?: number;
  headers?: Record<string, string[]>;
  body?: string;
  error?: string;
}

/**
 * Opens a WebSocket to `http://VIRTUAL/PATH` through the relay's proxy the way
 * a cloud app would: absolute-form request line to the proxy port,
 * `Proxy-Authorization: Bearer TOKEN` (none when token is null). The `ws`
 * client does the RFC 6455 handshake checks and framing.
 */
export async function openWsThroughProxy(
  proxyPort: number,
  virtual: string,
  urlPath: string,
  token: string | null,
  opts: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<WsOutcome> {
  const { WebSocket } = await import('ws');
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (token !== null) headers['Proxy-Authorization'] = `Bearer ${token}`;
  const ws = new WebSocket(`ws://${virtual}${urlPath}`, {
    perMessageDeflate: false,
    handshakeTimeout: opts.timeoutMs ?? 10_000,
    headers,
    maxPayload: 64 * 1024 * 1024,
    createConnection: () => net.connect(proxyPort, '127.0.0.1'),
    // A proxy wants the absolute form on the request line; ws writes origin form, so it is set before the request is sent.
    finishRequest: (req) => {
      req.path = `http://${virtual}${urlPath}`;
      req.end();
    },
  });
  onCleanup(() => ws.terminate());
  const inbox = new WsInbox();
  ws.on('message', (data, isBinary) => inbox.push({ data: Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary }));
  return new Promise<WsOutcome>((resolve) => {
    let settled = false;
    const settle = (o: Omit<WsOutcome, 'inbox'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...o, inbox });
    };
    // ws's handshakeTimeout does not cover a socket from createConnection, so the bound is kept here.
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      settle({ error: `no answer to the upgrade request within ${timeoutMs} ms` });
      ws.terminate();
    }, timeoutMs);
    ws.once('open', () => settle({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      const done = () => {
        const out: Record<string, string[]> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v : [v];
        settle({ status: res.statusCode ?? 0, headers: out, body });
        ws.terminate();
      };
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    // Kept for the socket's whole life: a later reset must fail the test's own assertions, not crash the runner.
    ws.on('error', (e) => settle({ error: e.message }));
  });
}

import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  onRtt?: (ms: number) => void;
  onDead: (reason: string) => void;
}

/**
 * HTTP/2 PINGs over the tunnel. A PING queued behind megabytes of bulk data
 * can take long to come back on a busy link (ngrok's known failure), so the
 * tunnel is only declared dead when a ping is overdue *and* no byte arrived
 * on the socket meanwhile. Returns a stop function.
 */
export function startHeartbeat(session: Http2Session, socket: Socket, opts: HeartbeatOptions): () => void {
  let pingSentAt: number | undefined;
  let lastPingAt = 0;
  let bytesAtCheck = socket.bytesRead;
  let checkStartedAt = 0;

  const tick = () => {
    if (session.destroyed || session.closed) return stop();
    const now = Date.now();
    if (pingSentAt === undefined) {
      if (now - lastPingAt < opts.intervalMs) return;
      lastPingAt = now;
      pingSentAt = now;
      checkStartedAt = now;
      bytesAtCheck = socket.bytesRead;
      const queued = session.ping((err, duration) => {
        pingSentAt = undefined;
        if (!err) opts.onRtt?.(duration);
      });
      if (!queued) pingSentAt = undefined;
      return;
    }
    if (now - checkStartedAt < opts.timeoutMs) return;
    if (socket.bytesRead !== bytesAtCheck) {
      // Busy but alive: data is flowing, the ping is just queued behind it.
      checkStartedAt = now;
      bytesAtCheck = socket.bytesRead;
      return;
    }
    stop();
    opts.onDead(`no heartbeat answer and no data from the peer for ${Math.round((now - pingSentAt) / 1000)} s`);
  };

  const timer = setInterval(tick, Math.max(50, Math.min(opts.intervalMs, opts.timeoutMs) / 4));
  timer.unref();
  function stop() {
    clearInterval(timer);
  }
  return stop;
}

/**
 * The bench's internal system: a plain node:http server run as its own
 * process, so its CPU and memory never mix with the relay's or the agent's.
 *
 *   GET  /small                  a 13-byte body
 *   GET  /blob?bytes=N           N bytes of zeros, streamed with backpressure
 *   POST /sink[?hash=1]          reads and discards the body; answers {"bytes":N[,"sha256":…]}
 *   POST /sink?rateMBps=R        the same, but reads at R MB/s (10^6 bytes) by pausing the
 *                                request, so TCP and every window up the chain fill up
 *
 * Prints `PORT <n>` on stdout once listening; exits on SIGTERM/SIGINT.
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const SMALL_BODY = Buffer.from('hello, bench\n');
const CHUNK = Buffer.alloc(256 * 1024);
/** Enough to say "1 TB" and no more: a typo must not stream forever. */
const MAX_BLOB_BYTES = 1e12;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function streamBlob(res: http.ServerResponse, total: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => (left = 0));
  pump();
}

/** Reads the body, optionally no faster than `rateMBps`: pause() stops reading the socket, which is real backpressure. */
function sink(req: http.IncomingMessage, res: http.ServerResponse, rateMBps: number | undefined, hash: boolean): void {
  const digest = hash ? createHash('sha256') : undefined;
  const started = performance.now();
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    digest?.update(chunk);
    if (rateMBps === undefined) return;
    const dueMs = bytes / (rateMBps * 1000);
    const aheadMs = dueMs - (performance.now() - started);
    if (aheadMs > 1) {
      req.pause();
      timer = setTimeout(() => req.resume(), aheadMs);
    }
  });
  req.on('end', () => {
    const seconds = (performance.now() - started) / 1000;
    sendJson(res, 200, { bytes, seconds: Math.round(seconds * 1000) / 1000, ...(digest ? { sha256: digest.digest('hex') } : {}) });
  });
  req.on('close', () => clearTimeout(timer));
}

const server = http.createServer({ keepAliveTimeout: 120_000, requestTimeout: 0 }, (req, res) => {
  const url = new URL(req.url ?? '/', 'http://backend');
  if (req.method === 'GET' && url.pathname === '/small') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': SMALL_BODY.length });
    return void res.end(SMALL_BODY);
  }
  if (req.method === 'GET' && url.pathname === '/blob') {
    const n = Number(url.searchParams.get('bytes') ?? '0');
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_BLOB_BYTES) return sendJson(res, 400, { error: 'bytes must be a whole number up to 1e12' });
    return streamBlob(res, n);
  }
  if (req.method === 'POST' && url.pathname === '/sink') {
    const rate = url.searchParams.get('rateMBps');
    const rateMBps = rate === null ? undefined : Number(rate);
    if (rateMBps !== undefined && !(rateMBps > 0 && rateMBps <= 100_000)) {
      req.resume();
      return sendJson(res, 400, { error: 'rateMBps must be a number above 0' });
    }
    return sink(req, res, rateMBps, url.searchParams.get('hash') === '1');
  }
  req.resume();
  sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
});

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { VERSION } from '../../../common/version.js';
import type { Availability } from '../../../shared/api.js';
import { usesTls, type AgentConfig, type SystemMapping } from '../../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import { parseHostPort, resolveSubaccount } from '../config-ops.js';
import { describeBackendError } from '../forwarder.js';
import { findSystemForPort } from '../tcp-access.js';
import { CaFileError, loadCaFile } from '../trusted-ca.js';

/** Does the internal host answer? The outcome of one probe, as the UI and the support bundle show it. */
export interface ProbeResult {
  reachable: boolean;
  /** HTTP status of `HEAD /`, for HTTP systems. */
  status?: number;
  ms: number;
  /** A short phrase on what failed: "connection refused", "TLS verification failed: …". */
  error?: string;
}

export interface ProbeOptions {
  /** The internal port to try; a TCP port range maps several, the default is the mapping's first. */
  internalPort?: number;
  /** Upper bound for each wait (connect, then answer), below the mapping's own timeouts. */
  maxWaitMs?: number;
}

/** A person is waiting on the answer: the back end's whole response timeout (a minute by default) is too long. */
const ANSWER_WAIT_CAP_MS = 15_000;
const CONNECT_TIMEOUT = 'SKYBRIDGE_CONNECT_TIMEOUT';
const ANSWER_TIMEOUT = 'SKYBRIDGE_ANSWER_TIMEOUT';

/** `host:port`, with an IPv6 literal in brackets. */
export function hostPort(host: string, port: number): string {
  return `${net.isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Reaches the internal system the way the data plane does: HTTP systems get
 * `HEAD /` with the Host header, TLS trust (the system store plus the
 * mapping's CA file) and server name the forwarder would use; TCP systems get a
 * connect, plus the TLS handshake for tcp+tls and ldaps. Never rejects.
 */
export async function probeSystem(s: SystemMapping, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const started = performance.now();
  let ca: string[] | undefined;
  if (usesTls(s.protocol) && s.caFile) {
    try {
      // Read afresh and off the event loop: a person waits on this, and expects the file as it is now.
      ca = (await loadCaFile(s.caFile)).ca;
    } catch (err) {
      const why = err instanceof CaFileError ? `its CA file ${err.file} cannot be used: ${err.reason}` : `its CA file ${s.caFile} cannot be used`;
      return { reachable: false, error: why, ms: Math.round(performance.now() - started) };
    }
  }
  return probeWith(s, opts, started, ca);
}

function probeWith(s: SystemMapping, opts: ProbeOptions, started: number, ca: string[] | undefined): Promise<ProbeResult> {
  const port = opts.internalPort ?? s.internalPort;
  const cap = opts.maxWaitMs ?? Number.POSITIVE_INFINITY;
  const connectMs = Math.min(s.connectTimeoutMs, cap);
  const answerMs = Math.min(s.responseTimeoutMs, ANSWER_WAIT_CAP_MS, cap);
  const secure = usesTls(s.protocol);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<ProbeResult, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, ms: Math.round(performance.now() - started) });
    };
    const failed = (err: NodeJS.ErrnoException) => {
      if (err.code === CONNECT_TIMEOUT) return finish({ reachable: false, error: `no connection${secure ? ' and TLS handshake' : ''} within ${connectMs} ms` });
      if (err.code === ANSWER_TIMEOUT) return finish({ reachable: false, error: `connected, but HEAD / got no answer within ${answerMs} ms` });
      finish({ reachable: false, error: describeBackendError(err) });
    };

    // Verified against the internal name; an IP is checked as such and never sent as SNI (as in the forwarders).
    const isName = net.isIP(s.internalHost) === 0;

    if (s.protocol === 'http' || s.protocol === 'https') {
      const headers = {
        // What the forwarder sends, so a name-based virtual host answers as it would for a cloud app.
        host: s.hostHeader === 'internal' ? hostPort(s.internalHost, port) : `${s.virtualHost}:${s.virtualPort}`,
        'user-agent': `skybridge-connector/${VERSION} (availability check)`,
      };
      const options: https.RequestOptions = { host: s.internalHost, port, method: 'HEAD', path: '/', headers, agent: false };
      if (s.protocol === 'https') Object.assign(options, { ca, servername: isName ? s.internalHost : '', rejectUnauthorized: true });
      const req = (s.protocol === 'https' ? https : http).request(options);
      let connectTimer: NodeJS.Timeout | undefined;
      let answerTimer: NodeJS.Timeout | undefined;
      const clear = () => {
        clearTimeout(connectTimer);
        clearTimeout(answerTimer);
      };
      req.on('socket', (sock) => {
        connectTimer = setTimeout(() => req.destroy(Object.assign(new Error('connect timeout'), { code: CONNECT_TIMEOUT })), connectMs);
        sock.once(s.protocol === 'https' ? 'secureConnect' : 'connect', () => {
          clearTimeout(connectTimer);
          answerTimer = setTimeout(() => req.destroy(Object.assign(new Error('answer timeout'), { code: ANSWER_TIMEOUT })), answerMs);
        });
      });
      req.on('response', (res) => {
        clear();
        res.resume();
        finish({ reachable: true, status: res.statusCode });
        req.destroy();
      });
      req.on('error', (err) => {
        clear();
        failed(err);
      });
      req.end();
      return;
    }

    const sock = secure
      ? tls.connect({ host: s.internalHost, port, servername: isName ? s.internalHost : undefined, ca, rejectUnauthorized: true })
      : net.connect({ host: s.internalHost, port });
    const timer = setTimeout(() => sock.destroy(Object.assign(new Error('connect timeout'), { code: CONNECT_TIMEOUT })), connectMs);
    sock.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      finish({ reachable: true });
      sock.destroy();
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      failed(err);
    });
  });
}

/** The API's "check availability": the mapping named by its virtual HOST:PORT (any port of a TCP range). */
export async function checkAvailability(cfg: AgentConfig, input: { subaccount?: string; system: string }): Promise<Availability> {
  const sub = resolveSubaccount(cfg, input.subaccount);
  const { host, port } = parseHostPort(input.system);
  const system = findSystemForPort(sub.systems, host, port);
  if (!system) throw new SkybridgeError(ErrorCode.NotFound, `no system ${host}:${port} is mapped in subaccount "${sub.id}"`);
  const internalPort = system.internalPort + (port - system.virtualPort);
  const checkedAt = new Date().toISOString();
  const r = await probeSystem(system, { internalPort });
  return {
    system: `${host}:${port}`,
    internal: hostPort(system.internalHost, internalPort),
    reachable: r.reachable,
    ...(r.status !== undefined ? { status: r.status } : {}),
    ms: r.ms,
    ...(r.error !== undefined ? { error: r.error } : {}),
    checkedAt,
  };
}

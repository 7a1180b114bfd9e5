import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { systemKey, type AgentConfig, type SystemMapping } from '../../shared/config.js';
import { hostPort, probeSystem } from './api/availability.js';
import { readCredentials } from './credentials.js';
import { certificateInfo } from './pki.js';

export interface SystemCheck {
  virtual: string;
  internal: string;
  protocol: string;
  reachable: boolean;
  /** HTTP status of `HEAD /`, for HTTP systems. */
  status?: number;
  ms?: number;
  error?: string;
}

export interface SubaccountDiagnostics {
  id: string;
  name: string;
  relayUrl: string;
  enabled: boolean;
  audit: string;
  tunnel?: { state: string; lastError?: string; connectedSince?: string; rttMs?: number; reconnects?: number };
  certificate: { notAfter: string; daysLeft: number; subject: string } | { error: string };
  /** Relay clock minus ours, from the `Date` header of /healthz (whole seconds, so ±1 s). */
  clock: { skewMs: number; rttMs: number; relayDate: string } | { error: string };
  systems: SystemCheck[];
}

export interface Diagnostics {
  generatedAt: string;
  host: string;
  agent: { running: boolean; pid?: number; updatedAt?: string } | { running: false; note: string };
  subaccounts: SubaccountDiagnostics[];
}

const TIMEOUT_MS = 3000;
/** agent.ts's STATUS_FILE, repeated here: importing the agent would make the API depend on it in a cycle. */
const STATUS_FILE = path.join('run', 'status.json');

interface StatusFile {
  pid?: number;
  running?: boolean;
  updatedAt?: string;
  subaccounts?: { id: string; status?: SubaccountDiagnostics['tunnel'] }[];
}

function readStatus(dataDir: string): StatusFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, STATUS_FILE), 'utf8')) as StatusFile;
  } catch {
    return undefined;
  }
}

function clockSkew(relayUrl: string, trustAnchorPem: string): Promise<SubaccountDiagnostics['clock']> {
  return new Promise((resolve) => {
    const started = Date.now();
    const url = new URL('/healthz', relayUrl);
    const req = https.get(url, { ca: [trustAnchorPem], agent: false, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      const ended = Date.now();
      const date = res.headers.date;
      if (!date || Number.isNaN(Date.parse(date))) return resolve({ error: `the relay answered ${res.statusCode} without a Date header` });
      // The relay stamped its Date somewhere in the round trip: compare with our midpoint.
      resolve({ skewMs: Date.parse(date) - Math.round((started + ended) / 2), rttMs: ended - started, relayDate: date });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (err) => resolve({ error: err.message }));
  });
}

async function checkSystem(s: SystemMapping): Promise<SystemCheck> {
  // The UI's "check availability" probe, with every wait capped: a bundle must not hang on one dead back end.
  const r = await probeSystem(s, { maxWaitMs: TIMEOUT_MS });
  return { virtual: systemKey(s), internal: hostPort(s.internalHost, s.internalPort), protocol: s.protocol, ...r };
}

/**
 * The support bundle's short report: per subaccount, the tunnel state the
 * running agent last wrote, the clock skew with the relay, certificate expiry
 * and whether each mapped system answers from this machine now.
 */
export async function collectDiagnostics(dataDir: string, cfg: AgentConfig): Promise<Diagnostics> {
  const status = readStatus(dataDir);
  const subaccounts = await Promise.all(
    cfg.subaccounts.map(async (s): Promise<SubaccountDiagnostics> => {
      let certificate: SubaccountDiagnostics['certificate'];
      let clock: SubaccountDiagnostics['clock'];
      try {
        const creds = readCredentials(dataDir, s.id);
        const info = certificateInfo(creds.certPem);
        certificate = { notAfter: info.notAfter, daysLeft: Math.floor((Date.parse(info.notAfter) - Date.now()) / 86_400_000), subject: info.subject };
        clock = await clockSkew(s.relayUrl, creds.trustAnchorPem);
      } catch (err) {
        certificate = { error: `cannot read the certificate: ${(err as Error).message}` };
        clock = { error: 'not checked: no pinned relay CA' };
      }
      const tunnel = status?.subaccounts?.find((x) => x.id === s.id)?.status;
      return {
        id: s.id,
        name: s.name,
        relayUrl: s.relayUrl,
        enabled: s.enabled,
        audit: s.audit,
        ...(tunnel ? { tunnel: status?.running === false ? { ...tunnel, state: `${tunnel.state} (agent stopped)` } : tunnel } : {}),
        certificate,
        clock,
        systems: await Promise.all(s.systems.map(checkSystem)),
      };
    }),
  );
  return {
    generatedAt: new Date().toISOString(),
    host: os.hostname(),
    agent: status ? { running: status.running === true, pid: status.pid, updatedAt: status.updatedAt } : { running: false, note: 'no agent has run with this data dir' },
    subaccounts,
  };
}

export function formatDiagnostics(d: Diagnostics): string {
  const lines = [`Skybridge diagnostics, ${d.generatedAt}, host ${d.host}`, `agent: ${d.agent.running ? `running (pid ${'pid' in d.agent ? d.agent.pid : '?'})` : 'not running'}`];
  for (const s of d.subaccounts) {
    lines.push('', `subaccount ${s.id}${s.name ? ` (${s.name})` : ''}: ${s.relayUrl}, ${s.enabled ? 'enabled' : 'disabled'}, audit ${s.audit}`);
    lines.push(`  tunnel: ${s.tunnel ? `${s.tunnel.state}${s.tunnel.lastError ? ` (${s.tunnel.lastError})` : ''}${s.tunnel.rttMs !== undefined ? `, rtt ${s.tunnel.rttMs} ms` : ''}` : 'unknown'}`);
    lines.push(`  certificate: ${'error' in s.certificate ? s.certificate.error : `valid until ${s.certificate.notAfter} (${s.certificate.daysLeft} days left)`}`);
    lines.push(`  clock: ${'error' in s.clock ? `not measured (${s.clock.error})` : `relay is ${s.clock.skewMs >= 0 ? 'ahead' : 'behind'} by ${Math.abs(s.clock.skewMs)} ms (±1 s; rtt ${s.clock.rttMs} ms)`}`);
    for (const y of s.systems) {
      lines.push(`  system ${y.virtual} -> ${y.protocol}://${y.internal}: ${y.reachable ? `reachable${y.status !== undefined ? ` (HEAD / answered ${y.status})` : ''} in ${y.ms} ms` : `NOT reachable: ${y.error ?? 'unknown error'}`}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

import https from 'node:https';
import type { Subaccount } from '../../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import { AUDIT_HEAD_PATH, auditHeadListSchema, type AuditHeadReport } from '../../../shared/evidence.js';
import { readCredentials } from '../credentials.js';
import type { RelayHeads } from './verify.js';

/**
 * The connector's side of `POST/GET /v1/audit-head` on the relay: mTLS with
 * the subaccount's certificate, the relay checked against the CA pinned at
 * pairing, exactly as the tunnel does.
 */

export interface RelayCallOptions {
  /** A CONNECT agent when the relay is reached through an outbound proxy. */
  agent?: https.Agent;
  timeoutMs?: number;
}

function call(dataDir: string, sub: Subaccount, method: 'GET' | 'POST', pathAndQuery: string, body: string | undefined, opts: RelayCallOptions): Promise<{ status: number; text: string }> {
  const creds = readCredentials(dataDir, sub.id);
  const url = new URL(sub.relayUrl);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || 443),
        path: pathAndQuery,
        method,
        key: creds.keyPem,
        cert: creds.certPem,
        ca: [creds.trustAnchorPem],
        rejectUnauthorized: true,
        agent: opts.agent ?? false,
        minVersion: 'TLSv1.2',
        headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 8 * 1024 * 1024) text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`)), opts.timeoutMs ?? 10_000);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err) => reject(new SkybridgeError(ErrorCode.TunnelError, `cannot reach the relay at ${sub.relayUrl}: ${err.message}`)));
    req.end(body);
  });
}

function refusal(sub: Subaccount, status: number, text: string): SkybridgeError {
  let message = text.trim().slice(0, 500);
  let code: ErrorCode = ErrorCode.TunnelError;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (parsed.error?.message) message = parsed.error.message;
    if (parsed.error?.code && (Object.values(ErrorCode) as string[]).includes(parsed.error.code)) code = parsed.error.code as ErrorCode;
  } catch {
    // plain text answer
  }
  return new SkybridgeError(code, `the relay at ${sub.relayUrl} answered ${status}: ${message}`);
}

export async function postAuditHead(dataDir: string, sub: Subaccount, head: AuditHeadReport, opts: RelayCallOptions = {}): Promise<void> {
  const r = await call(dataDir, sub, 'POST', AUDIT_HEAD_PATH, JSON.stringify({ seq: head.seq, mac: head.mac, time: head.time }), opts);
  if (r.status !== 200) throw refusal(sub, r.status, r.text);
}

/** Every head the relay has recorded for this subaccount's connector, oldest first. */
export async function fetchAuditHeads(dataDir: string, sub: Subaccount, opts: RelayCallOptions = {}): Promise<RelayHeads> {
  const heads: RelayHeads['heads'] = [];
  let after = 0;
  for (let page = 0; page < 10_000; page++) {
    const r = await call(dataDir, sub, 'GET', `${AUDIT_HEAD_PATH}?after=${after}&limit=5000`, undefined, opts);
    if (r.status !== 200) throw refusal(sub, r.status, r.text);
    let parsed;
    try {
      parsed = auditHeadListSchema.parse(JSON.parse(r.text));
    } catch {
      throw new SkybridgeError(ErrorCode.TunnelError, `the relay at ${sub.relayUrl} answered with something other than a list of audit heads`);
    }
    heads.push(...parsed.heads);
    if (!parsed.more || parsed.heads.length === 0) break;
    after = parsed.heads[parsed.heads.length - 1]!.seq;
  }
  return { subaccount: sub.id, relay: sub.relayUrl, heads };
}

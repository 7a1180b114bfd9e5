import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { silentLogger, type Logger } from '../../../common/logger.js';
import type { CertificateDetails } from '../../../shared/api.js';
import { DEFAULT_AUDIT_RETENTION_DAYS, type AgentConfig, type Subaccount } from '../../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import type { AuditDraft } from '../../../shared/evidence.js';
import { currentUser } from '../audit/actor.js';
import { AuditLog } from '../audit/log.js';
import { CertificateRenewer, type RenewerOptions } from '../cert-renewal.js';
import { CERT_FILE, credentialsDir, readCredentials } from '../credentials.js';
import { proxyAgent, readProxyPassword } from '../outbound.js';

const DAY_MS = 86_400_000;
/** agent.ts's STATUS_FILE; importing the agent from here would make a cycle. */
const STATUS_FILE = path.join('run', 'status.json');

/** The subaccount's client certificate as the Pairing page shows it. Public data only: the key is never read here. */
export function certificateDetails(dataDir: string, sub: Subaccount, now = Date.now()): CertificateDetails {
  let pem: string;
  try {
    pem = fs.readFileSync(path.join(credentialsDir(dataDir, sub.id), CERT_FILE), 'utf8');
  } catch {
    throw new SkybridgeError(ErrorCode.CertificateMissing, `subaccount ${sub.id} has no certificate on this machine; pair it again with a new pairing code`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new SkybridgeError(ErrorCode.CertificateInvalid, `the certificate of subaccount ${sub.id} cannot be read (${(err as Error).message}); pair it again`);
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  return {
    subaccount: sub.id,
    // Node gives one RDN per line; people read them comma-separated.
    subject: cert.subject.split('\n').join(', '),
    issuer: cert.issuer.split('\n').join(', '),
    serialNumber: cert.serialNumber,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / DAY_MS),
    fingerprintSha256: cert.fingerprint256,
    subjectAltNames: cert.subjectAltName ? cert.subjectAltName.split(', ') : [],
  };
}

/** The pid of an agent running with this data dir, from its status file, if that process is still alive. */
export function runningAgentPid(dataDir: string): number | undefined {
  try {
    const status = JSON.parse(fs.readFileSync(path.join(dataDir, STATUS_FILE), 'utf8')) as { pid?: unknown; running?: unknown };
    if (status.running !== true || typeof status.pid !== 'number' || status.pid === process.pid) return undefined;
    process.kill(status.pid, 0);
    return status.pid;
  } catch (err) {
    // EPERM: alive, but another user's.
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return -1;
    return undefined;
  }
}

/** A renewer for one renewal, outside any running schedule (it is never started). */
export function oneOffRenewer(dataDir: string, sub: Subaccount, emit: RenewerOptions['emit'], logger: Logger = silentLogger()): CertificateRenewer {
  return new CertificateRenewer({
    subaccountId: sub.id,
    connectorId: sub.connectorId,
    dataDir,
    relayUrl: sub.relayUrl,
    agent: () => (sub.proxy ? proxyAgent(sub.proxy, readProxyPassword(dataDir, sub.id)) : undefined),
    logger,
    emit,
  });
}

/**
 * Renews with no agent running (the CLI): the same renewal the agent does,
 * then the audit entry the agent would have written. With an agent running the
 * renewal belongs to it, so two processes never swap keys under each other.
 */
export async function renewWithoutAgent(dataDir: string, cfg: AgentConfig, sub: Subaccount): Promise<void> {
  const pid = runningAgentPid(dataDir);
  if (pid !== undefined) {
    throw new SkybridgeError(
      ErrorCode.Conflict,
      `the agent${pid > 0 ? ` (pid ${pid})` : ''} is running with this data dir: renew through it (Renew on the Pairing page), or stop it and run this again`,
    );
  }
  try {
    readCredentials(dataDir, sub.id);
  } catch {
    throw new SkybridgeError(ErrorCode.CertificateMissing, `subaccount ${sub.id} has no key and certificate on this machine; pair it again with a new pairing code`);
  }
  const notAfter = await oneOffRenewer(dataDir, sub, () => undefined).renewNow();
  if (sub.audit === 'off') return;
  await appendAudit(dataDir, cfg, {
    subaccount: sub.id,
    type: 'certificate',
    actor: { kind: 'local-admin', user: currentUser(), via: 'cli' },
    target: { relay: sub.relayUrl },
    outcome: 'success',
    reason: `certificate renewed on request, valid until ${notAfter}`,
    detail: { notAfter },
  });
}

/** One entry into the chain while no agent holds the log. */
async function appendAudit(dataDir: string, cfg: AgentConfig, draft: AuditDraft): Promise<void> {
  const log = AuditLog.open(dataDir, { logger: silentLogger(), retentionDays: () => cfg.audit?.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS });
  try {
    await log.append(draft, { durable: true });
  } finally {
    await log.close();
  }
}

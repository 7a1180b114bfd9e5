import https from 'node:https';
import type { Logger } from '../../common/logger.js';
import { Backoff } from '../../common/backoff.js';
import type { AgentEvent } from '../../shared/api.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { RENEW_PATH, type RenewResponse } from '../../shared/tunnel.js';
import { readCredentials, swapInRenewed } from './credentials.js';
import { certificateInfo, generateKeyAndCsr, publicKeyMatches } from './pki.js';

export interface RenewerOptions {
  subaccountId: string;
  connectorId: string;
  dataDir: string;
  relayUrl: string;
  agent?: () => https.Agent | undefined;
  logger: Logger;
  emit: (event: AgentEvent) => void;
  now?: () => number;
}

const DAY = 86_400_000;
/** Warn a person this long before expiry (REFERENCE: expiry is the most common cause of outages). */
export const EXPIRY_WARNING_MS = 14 * DAY;
/** setTimeout's limit is ~24.8 days; longer waits are re-evaluated daily. */
const MAX_TIMER_MS = DAY;
const FAILURES_BEFORE_WARNING = 3;

/** When to renew: two thirds into the certificate's validity. */
export function renewalTime(notBefore: number, notAfter: number): number {
  return notAfter - (notAfter - notBefore) / 3;
}

/**
 * Renews one subaccount's certificate over mTLS before it expires: a new key
 * pair each time, retried with backoff (never past expiry), with a warning
 * event when renewal keeps failing or expiry is near.
 */
export class CertificateRenewer {
  private timer?: NodeJS.Timeout;
  /** Until start(): a renewer made only for renewNow() plans nothing afterwards. */
  private stopped = true;
  private inFlight?: Promise<string>;
  private failures = 0;
  private readonly backoff = new Backoff(5_000, 3_600_000);
  private warnedFor = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly opts: RenewerOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayOverride?: number): void {
    if (this.stopped) return;
    let info: ReturnType<typeof certificateInfo>;
    try {
      info = certificateInfo(readCredentials(this.opts.dataDir, this.opts.subaccountId).certPem);
    } catch (err) {
      this.opts.logger.warn({ subaccount: this.opts.subaccountId, err: (err as Error).message }, 'cannot read the certificate to plan its renewal');
      return;
    }
    const notAfter = Date.parse(info.notAfter);
    const now = this.now();
    if (notAfter <= now) {
      this.warn(info.fingerprint, info.notAfter, `the connector certificate expired on ${info.notAfter}; pair this subaccount again with a new pairing code`);
      return;
    }
    if (notAfter - now < EXPIRY_WARNING_MS) {
      this.warn(`${info.fingerprint}:near`, info.notAfter, `the connector certificate expires on ${info.notAfter}`);
    }
    const due = renewalTime(Date.parse(info.notBefore), notAfter) - now;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, delayOverride ?? due));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (delayOverride === undefined && due > MAX_TIMER_MS) return this.schedule();
      void this.renew(notAfter);
    }, delay);
    this.timer.unref();
  }

  private warn(key: string, notAfter: string, message: string): void {
    if (this.warnedFor.has(key)) return;
    this.warnedFor.add(key);
    this.opts.logger.warn({ subaccount: this.opts.subaccountId, notAfter }, message);
    this.opts.emit({ type: 'certificate-warning', at: new Date(this.now()).toISOString(), subaccountId: this.opts.subaccountId, notAfter, message });
  }

  /**
   * Renews at once (an administrator asked), joining a renewal already under
   * way. Resolves with the new notAfter; a failure rejects with the reason and
   * leaves the regular schedule as it was.
   */
  renewNow(): Promise<string> {
    this.inFlight ??= this.renewOnce().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async renewOnce(): Promise<string> {
    const creds = readCredentials(this.opts.dataDir, this.opts.subaccountId);
    const { keyPem, csrPem } = await generateKeyAndCsr(this.opts.connectorId);
    const answer = await postRenewal(this.opts.relayUrl, csrPem, creds, this.opts.agent?.());
    if (!publicKeyMatches(answer.certificatePem, keyPem)) {
      throw new SkybridgeError(ErrorCode.CertificateInvalid, 'the relay returned a certificate for another key');
    }
    await swapInRenewed(this.opts.dataDir, this.opts.subaccountId, keyPem, answer.certificatePem);
    this.failures = 0;
    this.backoff.reset();
    this.opts.logger.info({ subaccount: this.opts.subaccountId, notAfter: answer.notAfter }, 'certificate renewed');
    this.opts.emit({ type: 'certificate-renewed', at: new Date(this.now()).toISOString(), subaccountId: this.opts.subaccountId, notAfter: answer.notAfter });
    this.schedule();
    return answer.notAfter;
  }

  private async renew(currentNotAfter: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.renewNow();
    } catch (err) {
      this.failures += 1;
      const reason = (err as Error).message;
      const remaining = currentNotAfter - this.now();
      // Keep trying, faster as expiry approaches, but never hammer the relay.
      const delay = Math.max(1_000, Math.min(this.backoff.next(), remaining / 4));
      this.opts.logger.warn({ subaccount: this.opts.subaccountId, reason, retryInMs: Math.round(delay) }, 'certificate renewal failed');
      if (this.failures >= FAILURES_BEFORE_WARNING) {
        this.warn(`failing:${currentNotAfter}`, new Date(currentNotAfter).toISOString(), `certificate renewal keeps failing (${this.failures} attempts): ${reason}`);
      }
      this.schedule(delay);
    }
  }
}

function postRenewal(relayUrl: string, csrPem: string, creds: { keyPem: string; certPem: string; trustAnchorPem: string }, agent: https.Agent | undefined): Promise<RenewResponse> {
  const url = new URL(RENEW_PATH, relayUrl);
  const body = JSON.stringify({ csrPem });
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        key: creds.keyPem,
        cert: creds.certPem,
        ca: [creds.trustAnchorPem],
        agent: agent ?? false,
        timeout: 30_000,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text.length < 65_536 ? (text += c) : undefined));
        res.on('end', () => {
          try {
            const json = JSON.parse(text) as RenewResponse & { error?: { code: string; message: string } };
            if (res.statusCode === 200 && json.certificatePem) return resolve(json);
            reject(new SkybridgeError((json.error?.code as ErrorCode) ?? ErrorCode.TunnelError, json.error?.message ?? `the relay answered ${res.statusCode}`));
          } catch {
            reject(new SkybridgeError(ErrorCode.TunnelError, `the relay answered ${res.statusCode} with no usable body`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (err) => reject(new SkybridgeError(ErrorCode.TunnelError, `could not reach ${url.origin}: ${err.message}`)));
    req.end(body);
  });
}

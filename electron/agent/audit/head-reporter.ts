import type https from 'node:https';
import type { Logger } from '../../../common/logger.js';
import type { Subaccount } from '../../../shared/config.js';
import { isSkybridgeError } from '../../../shared/errors.js';
import type { AuditLog } from './log.js';
import { postAuditHead } from './relay-heads.js';

export interface HeadReporterOptions {
  dataDir: string;
  log: AuditLog;
  subaccounts: () => Subaccount[];
  logger: Logger;
  intervalMs?: number;
  agentFor?: (subaccountId: string) => https.Agent | undefined;
  onSent?: (subaccountId: string) => void;
}

/**
 * Sends the newest synced chain head to every enabled subaccount's relay once
 * a minute (when it moved), and once more on a clean stop. The relay keeps
 * every head it was sent, so `verify` can prove that the chain on this disk is
 * still the one that was reported, even if someone rewrote all of it.
 */
export class HeadReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly sent = new Map<string, number>();
  private readonly failing = new Set<string>();
  private running: Promise<void> | undefined;

  constructor(private readonly opts: HeadReporterOptions) {}

  start(): void {
    const every = this.opts.intervalMs ?? 60_000;
    this.timer = setInterval(() => void this.pushAll(), every);
    this.timer.unref();
    // A first report soon after start, once the tunnels had a moment to come up.
    setTimeout(() => void this.pushAll(), Math.min(5000, every)).unref();
  }

  async stop(timeoutMs = 3000): Promise<void> {
    clearInterval(this.timer);
    await Promise.race([this.pushAll(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** One round; rounds never overlap. */
  pushAll(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const head = this.opts.log.head;
    if (!head) return;
    await Promise.all(
      this.opts.subaccounts()
        .filter((s) => s.enabled)
        .map(async (sub) => {
          if (this.sent.get(sub.id) === head.seq) return;
          try {
            await postAuditHead(this.opts.dataDir, sub, head, { agent: this.opts.agentFor?.(sub.id), timeoutMs: 10_000 });
            this.sent.set(sub.id, head.seq);
            this.opts.onSent?.(sub.id);
            if (this.failing.delete(sub.id)) this.opts.logger.info({ subaccount: sub.id }, 'audit chain head reported to the relay again');
          } catch (err) {
            // One line per outage, not one a minute.
            if (!this.failing.has(sub.id)) {
              this.failing.add(sub.id);
              const level = isSkybridgeError(err) && err.code === 'CONFLICT' ? 'error' : 'warn';
              this.opts.logger[level]({ subaccount: sub.id, err: (err as Error).message }, 'could not report the audit chain head to the relay');
            }
          }
        }),
    );
  }
}

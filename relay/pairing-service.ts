import { z } from 'zod';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import { decodePairingCode } from '../shared/pairing-code.js';
import type { PairRequest, PairResponse } from '../shared/tunnel.js';
import { inspectCsr, signConnectorCsr, type RelayCa } from './ca.js';
import { newId, type RelayStore } from './store.js';
import { FailureThrottle } from './throttle.js';

const pairRequestSchema = z.object({
  code: z.string().min(1).max(4096),
  csrPem: z.string().min(1).max(16 * 1024),
  agentVersion: z.string().min(1).max(100),
  hostname: z.string().max(255).optional(),
}) satisfies z.ZodType<PairRequest>;

export interface PairingServiceOptions {
  now?: () => number;
  throttle?: FailureThrottle;
  certValidityDays?: number;
  /**
   * Fingerprint that valid pairing codes pin. Defaults to the relay CA's; set
   * it when the relay's TLS is anchored elsewhere (an operator-supplied certificate).
   */
  trustAnchorFingerprint?: string;
}

/**
 * Turns a one-time pairing code and a CSR into a connector certificate. The
 * code decides tenant and location; the connector decides nothing but its key.
 */
export class PairingService {
  private readonly now: () => number;
  private readonly throttle: FailureThrottle;
  private readonly certValidityDays: number | undefined;
  private readonly trustAnchorFingerprint: string;
  /** Addresses with a request sleeping off its delay; a second one is refused rather than queued. */
  private readonly waiting = new Set<string>();

  constructor(
    private readonly store: RelayStore,
    private readonly ca: RelayCa,
    opts: PairingServiceOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.throttle = opts.throttle ?? new FailureThrottle({ now: this.now });
    this.certValidityDays = opts.certValidityDays;
    this.trustAnchorFingerprint = (opts.trustAnchorFingerprint ?? ca.fingerprint).toLowerCase();
  }

  async pair(body: unknown, remoteAddress: string): Promise<PairResponse> {
    await this.waitTurn(remoteAddress);
    try {
      const response = await this.pairNow(body);
      this.throttle.succeed(remoteAddress);
      return response;
    } catch (e) {
      this.throttle.fail(remoteAddress);
      throw e;
    }
  }

  private async waitTurn(remoteAddress: string): Promise<void> {
    const delay = this.throttle.delayFor(remoteAddress);
    if (delay === 0) return;
    if (this.waiting.has(remoteAddress)) {
      throw new SkybridgeError(ErrorCode.PairingRateLimited, `Too many failed pairing attempts from this address; wait ${Math.ceil(delay / 1000)} seconds and try once.`);
    }
    this.waiting.add(remoteAddress);
    try {
      await new Promise((resolve) => setTimeout(resolve, delay));
    } finally {
      this.waiting.delete(remoteAddress);
    }
  }

  private async pairNow(body: unknown): Promise<PairResponse> {
    const parsed = pairRequestSchema.safeParse(body);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first && first.path.length > 0 ? ` (${first.path.join('.')}: ${first.message})` : '';
      throw new SkybridgeError(ErrorCode.BadRequest, `A pairing request needs code, csrPem and agentVersion${where}.`);
    }
    const request = parsed.data;
    const code = decodePairingCode(request.code);
    if (code.caFingerprint !== this.trustAnchorFingerprint) {
      throw new SkybridgeError(ErrorCode.PairingCodeUnknown, 'This pairing code was issued by a different relay (its CA fingerprint does not match this one).');
    }
    // Check the CSR before burning the one-time code on it.
    await inspectCsr(request.csrPem);
    const { tenantId, location } = this.store.consumePairingCode(code.secret, this.now());
    const tenant = this.store.getTenant(tenantId);
    if (!tenant) throw new SkybridgeError(ErrorCode.PairingCodeUnknown, 'The tenant this pairing code was issued for no longer exists.');

    const connectorId = newId('c-');
    const signOpts: Parameters<typeof signConnectorCsr>[2] = { connectorId, tenantId, location };
    if (this.certValidityDays !== undefined) signOpts.validityDays = this.certValidityDays;
    const issued = await signConnectorCsr(this.ca, request.csrPem, signOpts);
    this.store.createConnector({
      id: connectorId,
      tenantId,
      location,
      certFingerprint: issued.fingerprint,
      certSerial: issued.serial,
      notAfter: issued.notAfter,
      hostname: request.hostname ?? '',
      version: request.agentVersion,
    });
    return {
      connectorId,
      tenantId,
      tenantName: tenant.name,
      location,
      certificatePem: issued.certPem,
      caPem: this.ca.certPem,
      notAfter: issued.notAfter,
    };
  }
}

/** HTTP status for a pairing refusal. */
export function pairingHttpStatus(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.BadRequest:
    case ErrorCode.InvalidInput:
    case ErrorCode.PairingCodeMalformed:
    case ErrorCode.CertificateInvalid:
      return 400;
    case ErrorCode.PairingCodeUnknown:
    case ErrorCode.PairingCodeUsed:
    case ErrorCode.PairingCodeExpired:
    case ErrorCode.PairingCaMismatch:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.MethodNotAllowed:
      return 405;
    case ErrorCode.PairingRateLimited:
      return 429;
    default:
      return 500;
  }
}

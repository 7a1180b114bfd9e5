import { z } from 'zod';
import { ErrorCode, SkybridgeError } from './errors.js';

/**
 * A pairing code carries everything a connector needs to pair once: where the
 * relay is, which tenant and location, the SHA-256 fingerprint of the relay's
 * CA (pinned from then on) and a one-time secret. It is `SKB1.` followed by
 * base64url JSON, so it survives copy and paste as one word.
 */
export const PAIRING_CODE_PREFIX = 'SKB1.';

export const pairingCodeSchema = z.object({
  url: z.url({ protocol: /^https$/ }),
  tenantId: z.string().min(1),
  location: z.string(),
  caFingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 fingerprint in lowercase hex'),
  secret: z.string().min(16),
});

export type PairingCode = z.infer<typeof pairingCodeSchema>;

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(b64: string): string {
  const bin = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

export function encodePairingCode(code: PairingCode): string {
  const parsed = pairingCodeSchema.parse(code);
  return PAIRING_CODE_PREFIX + toBase64Url(JSON.stringify(parsed));
}

export function decodePairingCode(text: string): PairingCode {
  const trimmed = text.trim();
  const malformed = (why: string) =>
    new SkybridgeError(ErrorCode.PairingCodeMalformed, `This is not a Skybridge pairing code (${why}); copy the whole code printed by 'skybridge relay pairing-code'.`);
  if (!trimmed.startsWith(PAIRING_CODE_PREFIX)) throw malformed(`it should start with ${PAIRING_CODE_PREFIX}`);
  const body = trimmed.slice(PAIRING_CODE_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw malformed('it contains characters a code never has');
  let json: unknown;
  try {
    json = JSON.parse(fromBase64Url(body));
  } catch {
    throw malformed('it is cut off or damaged');
  }
  const result = pairingCodeSchema.safeParse(json);
  if (!result.success) throw malformed('it is cut off or damaged');
  return result.data;
}

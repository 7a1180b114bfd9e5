import { decodePairingCode, type PairingCode } from '../../../../shared/pairing-code.js';

export type CodePreview = { kind: 'empty' } | { kind: 'ok'; code: PairingCode } | { kind: 'error'; message: string };

/**
 * Reads a pasted pairing code in the browser, so the administrator sees which relay, tenant
 * and location it pairs with before anything is sent. The secret stays inside the code.
 */
export function previewPairingCode(text: string): CodePreview {
  if (text.trim() === '') return { kind: 'empty' };
  try {
    return { kind: 'ok', code: decodePairingCode(text) };
  } catch (e) {
    return { kind: 'error', message: e instanceof Error ? e.message : 'This is not a Skybridge pairing code.' };
  }
}

/** A lowercase hex SHA-256 as certificates show it: "AB:CD:…". */
export function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/.{2}/g) ?? []).join(':');
}

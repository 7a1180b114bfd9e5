import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { z } from 'zod';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { decodePairingCode, type PairingCode } from '../../shared/pairing-code.js';
import { CA_PATH, PAIR_PATH, type PairRequest, type PairResponse } from '../../shared/tunnel.js';
import { generateKeyAndCsr, publicKeyMatches } from './pki.js';

export interface PairOptions {
  agentVersion: string;
  hostname: string;
  /** Per request. The relay may hold a request up to 30 s after repeated failures, so the default allows for that. */
  timeoutMs?: number;
  /** Reach the relay through an outbound HTTP proxy: returns a fresh CONNECT agent per request. */
  viaProxy?: () => https.Agent;
}

export interface PairResult {
  code: PairingCode;
  response: PairResponse;
  /** The connector's new private key (PKCS#8 PEM); the caller stores it. */
  keyPem: string;
  /** The certificate that anchors the relay's TLS, pinned from now on. */
  trustAnchorPem: string;
}

const MAX_BODY = 1024 * 1024;
const ERROR_CODES = new Set<string>(Object.values(ErrorCode));

const caAnswerSchema = z.object({ caPem: z.string().min(1) });
const errorAnswerSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const pairResponseSchema = z.object({
  connectorId: z.string().min(1),
  tenantId: z.string().min(1),
  tenantName: z.string(),
  location: z.string(),
  certificatePem: z.string().min(1),
  caPem: z.string().min(1),
  notAfter: z.string(),
}) satisfies z.ZodType<PairResponse>;

interface Answer {
  status: number;
  body: Buffer;
  peer: DetailedPeerCertificate;
}

const TLS_VERIFY_ERRORS = /^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_\w+)$/;

function send(url: string, options: https.RequestOptions, body: string | undefined, timeoutMs: number, viaProxy?: () => https.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A fresh agent (or none) per request, so the unverified first connection is never reused for the verified one.
    const req = https.request(url, { ...options, agent: viaProxy ? viaProxy() : false }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate(true);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy(new Error('the answer is larger than 1 MB'));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), peer }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code && TLS_VERIFY_ERRORS.test(err.code)) {
        reject(new SkybridgeError(ErrorCode.CertificateInvalid, `The relay at ${url} presented a TLS certificate that does not fit the pinned CA or the address (${err.message}).`));
      } else {
        reject(new SkybridgeError(ErrorCode.TunnelError, `Could not reach the relay at ${url}: ${err.message}.`));
      }
    });
    req.end(body);
  });
}

function parseJson(answer: Answer, url: string): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new SkybridgeError(ErrorCode.TunnelError, `The relay at ${url} answered HTTP ${answer.status} with something other than JSON; is this URL a Skybridge relay?`);
  }
}

function refusal(answer: Answer, url: string): SkybridgeError {
  let json: unknown;
  try {
    json = JSON.parse(answer.body.toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = errorAnswerSchema.safeParse(json);
  if (parsed.success && ERROR_CODES.has(parsed.data.error.code)) {
    return new SkybridgeError(parsed.data.error.code as ErrorCode, parsed.data.error.message);
  }
  const detail = parsed.success ? `: ${parsed.data.error.message}` : '';
  return new SkybridgeError(ErrorCode.TunnelError, `The relay at ${url} refused with HTTP ${answer.status}${detail}.`);
}

function fingerprintOf(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** Whether the server's certificate leads to `anchor`, through the intermediates the server itself sent. */
function chainsTo(peer: DetailedPeerCertificate, anchor: X509Certificate): boolean {
  if (!peer.raw) return false;
  const presented: X509Certificate[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    presented.push(new X509Certificate(c.raw));
  }
  let current = presented[0]!;
  if (current.raw.equals(anchor.raw)) return true;
  for (let hops = 0; hops < presented.length; hops++) {
    if (signedBy(current, anchor)) return true;
    const next = presented.find((p) => p !== current && !p.raw.equals(current.raw) && signedBy(current, p));
    if (!next) return false;
    current = next;
  }
  return false;
}

function relayEndpoint(code: PairingCode, path: string): string {
  return code.url.replace(/\/+$/, '') + path;
}

/**
 * Pairs this connector with the relay named in the pairing code: learns the
 * relay's trust anchor and checks it against the fingerprint in the code,
 * then sends a CSR for a key made here. Writes nothing to disk.
 */
export async function pairWithRelay(codeText: string, opts: PairOptions): Promise<PairResult> {
  const code = decodePairingCode(codeText);
  const timeoutMs = opts.timeoutMs ?? 45_000;

  // Unverified on purpose: the fingerprint in the code is what makes this answer trustworthy.
  const caUrl = relayEndpoint(code, CA_PATH);
  const caAnswer = await send(caUrl, { method: 'GET', rejectUnauthorized: false, headers: { accept: 'application/json' } }, undefined, timeoutMs, opts.viaProxy);
  if (caAnswer.status !== 200) throw refusal(caAnswer, caUrl);
  const caParsed = caAnswerSchema.safeParse(parseJson(caAnswer, caUrl));
  let anchor: X509Certificate;
  try {
    if (!caParsed.success) throw new Error('no caPem');
    anchor = new X509Certificate(caParsed.data.caPem);
  } catch {
    throw new SkybridgeError(ErrorCode.TunnelError, `The relay at ${caUrl} did not answer with a CA certificate; is this URL a Skybridge relay?`);
  }
  const mismatch = () =>
    new SkybridgeError(ErrorCode.PairingCaMismatch, 'the relay presented a CA that does not match the pairing code; a TLS-inspecting proxy or a different relay is in between');
  if (fingerprintOf(anchor) !== code.caFingerprint) throw mismatch();
  if (!chainsTo(caAnswer.peer, anchor)) throw mismatch();
  const trustAnchorPem = anchor.toString();

  const { keyPem, csrPem } = await generateKeyAndCsr(opts.hostname);
  const request: PairRequest = { code: codeText.trim(), csrPem, agentVersion: opts.agentVersion, hostname: opts.hostname };
  const body = JSON.stringify(request);
  const pairUrl = relayEndpoint(code, PAIR_PATH);
  const answer = await send(
    pairUrl,
    {
      method: 'POST',
      ca: [trustAnchorPem],
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), accept: 'application/json' },
    },
    body,
    timeoutMs,
    opts.viaProxy,
  );
  if (answer.status < 200 || answer.status > 299) throw refusal(answer, pairUrl);
  const parsed = pairResponseSchema.safeParse(parseJson(answer, pairUrl));
  if (!parsed.success) throw new SkybridgeError(ErrorCode.TunnelError, `The relay at ${pairUrl} answered the pairing request with an incomplete response.`);
  const response = parsed.data;

  if (!publicKeyMatches(response.certificatePem, keyPem)) {
    throw new SkybridgeError(ErrorCode.CertificateInvalid, 'The relay returned a certificate for a different key than the one this connector generated.');
  }
  let issuedByCa: boolean;
  try {
    issuedByCa = signedBy(new X509Certificate(response.certificatePem), new X509Certificate(response.caPem));
  } catch {
    issuedByCa = false;
  }
  if (!issuedByCa) throw new SkybridgeError(ErrorCode.CertificateInvalid, 'The certificate the relay returned is not signed by the CA it named.');
  if (response.tenantId !== code.tenantId || response.location !== code.location) {
    throw new SkybridgeError(ErrorCode.CertificateInvalid, 'The relay paired this connector for a different tenant or location than the pairing code names.');
  }
  return { code, response, keyPem, trustAnchorPem };
}

import { isIP } from 'node:net';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import { AdminAuth, type AdminAuthOptions } from './admin-auth.js';
import { startWebUiServer, type WebUiServer, type WebUiServerOptions } from './server.js';
import { loadUiCertificate, type UiCertificate } from './tls.js';

export interface HeadlessUiOptions extends Omit<WebUiServerOptions, 'certificate' | 'auth'> {
  certFile?: string;
  keyFile?: string;
  auth?: AdminAuthOptions;
}

export interface HeadlessUi extends WebUiServer {
  certificate: UiCertificate;
  /** Set while the generated (or reset) password has not been changed yet. */
  initialPassword?: {
    file: string;
    /** Only on the start that made it, for a throwaway demo to print; everyone else points at the file. */
    password?: string;
  };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return new URL(`http://[${host}]`).hostname === '[::1]';
  return false;
}

/**
 * Everything `agent start --ui-port` needs: the certificate, the admin account (made with a
 * random password on first start), and the server. Fails with one sentence when the port is
 * taken or the certificate files do not fit.
 */
export async function startHeadlessUi(opts: HeadlessUiOptions): Promise<HeadlessUi> {
  const certificate = await loadUiCertificate({ dataDir: opts.dataDir, host: opts.host, certFile: opts.certFile, keyFile: opts.keyFile });
  const auth = new AdminAuth(opts.dataDir, opts.auth);
  const { password } = await auth.ensure();
  let server: WebUiServer;
  try {
    server = await startWebUiServer({ ...opts, certificate, auth });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new SkybridgeError(ErrorCode.InvalidInput, `Port ${opts.port} on ${opts.host} is already in use; choose another with --ui-port.`);
    if (e.code === 'EADDRNOTAVAIL') throw new SkybridgeError(ErrorCode.InvalidInput, `${opts.host} is not an address of this machine; check --ui-host.`);
    if (e.code === 'EACCES') throw new SkybridgeError(ErrorCode.InvalidInput, `Not allowed to listen on port ${opts.port}; ports below 1024 need privileges, so choose another with --ui-port.`);
    throw err;
  }
  const mustChange = auth.state()?.mustChangePassword ?? false;
  return {
    ...server,
    certificate,
    initialPassword: mustChange ? { file: auth.initialPasswordFile, ...(password ? { password } : {}) } : undefined,
  };
}

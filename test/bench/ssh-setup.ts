/**
 * The yardstick: an `ssh -R` tunnel on loopback with throwaway keys. A private
 * sshd (own config, host key and pid file in the temp dir) listens on
 * 127.0.0.1; `ssh -R` forwards a port on it back to the bench's back end.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { descendants } from './procfs.js';
import { run, startProcess, waitFor, type Proc } from './procs.js';

export const SSHD = '/usr/sbin/sshd';

export interface SshTunnel {
  sshd: Proc;
  ssh: Proc;
  /** The forwarded port on sshd's side: clients connect here. */
  port: number;
  /** Negotiated cipher and MAC, as ssh -v reports them (the defaults: no cipher is forced). */
  cipher: string;
  /** sshd's per-connection processes, which carry the tunnel's bytes on the server side. */
  sessionPids(): number[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const canConnect = (port: number) =>
  new Promise<true | undefined>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });

/** Why the ssh column cannot run here, or undefined when it can. */
export function sshUnavailable(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} not found (apt-get install -y openssh-server)`;
  if (process.getuid?.() !== 0) return 'sshd needs root here (the bench logs in as root with a throwaway key)';
  return undefined;
}

export async function startSshTunnel(dir: string, backendPort: number): Promise<SshTunnel> {
  // sshd's privilege-separation directory; the package normally makes it at service start.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const userKey = path.join(dir, 'id_ed25519');
  await run('ssh-keygen', 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await run('ssh-keygen', 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', userKey]);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${userKey}.pub`), { mode: 0o600 });
  const sshdPort = await freePort();
  const forwardPort = await freePort();
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${sshdPort}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'GatewayPorts no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  await run('sshd -t', SSHD, ['-t', '-f', config]);
  const sshd = startProcess('sshd', SSHD, ['-D', '-e', '-f', config], { group: true });
  await waitFor('sshd to listen', 10_000, () => {
    if (!sshd.alive()) throw new Error(`sshd exited: ${sshd.stderr().slice(-500)}`);
    return canConnect(sshdPort);
  });
  const common = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-i', userKey, '-p', String(sshdPort)];
  // A short verbose login first: it names the cipher the defaults negotiate, and fails clearly if login does not work.
  const probe = await run('ssh (cipher probe)', 'ssh', ['-v', ...common, 'root@127.0.0.1', 'true'], { timeoutMs: 20_000 });
  const m = /kex: client->server cipher: (\S+) MAC: (\S+)/.exec(probe.stderr);
  const cipher = m ? `${m[1]}${m[2] === '<implicit>' ? '' : ` + ${m[2]}`}` : 'unknown (not in ssh -v output)';
  const ssh = startProcess('ssh -R', 'ssh', ['-N', ...common, '-o', 'ExitOnForwardFailure=yes', '-o', 'LogLevel=ERROR', '-R', `127.0.0.1:${forwardPort}:127.0.0.1:${backendPort}`, 'root@127.0.0.1']);
  await waitFor('the ssh -R forward to listen', 15_000, () => {
    if (!ssh.alive()) throw new Error(`ssh -R exited: ${ssh.stderr().slice(-500)}`);
    return canConnect(forwardPort);
  });
  // Looked up once: the tunnel is one connection, so its sshd processes do not change (and /proc is not rescanned on every sample).
  const sessions = await waitFor('the sshd session processes', 5000, () => {
    const found = descendants(sshd.pid);
    return found.length > 0 ? found : undefined;
  });
  return { sshd, ssh, port: forwardPort, cipher, sessionPids: () => (sshd.alive() ? sessions : []) };
}

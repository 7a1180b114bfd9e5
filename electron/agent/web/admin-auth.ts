import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { ErrorCode, SkybridgeError } from '../../../shared/errors.js';
import { ADMIN_USER, MIN_PASSWORD_LENGTH } from '../../../shared/web-api.js';
import { writeSecretFile } from '../pki.js';
import { uiPaths } from './ui-paths.js';

/** scrypt cost: about 0.1 s and 32 MiB per check on a small server, which is what makes guessing slow offline. */
export const DEFAULT_SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
/** Verifications run one at a time; this many may wait before new ones are turned away. */
const MAX_WAITING = 16;

const hashSchema = z.object({
  algorithm: z.literal('scrypt'),
  N: z.int().min(2),
  r: z.int().min(1),
  p: z.int().min(1),
  salt: z.string().min(16),
  hash: z.string().min(16),
});
type PasswordHash = z.infer<typeof hashSchema>;

const accountSchema = z.object({
  version: z.literal(1),
  user: z.string().min(1),
  password: hashSchema,
  /** Set for the generated initial password and after a reset: the next sign-in must choose a new one. */
  mustChangePassword: z.boolean(),
  /** Bumped by every change and reset; sessions signed in under an older one are over. */
  generation: z.int().min(1),
  changedAt: z.string(),
});
type Account = z.infer<typeof accountSchema>;

export interface AccountState {
  user: string;
  mustChangePassword: boolean;
  generation: number;
}

export interface AdminAuthOptions {
  /** scrypt cost for new hashes (tests use a cheap one); existing hashes keep theirs. */
  scrypt?: { N: number; r: number; p: number };
}

export class PasswordQueueFull extends Error {}

function scrypt(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export function generatePassword(): string {
  // 144 random bits, 24 characters of base64url: above MIN_PASSWORD_LENGTH and easy to copy.
  return randomBytes(18).toString('base64url');
}

/**
 * The headless UI's one local administrator, in <dataDir>/ui/admin.json (owner-only):
 * an scrypt hash with its own salt, never the password. The file is read again whenever
 * it changes on disk, so `skybridge agent ui reset-password` takes effect in a running agent.
 */
export class AdminAuth {
  private readonly paths;
  private cached: { account: Account; stamp: string } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(
    readonly dataDir: string,
    private readonly opts: AdminAuthOptions = {},
  ) {
    this.paths = uiPaths(dataDir);
  }

  get initialPasswordFile(): string {
    return this.paths.initialPassword;
  }

  private async hash(password: string): Promise<PasswordHash> {
    const params = this.opts.scrypt ?? DEFAULT_SCRYPT;
    const salt = randomBytes(16);
    const key = await scrypt(password, salt, params);
    return { algorithm: 'scrypt', ...params, salt: salt.toString('base64'), hash: key.toString('base64') };
  }

  private read(): Account | undefined {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.paths.admin);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (this.cached?.stamp === stamp) return this.cached.account;
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(this.paths.admin, 'utf8'));
    } catch (err) {
      throw new SkybridgeError(ErrorCode.ConfigInvalid, `${this.paths.admin} cannot be read (${(err as Error).message}); run 'skybridge agent ui reset-password' to make a new one.`);
    }
    const result = accountSchema.safeParse(parsed);
    if (!result.success) throw new SkybridgeError(ErrorCode.ConfigInvalid, `${this.paths.admin} is damaged; run 'skybridge agent ui reset-password' to make a new one.`);
    this.cached = { account: result.data, stamp };
    return result.data;
  }

  private async write(account: Account): Promise<void> {
    fs.mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    await writeSecretFile(this.paths.admin, `${JSON.stringify(account, null, 2)}\n`);
    this.cached = undefined;
  }

  /** The account as it is now; undefined before the first start. */
  state(): AccountState | undefined {
    const a = this.read();
    return a && { user: a.user, mustChangePassword: a.mustChangePassword, generation: a.generation };
  }

  /**
   * First start: makes the account with a random initial password, written to an owner-only
   * file (never to a log). Returns the password only when it was made now.
   */
  async ensure(): Promise<{ created: boolean; password?: string }> {
    if (this.read()) return { created: false };
    const password = await this.setInitial(1);
    return { created: true, password };
  }

  /** `skybridge agent ui reset-password`: a new random password that must be changed at the next sign-in; every session ends. */
  async reset(): Promise<string> {
    let generation = 1;
    try {
      generation = (this.read()?.generation ?? 0) + 1;
    } catch {
      // a damaged file is exactly what a reset is for
    }
    return this.setInitial(generation);
  }

  private async setInitial(generation: number): Promise<string> {
    const password = generatePassword();
    await writeSecretFile(this.paths.initialPassword, `${password}\n`);
    await this.write({ version: 1, user: ADMIN_USER, password: await this.hash(password), mustChangePassword: true, generation, changedAt: new Date().toISOString() });
    return password;
  }

  /**
   * True when user and password match. Always runs one scrypt, even for an unknown user, so
   * the answer takes as long either way. Checks run one after another (each costs tens of
   * MiB); when too many wait, PasswordQueueFull is thrown instead of queueing more.
   */
  verify(user: string, password: string): Promise<boolean> {
    if (this.waiting >= MAX_WAITING) return Promise.reject(new PasswordQueueFull('too many sign-in checks at once'));
    this.waiting++;
    const run = this.queue.then(async () => {
      const account = this.read();
      if (!account) return false;
      const h = account.password;
      const key = await scrypt(password, Buffer.from(h.salt, 'base64'), h);
      const expected = Buffer.from(h.hash, 'base64');
      const same = key.length === expected.length && timingSafeEqual(key, expected);
      return same && user === account.user;
    });
    this.queue = run.catch(() => undefined).finally(() => this.waiting--);
    return run;
  }

  /**
   * Replaces the password after checking the current one. The new one must be long enough
   * and differ from the current one. Ends every session (the generation moves on) and
   * removes the initial-password file.
   */
  async changePassword(user: string, current: string, next: string): Promise<AccountState> {
    if (!(await this.verify(user, current))) throw new SkybridgeError(ErrorCode.AccessDenied, 'The current password is wrong.');
    if (next.length < MIN_PASSWORD_LENGTH) throw new SkybridgeError(ErrorCode.InvalidInput, `The new password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
    if (next.normalize('NFC') === current.normalize('NFC')) throw new SkybridgeError(ErrorCode.InvalidInput, 'The new password must differ from the current one.');
    const account = this.read()!;
    const updated: Account = { ...account, password: await this.hash(next), mustChangePassword: false, generation: account.generation + 1, changedAt: new Date().toISOString() };
    await this.write(updated);
    fs.rmSync(this.paths.initialPassword, { force: true });
    return { user: updated.user, mustChangePassword: false, generation: updated.generation };
  }
}

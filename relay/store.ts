import Database from 'libsql';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import { encodePairingCode, pairingCodeSchema } from '../shared/pairing-code.js';
import { MIGRATIONS } from './store-schema.js';

export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
}

export interface App {
  id: string;
  tenantId: string;
  tenantName: string;
  name: string;
  createdAt: string;
}

export interface Connector {
  id: string;
  tenantId: string;
  location: string;
  /** Of the certificate the connector was found by, or else its newest one. */
  certFingerprint: string;
  certSerial: string;
  notAfter: string;
  hostname: string;
  version: string;
  createdAt: string;
  lastSeenAt?: string;
  revokedAt?: string;
  /** Set while the connector's tunnel is up on a running relay. */
  onlineSince?: string;
}

export interface RelayEvent {
  at: string;
  tenantId?: string;
  connectorId?: string;
  type: string;
  message: string;
}

/** What pairing records about a new connector; the rest of Connector is filled in as it lives. */
export type NewConnector = Pick<Connector, 'id' | 'tenantId' | 'location' | 'certFingerprint' | 'certSerial' | 'notAfter' | 'hostname' | 'version'>;

export interface NewPairingCode {
  tenantId: string;
  location: string;
  ttlSeconds: number;
  relayUrl: string;
  caFingerprint: string;
  /** Issue time in ms; defaults to now. */
  now?: number;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `prefix` followed by 12 random lowercase alphanumerics (about 62 bits). */
export function newId(prefix: string): string {
  let id = prefix;
  for (let i = 0; i < 12; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}


interface TenantRow {
  id: string;
  name: string;
  created_at: string;
}

interface AppRow {
  id: string;
  tenant_id: string;
  tenant_name: string;
  name: string;
  created_at: string;
}

interface PairingCodeRow {
  tenant_id: string;
  location: string;
  expires_at: string;
  used_at: string | null;
}

interface ConnectorRow {
  id: string;
  tenant_id: string;
  location: string;
  hostname: string;
  version: string;
  created_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
  online_since: string | null;
  fingerprint: string;
  serial: string;
  not_after: string;
}

// libsql rows carry an extra `_metadata` property, so rows are always mapped field by field.
const toTenant = (r: TenantRow): Tenant => ({ id: r.id, name: r.name, createdAt: r.created_at });

const toApp = (r: AppRow): App => ({
  id: r.id,
  tenantId: r.tenant_id,
  tenantName: r.tenant_name,
  name: r.name,
  createdAt: r.created_at,
});

function toConnector(r: ConnectorRow): Connector {
  const c: Connector = {
    id: r.id,
    tenantId: r.tenant_id,
    location: r.location,
    certFingerprint: r.fingerprint,
    certSerial: r.serial,
    notAfter: r.not_after,
    hostname: r.hostname,
    version: r.version,
    createdAt: r.created_at,
  };
  if (r.last_seen_at !== null) c.lastSeenAt = r.last_seen_at;
  if (r.revoked_at !== null) c.revokedAt = r.revoked_at;
  if (r.online_since !== null) c.onlineSince = r.online_since;
  return c;
}

const APP_SELECT = `SELECT a.id, a.tenant_id, t.name AS tenant_name, a.name, a.created_at
  FROM apps a JOIN tenants t ON t.id = a.tenant_id`;

const CONNECTOR_COLUMNS = `c.id, c.tenant_id, c.location, c.hostname, c.version, c.created_at,
  c.last_seen_at, c.revoked_at, c.online_since, k.fingerprint, k.serial, k.not_after`;

/** Joins each connector to its newest certificate. */
const CONNECTOR_SELECT = `SELECT ${CONNECTOR_COLUMNS}
  FROM connectors c JOIN connector_certificates k ON k.rowid = (
    SELECT rowid FROM connector_certificates WHERE connector_id = c.id ORDER BY rowid DESC LIMIT 1)`;

function sqliteCode(e: unknown): string {
  return typeof e === 'object' && e !== null ? String((e as { code?: unknown }).code) : '';
}

function isUniqueViolation(e: unknown): boolean {
  const code = sqliteCode(e);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function cleanName(kind: string, name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100) {
    throw new SkybridgeError(ErrorCode.InvalidInput, `A ${kind} name must be 1 to 100 characters long.`);
  }
  return trimmed;
}

/**
 * The relay's state in one SQLite file. The CLI opens the same file while the
 * relay runs, so every multi-step change is one IMMEDIATE transaction and WAL
 * lets readers proceed while the other process writes.
 */
const APP_CACHE_MS = 5_000;
const APP_CACHE_MAX = 10_000;

export class RelayStore {
  private readonly appCache = new Map<string, { app: App; until: number }>();
  private findAppStmt?: ReturnType<Database.Database['prepare']>;
  private constructor(private readonly db: Database.Database) {}

  static open(dataDir: string): RelayStore {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const db = new Database(join(dataDir, 'relay.db'));
    try {
      // busy_timeout first: switching to WAL needs a lock another process may hold.
      db.exec('PRAGMA busy_timeout = 5000');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA foreign_keys = ON');
      const store = new RelayStore(db);
      store.migrate();
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
      let version = row?.version ?? 0;
      if (row === undefined) this.db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
      if (version > MIGRATIONS.length) {
        throw new SkybridgeError(
          ErrorCode.ConfigInvalid,
          `relay.db has schema version ${version}, newer than this Skybridge understands (${MIGRATIONS.length}); upgrade Skybridge.`,
        );
      }
      for (; version < MIGRATIONS.length; version++) this.db.exec(MIGRATIONS[version]!);
      this.db.prepare('UPDATE schema_version SET version = ?').run(version);
    }).immediate();
  }

  // --- tenants

  createTenant(name: string): Tenant {
    const tenant: Tenant = { id: newId('t-'), name: cleanName('tenant', name), createdAt: new Date().toISOString() };
    try {
      this.db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run(tenant.id, tenant.name, tenant.createdAt);
    } catch (e) {
      if (isUniqueViolation(e)) throw new SkybridgeError(ErrorCode.Conflict, `A tenant named "${tenant.name}" already exists.`);
      throw e;
    }
    return tenant;
  }

  getTenant(id: string): Tenant | undefined {
    const row = this.db.prepare('SELECT id, name, created_at FROM tenants WHERE id = ?').get(id) as TenantRow | undefined;
    return row && toTenant(row);
  }

  listTenants(): Tenant[] {
    const rows = this.db.prepare('SELECT id, name, created_at FROM tenants ORDER BY name').all() as TenantRow[];
    return rows.map(toTenant);
  }

  private requireTenant(tenantId: string): Tenant {
    const tenant = this.getTenant(tenantId);
    if (!tenant) throw new SkybridgeError(ErrorCode.NotFound, `There is no tenant with id ${tenantId}.`);
    return tenant;
  }

  // --- apps

  /** The token is returned here only; the store keeps its SHA-256. */
  createApp(tenantId: string, name: string): { app: App; token: string } {
    const clean = cleanName('app', name);
    const tenant = this.requireTenant(tenantId);
    const token = 'sbt_' + randomBytes(32).toString('base64url');
    const app: App = { id: newId('a-'), tenantId, tenantName: tenant.name, name: clean, createdAt: new Date().toISOString() };
    try {
      this.db
        .prepare('INSERT INTO apps (id, tenant_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(app.id, tenantId, clean, sha256Hex(token), app.createdAt);
    } catch (e) {
      if (isUniqueViolation(e)) throw new SkybridgeError(ErrorCode.Conflict, `Tenant "${tenant.name}" already has an app named "${clean}".`);
      throw e;
    }
    return { app, token };
  }

  /** Looks the token up by its hash, so no comparison ever runs on the secret itself. */
  /**
   * Every proxied request asks this, so the statement is prepared once and hits
   * are cached briefly (by token hash, never the token). Misses are not cached:
   * a new app works at once; a change to an existing app shows within APP_CACHE_MS.
   */
  findAppByToken(token: string): App | undefined {
    const hash = sha256Hex(token);
    const now = Date.now();
    const hit = this.appCache.get(hash);
    if (hit && hit.until > now) return hit.app;
    this.findAppStmt ??= this.db.prepare(`${APP_SELECT} WHERE a.token_hash = ?`);
    const row = this.findAppStmt.get(hash) as AppRow | undefined;
    if (!row) {
      this.appCache.delete(hash);
      return undefined;
    }
    const app = toApp(row);
    if (this.appCache.size >= APP_CACHE_MAX) this.appCache.clear();
    this.appCache.set(hash, { app, until: now + APP_CACHE_MS });
    return app;
  }

  listApps(tenantId: string): App[] {
    const rows = this.db.prepare(`${APP_SELECT} WHERE a.tenant_id = ? ORDER BY a.name`).all(tenantId) as AppRow[];
    return rows.map(toApp);
  }

  // --- pairing codes

  createPairingCode(opts: NewPairingCode): { code: string; expiresAt: string } {
    if (!Number.isFinite(opts.ttlSeconds) || opts.ttlSeconds <= 0) {
      throw new SkybridgeError(ErrorCode.InvalidInput, 'A pairing code must be valid for a positive number of seconds.');
    }
    this.requireTenant(opts.tenantId);
    const now = opts.now ?? Date.now();
    const fields = {
      url: opts.relayUrl,
      tenantId: opts.tenantId,
      location: opts.location,
      caFingerprint: opts.caFingerprint,
      secret: randomBytes(24).toString('base64url'),
    };
    const checked = pairingCodeSchema.safeParse(fields);
    if (!checked.success) {
      const field = checked.error.issues[0]?.path.join('.') ?? 'a field';
      throw new SkybridgeError(ErrorCode.InvalidInput, `Cannot issue a pairing code: ${field} is not valid (the relay URL must be https://).`);
    }
    const secret = fields.secret;
    const code = encodePairingCode(fields);
    const expiresAt = new Date(now + opts.ttlSeconds * 1000).toISOString();
    this.db
      .prepare('INSERT INTO pairing_codes (secret_hash, tenant_id, location, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(sha256Hex(secret), opts.tenantId, opts.location, new Date(now).toISOString(), expiresAt);
    return { code, expiresAt };
  }

  /** Marks the code used. Check and mark are one IMMEDIATE transaction, so of two concurrent consumers exactly one wins. */
  consumePairingCode(secret: string, now = Date.now()): { tenantId: string; location: string } {
    return this.db.transaction(() => {
      const hash = sha256Hex(secret);
      const row = this.db
        .prepare('SELECT tenant_id, location, expires_at, used_at FROM pairing_codes WHERE secret_hash = ?')
        .get(hash) as PairingCodeRow | undefined;
      if (!row) {
        throw new SkybridgeError(ErrorCode.PairingCodeUnknown, 'This pairing code is not recognised by the relay (it was not issued there, or it was mistyped); create a new one with \'skybridge relay pairing-code\'.');
      }
      if (row.used_at !== null) {
        throw new SkybridgeError(ErrorCode.PairingCodeUsed, `This pairing code was already used at ${row.used_at}; each code pairs one connector, so create a new one.`);
      }
      if (Date.parse(row.expires_at) <= now) {
        throw new SkybridgeError(ErrorCode.PairingCodeExpired, `This pairing code expired at ${row.expires_at}; create a new one.`);
      }
      this.db.prepare('UPDATE pairing_codes SET used_at = ? WHERE secret_hash = ?').run(new Date(now).toISOString(), hash);
      return { tenantId: row.tenant_id, location: row.location };
    }).immediate();
  }

  // --- connectors

  createConnector(c: NewConnector): Connector {
    const createdAt = new Date().toISOString();
    this.requireTenant(c.tenantId);
    this.db.transaction(() => {
      try {
        this.db
          .prepare('INSERT INTO connectors (id, tenant_id, location, hostname, version, created_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(c.id, c.tenantId, c.location, c.hostname, c.version, createdAt);
      } catch (e) {
        if (isUniqueViolation(e)) throw new SkybridgeError(ErrorCode.Conflict, `A connector with id ${c.id} already exists.`);
        throw e;
      }
      this.insertCertificate(c.id, c.certFingerprint, c.certSerial, c.notAfter, createdAt);
    }).immediate();
    return this.getConnector(c.id)!;
  }

  /** Records a renewed certificate; the connector is then found by either until the old one expires. */
  addCertificate(connectorId: string, cert: { fingerprint: string; serial: string; notAfter: string }): void {
    if (!this.getConnector(connectorId)) throw new SkybridgeError(ErrorCode.ConnectorUnknown, `There is no connector with id ${connectorId}.`);
    this.insertCertificate(connectorId, cert.fingerprint, cert.serial, cert.notAfter, new Date().toISOString());
  }

  private insertCertificate(connectorId: string, fingerprint: string, serial: string, notAfter: string, createdAt: string): void {
    try {
      this.db
        .prepare('INSERT INTO connector_certificates (connector_id, fingerprint, serial, not_after, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(connectorId, fingerprint.toLowerCase(), serial, notAfter, createdAt);
    } catch (e) {
      if (isUniqueViolation(e)) throw new SkybridgeError(ErrorCode.Conflict, 'This certificate is already registered to a connector.');
      throw e;
    }
  }

  findConnectorByFingerprint(fingerprint: string): Connector | undefined {
    const row = this.db
      .prepare(`SELECT ${CONNECTOR_COLUMNS} FROM connector_certificates k JOIN connectors c ON c.id = k.connector_id WHERE k.fingerprint = ?`)
      .get(fingerprint.toLowerCase()) as ConnectorRow | undefined;
    return row && toConnector(row);
  }

  getConnector(id: string): Connector | undefined {
    const row = this.db.prepare(`${CONNECTOR_SELECT} WHERE c.id = ?`).get(id) as ConnectorRow | undefined;
    return row && toConnector(row);
  }

  touchConnector(id: string, lastSeenIso: string, version?: string): void {
    if (version === undefined) {
      this.db.prepare('UPDATE connectors SET last_seen_at = ? WHERE id = ?').run(lastSeenIso, id);
    } else {
      this.db.prepare('UPDATE connectors SET last_seen_at = ?, version = ? WHERE id = ?').run(lastSeenIso, version, id);
    }
  }

  listConnectors(tenantId?: string): Connector[] {
    const rows = (
      tenantId === undefined
        ? this.db.prepare(`${CONNECTOR_SELECT} ORDER BY c.tenant_id, c.location, c.created_at`).all()
        : this.db.prepare(`${CONNECTOR_SELECT} WHERE c.tenant_id = ? ORDER BY c.location, c.created_at`).all(tenantId)
    ) as ConnectorRow[];
    return rows.map(toConnector);
  }

  /** Idempotent: revoking twice keeps the first revocation time. */
  revokeConnector(id: string): void {
    const result = this.db
      .prepare('UPDATE connectors SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?')
      .run(new Date().toISOString(), id);
    if (result.changes === 0) throw new SkybridgeError(ErrorCode.ConnectorUnknown, `There is no connector with id ${id}.`);
  }

  // --- presence and relay events

  /** Marks a connector's tunnel up (an ISO time) or down (undefined). */
  setConnectorOnline(id: string, sinceIso: string | undefined): void {
    this.db.prepare('UPDATE connectors SET online_since = ?, last_seen_at = ? WHERE id = ?').run(sinceIso ?? null, new Date().toISOString(), id);
  }

  /** At relay start nothing is online, whatever a previous run left behind after a crash. */
  clearPresence(): void {
    this.db.prepare('UPDATE connectors SET online_since = NULL WHERE online_since IS NOT NULL').run();
  }

  /** Ids of revoked connectors; the running relay polls this to drop their tunnels at once. */
  revokedConnectorIds(): string[] {
    return (this.db.prepare('SELECT id FROM connectors WHERE revoked_at IS NOT NULL').all() as { id: string }[]).map((r) => r.id);
  }

  recordEvent(e: { type: string; message: string; tenantId?: string; connectorId?: string }): void {
    this.db
      .prepare('INSERT INTO relay_events (at, tenant_id, connector_id, type, message) VALUES (?, ?, ?, ?, ?)')
      .run(new Date().toISOString(), e.tenantId ?? null, e.connectorId ?? null, e.type, e.message);
  }

  listEvents(opts: { tenantId?: string; limit?: number } = {}): RelayEvent[] {
    const limit = Math.max(1, Math.min(opts.limit ?? 100, 10_000));
    const rows = (
      opts.tenantId === undefined
        ? this.db.prepare('SELECT at, tenant_id, connector_id, type, message FROM relay_events ORDER BY id DESC LIMIT ?').all(limit)
        : this.db.prepare('SELECT at, tenant_id, connector_id, type, message FROM relay_events WHERE tenant_id = ? ORDER BY id DESC LIMIT ?').all(opts.tenantId, limit)
    ) as { at: string; tenant_id: string | null; connector_id: string | null; type: string; message: string }[];
    return rows.map((r) => ({ at: r.at, tenantId: r.tenant_id ?? undefined, connectorId: r.connector_id ?? undefined, type: r.type, message: r.message }));
  }

  // --- audit chain heads

  /**
   * Records a connector's chain head. Heads only move forward: a head at or
   * below the newest one already kept is accepted only if it is that very
   * head (a repeat); anything else means the connector's chain went back or
   * forked, and is refused so the kept history stays the evidence.
   */
  recordAuditHead(connectorId: string, head: { seq: number; mac: string; time: string }): { stored: boolean } {
    return this.db.transaction(() => {
      const newest = this.db
        .prepare('SELECT seq, mac FROM audit_heads WHERE connector_id = ? ORDER BY seq DESC LIMIT 1')
        .get(connectorId) as { seq: number; mac: string } | undefined;
      if (newest && head.seq === newest.seq && head.mac === newest.mac) return { stored: false };
      if (newest && head.seq <= newest.seq) {
        const same = this.db.prepare('SELECT mac FROM audit_heads WHERE connector_id = ? AND seq = ?').get(connectorId, head.seq) as { mac: string } | undefined;
        if (same?.mac === head.mac) return { stored: false };
        throw new SkybridgeError(
          ErrorCode.Conflict,
          `The relay already holds audit head seq ${newest.seq} for this connector; a head at seq ${head.seq} with a different hash means the audit chain went back or was rewritten.`,
        );
      }
      this.db
        .prepare('INSERT INTO audit_heads (connector_id, seq, mac, entry_time, received_at) VALUES (?, ?, ?, ?, ?)')
        .run(connectorId, head.seq, head.mac, head.time, new Date().toISOString());
      return { stored: true };
    }).immediate();
  }

  /** Heads of one connector with seq above `afterSeq`, oldest first. */
  listAuditHeads(connectorId: string, afterSeq = 0, limit = 1000): { seq: number; mac: string; time: string; receivedAt: string }[] {
    const rows = this.db
      .prepare('SELECT seq, mac, entry_time, received_at FROM audit_heads WHERE connector_id = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(connectorId, afterSeq, Math.max(1, Math.min(limit, 10_000))) as { seq: number; mac: string; entry_time: string; received_at: string }[];
    return rows.map((r) => ({ seq: r.seq, mac: r.mac, time: r.entry_time, receivedAt: r.received_at }));
  }

  // --- settings

  getSetting(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setSetting(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }
}

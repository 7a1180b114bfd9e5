/** The relay database's schema, applied in order on open; schema_version counts the entries applied. */
/**
 * Each entry moves the schema one version forward. Never edit a shipped entry:
 * relay.db files in the field have already run it.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );
  CREATE TABLE apps (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, name)
  );
  CREATE TABLE pairing_codes (
    secret_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    location TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
  );
  CREATE TABLE connectors (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    location TEXT NOT NULL,
    hostname TEXT NOT NULL,
    version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at TEXT
  );
  CREATE INDEX connectors_tenant ON connectors(tenant_id);
  CREATE TABLE connector_certificates (
    connector_id TEXT NOT NULL REFERENCES connectors(id),
    fingerprint TEXT NOT NULL UNIQUE,
    serial TEXT NOT NULL,
    not_after TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX connector_certificates_connector ON connector_certificates(connector_id);
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: connector presence (for 'connector list') and a relay event log (refusals, revocations).
  `
  ALTER TABLE connectors ADD COLUMN online_since TEXT;
  CREATE TABLE relay_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    tenant_id TEXT,
    connector_id TEXT,
    type TEXT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX relay_events_at ON relay_events(at);
  `,
  // 3: every audit chain head a connector reported (docs/audit.md), kept so 'audit verify' can prove its chain was not rewritten.
  `
  CREATE TABLE audit_heads (
    connector_id TEXT NOT NULL REFERENCES connectors(id),
    seq INTEGER NOT NULL,
    mac TEXT NOT NULL,
    entry_time TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (connector_id, seq)
  );
  `,
];

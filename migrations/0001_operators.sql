-- The directory and the audit log of wxa-auth (src/runtime/cloudflare/d1.ts, D1_SCHEMA).
-- wxa-auth also makes them on first use; `wrangler d1 migrations apply DB` makes them ahead.

CREATE TABLE IF NOT EXISTS wxa_directory (
  openid TEXT NOT NULL,
  app_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  uid TEXT NOT NULL,
  unionid TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (openid, app_id, platform)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS wxa_directory_uid ON wxa_directory (uid);

CREATE INDEX IF NOT EXISTS wxa_directory_unionid ON wxa_directory (unionid) WHERE unionid IS NOT NULL;

CREATE TABLE IF NOT EXISTS wxa_phones (
  uid TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS wxa_phones_hash ON wxa_phones (hash);

CREATE TABLE IF NOT EXISTS wxa_directory_gone (
  uid TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS wxa_audit (
  at INTEGER NOT NULL,
  id INTEGER NOT NULL,
  type TEXT NOT NULL,
  uid TEXT,
  actor TEXT NOT NULL,
  detail TEXT,
  PRIMARY KEY (at, id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS wxa_audit_uid_at ON wxa_audit (uid, at);

CREATE INDEX IF NOT EXISTS wxa_audit_type_at ON wxa_audit (type, at) WHERE type NOT IN ('login', 'refresh');

-- The engine's store, on devices and on the hub alike: the op log and the merged state.
-- DESIGN.md § Data model and § Merge rules. Never edit once released: add a migration.

-- One row per setting of this replica: 'device_id' (text), 'hlc' (the clock's last reading).
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value ANY
) STRICT;

-- Named counters: sync cursors and acknowledged seqs (Engine::counter).
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;

-- Device ids interned to small integers; local to this file, never sent.
CREATE TABLE devices (
  idx INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE
) STRICT;

-- Record keys interned to small integers; local to this file, never sent.
-- The UNIQUE index serves the lookup of a key and records_with_prefix().
CREATE TABLE records (
  idx INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
) STRICT;

-- Every op this replica has, in arrival order (pos: the cursor of log_after()).
CREATE TABLE ops (
  pos INTEGER PRIMARY KEY,
  device INTEGER NOT NULL REFERENCES devices(idx),
  seq INTEGER NOT NULL,
  hlc INTEGER NOT NULL,
  record INTEGER NOT NULL REFERENCES records(idx),
  field TEXT NOT NULL,
  policy INTEGER NOT NULL,
  context INTEGER NOT NULL,
  value BLOB NOT NULL,
  base BLOB
) STRICT;
-- Serves: the duplicate check of apply_remote(), ops_after() of this device, and the lookup
-- of an op named in a base.
CREATE UNIQUE INDEX ops_by_origin ON ops(device, seq);

-- The merged state of each field: its frontier, pending supersessions, entries or sum.
CREATE TABLE fields (
  record INTEGER NOT NULL REFERENCES records(idx),
  field TEXT NOT NULL,
  policy INTEGER NOT NULL,
  conflict INTEGER NOT NULL,
  state BLOB NOT NULL,
  PRIMARY KEY (record, field)
) STRICT, WITHOUT ROWID;
-- Serves: conflicts() without scanning every field.
CREATE INDEX fields_in_conflict ON fields(record, field) WHERE conflict = 1;

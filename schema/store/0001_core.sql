-- The engine's store, on devices and on the hub alike: the op log and the merged state.
-- engine/MERGE.md describes both. Never edit once released: add a migration.

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

-- Field names interned to small integers, like devices: the log stores the number.
CREATE TABLE field_names (
  idx INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
) STRICT;

-- One row per record: the merged state of all its fields and the ids of the ops received for
-- it (engine/src/merge/record_state.h), and how many of its fields are flagged.
-- The UNIQUE index on key serves the lookup of a record, prefix listings and the digest's order.
CREATE TABLE records (
  idx INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  conflicts INTEGER NOT NULL,
  state BLOB NOT NULL
) STRICT;
-- Serves: conflicts() without reading every record.
CREATE INDEX records_in_conflict ON records(key) WHERE conflicts > 0;

-- Every op this replica has, in arrival order (pos: the cursor of log_after()). Duplicates are
-- recognised by the record's state, so the log needs no index on (device, seq).
-- device and record hold devices.idx and records.idx. They are not declared as foreign keys:
-- the engine writes an op and its record in one transaction, and the two lookups a declared
-- key costs on every insert took 15% of apply_remote's throughput (visitsync-bench engine).
CREATE TABLE ops (
  pos INTEGER PRIMARY KEY,
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  hlc INTEGER NOT NULL,
  record INTEGER NOT NULL,
  field INTEGER NOT NULL,
  policy INTEGER NOT NULL,
  context INTEGER NOT NULL,
  value BLOB NOT NULL,
  base BLOB
) STRICT;
-- Serves: this replica's own ops by seq (ops_after(), the next seq). This replica's device is
-- always devices.idx 1, so the index holds only the ops written here.
CREATE INDEX ops_own ON ops(seq) WHERE device = 1;

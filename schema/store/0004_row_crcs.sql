-- Every row carries a checksum, `crc`: vs_crc() of its cells (engine/src/store/db.h), written
-- with the row and checked whenever the row is read. SQLite checks its own structure, not what a
-- row holds: a flipped bit inside a record's state or an op's value reads back as different
-- data. A record has two: `key_crc` covers its idx and key (what op log reads join), `crc` its
-- idx, conflicts and state. An op log row's covers every column but pos.
ALTER TABLE meta ADD COLUMN crc INTEGER;
ALTER TABLE counters ADD COLUMN crc INTEGER;
ALTER TABLE devices ADD COLUMN crc INTEGER;
ALTER TABLE field_names ADD COLUMN crc INTEGER;
ALTER TABLE records ADD COLUMN key_crc INTEGER;
ALTER TABLE records ADD COLUMN crc INTEGER;
ALTER TABLE ops ADD COLUMN crc INTEGER;
ALTER TABLE settings ADD COLUMN crc INTEGER;
UPDATE meta SET crc = vs_crc(key, value);
UPDATE counters SET crc = vs_crc(name, value);
UPDATE devices SET crc = vs_crc(idx, id);
UPDATE field_names SET crc = vs_crc(idx, name);
UPDATE records SET key_crc = vs_crc(idx, key), crc = vs_crc(idx, conflicts, state);
UPDATE ops SET crc = vs_crc(device, seq, hlc, record, field, policy, context, value, base, more,
                            more_ops);
UPDATE settings SET crc = vs_crc(name, value);

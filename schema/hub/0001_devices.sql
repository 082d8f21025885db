-- The hub's own tables, beside the engine store it shares with devices (schema/store/).
-- Applied only on the hub; the version is kept in meta('hub_schema').

-- Enrolled devices. A revoked device keeps its row (its ops stay) but is refused at hello.
CREATE TABLE hub_devices (
  device_id TEXT PRIMARY KEY,
  inspector_id TEXT NOT NULL,
  enrolled_ms INTEGER NOT NULL,
  revoked_ms INTEGER,
  acked_seq INTEGER NOT NULL DEFAULT 0  -- highest origin seq of this device durably handled
) STRICT;

-- Ops the hub refused to merge, with the reason (the device keeps them and shows the reason).
-- Serves: re-sending the reasons when an acknowledgement was lost.
CREATE TABLE hub_rejections (
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (device_id, seq)
) STRICT, WITHOUT ROWID;

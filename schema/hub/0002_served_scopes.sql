-- The scope sets a pull cursor refers to. A cursor carries a short digest of the scopes served
-- so far instead of the whole list (an inspector's list runs to kilobytes, sent with every
-- pull); the hub keeps the lists here. Serves: reading a cursor's digest back into its set.
CREATE TABLE hub_served_scopes (
  device_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  scopes TEXT NOT NULL,
  PRIMARY KEY (device_id, digest)
) STRICT, WITHOUT ROWID;

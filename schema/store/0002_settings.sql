-- Settings of this replica that never replicate: its mode, who acts on it, the hub's address.
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

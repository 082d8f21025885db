-- A fingerprint of the op a device's acknowledged seq names: at hello the device checks that its
-- own op under that seq is the same one, so a device restored from a backup (whose new ops
-- reuse seqs the hub holds) is refused instead of silently losing them.
ALTER TABLE hub_devices ADD COLUMN acked_print INTEGER NOT NULL DEFAULT 0;

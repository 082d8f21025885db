-- A row of the op log holds a run: an op in its columns, then in `more` the ops that came right
-- after it in the same received batch from the same device for the same record (at most 255 of
-- them, and no more once `more` holds 256 KiB), encoded by engine/src/changelog/op_log.cc;
-- `more_ops` counts them. A received visit is one row instead of one per answer: SQLite's
-- per-row work was half of what a hub spends on a push. This replica's own ops are never
-- grouped (each stays a row, found by seq through ops_own). Rows written before this migration
-- are runs of one op.
ALTER TABLE ops ADD COLUMN more BLOB;
ALTER TABLE ops ADD COLUMN more_ops INTEGER NOT NULL DEFAULT 0;
-- Serves: counting the log's ops (count(*) plus this sum) without reading the runs' bytes.
CREATE INDEX ops_runs ON ops(more_ops) WHERE more_ops > 0;

-- Serves: a device's first pull and the back-fill of a grown scope, which read the ops of the
-- records in its scope record by record instead of scanning the whole log.
CREATE INDEX hub_ops_by_record ON ops(record, pos);

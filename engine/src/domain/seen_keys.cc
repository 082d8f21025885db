#include "domain/seen_keys.h"

#include <cstdint>

namespace vs::domain {

Result<SeenKeys> SeenKeys::open() {
  SeenKeys k;
  // "": a private database on disk, removed when it closes (its pages spill there past the cache).
  Result<std::unique_ptr<store::Db>> db = store::Db::open("", true);
  if (!db.ok()) return db.status().annotate("the import's key index");
  k.db_ = std::move(db.value());
  // Nothing here must survive a crash: no journal, no syncs. One transaction, never committed,
  // so that pages are written only when the cache (4 MiB) is full.
  if (Status s = k.db_->exec(
          "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4096;"
          "CREATE TABLE seen(key TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;"
          "BEGIN",
          "the import's key index");
      !s.ok())
    return s;
  Result<store::Stmt> insert =
      k.db_->prepare("INSERT OR IGNORE INTO seen(key, line) VALUES(?1, ?2)", "record a key");
  if (!insert.ok()) return insert.status();
  Result<store::Stmt> find = k.db_->prepare("SELECT line FROM seen WHERE key = ?1", "find a key");
  if (!find.ok()) return find.status();
  k.insert_ = std::move(insert.value());
  k.find_ = std::move(find.value());
  return k;
}

Result<std::optional<std::size_t>> SeenKeys::first_seen(std::string_view key, std::size_t line) {
  insert_.bind_text_static(1, key).bind(2, static_cast<std::int64_t>(line));
  if (Status s = insert_.run(); !s.ok()) return s;
  if (db_->changes() == 1) return std::optional<std::size_t>();
  find_.bind_text_static(1, key);
  Result<bool> row = find_.step();
  if (!row.ok()) return row.status();
  std::optional<std::size_t> first;
  if (row.value()) first = static_cast<std::size_t>(find_.int64(0));
  find_.reset();
  if (!first) return Status::internal("the import's key index lost a key");
  return first;
}

}  // namespace vs::domain

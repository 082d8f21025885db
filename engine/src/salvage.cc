// Engine::salvage: every row read on its own, so that a damaged one costs only itself.
#include <visitsync/engine.h>

#include "engine_impl.h"

namespace vs {
namespace {

// The names of a key-value table's rows, by a plain scan; a scan SQLite cannot finish is
// reported, and the names before it are kept.
std::vector<std::string> names_of(store::Db& db, const char* table,
                                  const std::function<void(const Status&)>& lost) {
  std::vector<std::string> names;
  Result<store::Stmt> st =
      db.prepare(std::string("SELECT name FROM ") + table + " ORDER BY name", "salvage names");
  if (!st.ok()) {
    lost(st.status().annotated(std::string("the ") + table + " table"));
    return names;
  }
  for (;;) {
    Result<bool> row = st->step();
    if (!row.ok()) {
      lost(row.status().annotated(std::string("the ") + table + " table"));
      break;
    }
    if (!row.value()) break;
    names.emplace_back(st->text(0));
  }
  return names;
}

}  // namespace

Status Engine::salvage(const SalvageSink& sink) {
  Impl& im = *impl_;
  for (const std::string& name : names_of(*im.db, "settings", sink.lost)) {
    Result<std::string> v = setting(name);
    if (!v.ok()) {
      sink.lost(v.status());
    } else if (Status s = sink.setting(name, v.value()); !s.ok()) {
      return s;
    }
  }
  for (const std::string& name : names_of(*im.db, "counters", sink.lost)) {
    Result<std::uint64_t> v = counter(name);
    if (!v.ok()) {
      sink.lost(v.status());
    } else if (Status s = sink.counter(name, v.value()); !s.ok()) {
      return s;
    }
  }
  // Log positions run from 1 without gaps (rows are never deleted): each is looked up alone.
  Result<store::Stmt> last = im.db->prepare("SELECT coalesce(max(pos), 0) FROM ops", "last pos");
  Result<store::Stmt> at =
      im.db->prepare(std::string(changelog::kRowSelect) + "WHERE o.pos = ?1", "row at pos");
  if (!last.ok() || !at.ok()) {
    sink.lost((last.ok() ? at.status() : last.status()).annotated("the op log"));
    return Status();
  }
  Result<bool> has = last->step();
  if (!has.ok()) {
    sink.lost(has.status().annotated("the op log's last position"));
    return Status();
  }
  const auto end = static_cast<std::uint64_t>(last->int64(0));
  last->reset();
  std::vector<Op> ops;
  for (std::uint64_t pos = 1; pos <= end; ++pos) {
    const std::string where = "op log row at " + std::to_string(pos);
    at->bind(1, pos);
    Result<bool> row = at->step();
    ops.clear();
    Status s = !row.ok()      ? row.status().annotated(where)
               : !row.value() ? Status::damaged(where + " is missing")
                              : im.log.read_row(at.value(), ops);
    if (!s.ok() && row.ok() && row.value()) {
      // What the row claims, which nothing vouches for: a hint of whose op was lost.
      const std::string_view device = changelog::OpLog::row_device(at.value());
      s = Status(s.code(), s.message() + " (it reads as op " + std::string(device.substr(0, 64)) +
                               ":" + std::to_string(changelog::OpLog::row_seq(at.value())) +
                               ", unverified)");
    }
    at->reset();
    if (!s.ok()) {
      sink.lost(s);
    } else if (Status taken = sink.ops(ops); !taken.ok()) {
      return taken;
    }
  }
  return Status();
}

}  // namespace vs

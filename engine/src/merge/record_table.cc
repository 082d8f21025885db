#include "merge/record_table.h"

#include <memory>

#include <openssl/evp.h>

#include "util/bytes.h"

namespace vs::merge {
namespace {

struct FreeMdCtx {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};

// The columns every query of a record's state selects, in this order from column 1: its
// state, then whether its checksums match.
constexpr const char* kStateColumns =
    "state, crc = vs_crc(idx, conflicts, state), key_crc = vs_crc(idx, key)";

// The state of the current row (kStateColumns), checked against its checksums first.
Result<RecordState> decode_row(store::Stmt& st, std::string_view key) {
  if (!store::sum_ok(st, 2) || !store::sum_ok(st, 3)) {
    const std::string what = "record '" + std::string(key) + "'";
    return store::sum_failed(st, store::sum_ok(st, 2) ? "the key of " + what : what);
  }
  Result<RecordState> rs = RecordState::decode(st.blob(1));
  if (!rs.ok()) return rs.status().annotate("record '" + std::string(key) + "'");
  return rs;
}

// Steps `st` to the end, calling fn(stmt) for each row; resets it in every case.
template <class Fn>
Status each_row(store::Stmt& st, Fn fn) {
  for (;;) {
    Result<bool> row = st.step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    if (Status s = fn(st); !s.ok()) {
      st.reset();
      return s;
    }
  }
  st.reset();
  return Status();
}

// The flagged fields of one decoded record, appended to `out`.
Status collect_conflicts(std::string_view key, RecordState& rs, std::vector<Conflict>& out) {
  for (const std::string& name : rs.field_names()) {
    Result<FieldState*> fs = rs.find(name);
    if (!fs.ok()) return fs.status().annotate("record '" + std::string(key) + "'");
    if (!in_conflict(*fs.value())) continue;
    Conflict c;
    c.record = std::string(key);
    c.field = name;
    c.versions = view_of(*fs.value(), name).versions;
    out.push_back(std::move(c));
  }
  return Status();
}

}  // namespace

Result<RecordTable> RecordTable::create(store::Db& db) {
  RecordTable t(db);
  struct Spec {
    store::Stmt* stmt;
    const char* sql;
    const char* name;
  };
  const std::string cols = kStateColumns;
  const std::string load = "SELECT idx, " + cols + " FROM records WHERE key = ?1";
  const std::string conflicted =
      "SELECT key, " + cols + " FROM records WHERE conflicts > 0 ORDER BY key";
  const std::string all = "SELECT key, " + cols + " FROM records ORDER BY key";
  const Spec specs[] = {
      {&t.load_, load.c_str(), "load record"},
      // At max(idx) + 1 (as SQLite would pick), so that its checksums go in with the row.
      {&t.insert_,
       "INSERT INTO records(idx, key, conflicts, state, key_crc, crc) "
       "SELECT n, ?1, 0, x'', vs_crc(n, ?1), vs_crc(n, 0, x'') "
       "FROM (SELECT coalesce(max(idx), 0) + 1 AS n FROM records)",
       "add record"},
      {&t.save_,
       "UPDATE records SET conflicts = ?2, state = ?3, crc = vs_crc(idx, ?2, ?3) WHERE idx = ?1",
       "save record"},
      {&t.conflicted_, conflicted.c_str(), "list conflicts"},
      {&t.conflict_count_, "SELECT coalesce(sum(conflicts), 0) FROM records WHERE conflicts > 0",
       "count conflicts"},
      {&t.prefix_,
       "SELECT key, key_crc = vs_crc(idx, key) FROM records "
       "WHERE key >= ?1 AND key < ?2 AND length(state) > 0 ORDER BY key",
       "records by prefix"},
      {&t.count_, "SELECT count(*) FROM records WHERE length(state) > 0", "count records"},
      {&t.all_, all.c_str(), "digest"},
  };
  for (const Spec& s : specs) {
    Result<store::Stmt> st = db.prepare(s.sql, s.name);
    if (!st.ok()) return st.status();
    *s.stmt = std::move(st.value());
  }
  return t;
}

Result<std::optional<RecordTable::Loaded>> RecordTable::load(std::string_view key) {
  load_.bind(1, key);
  Result<bool> row = load_.step();
  if (!row.ok()) return row.status();
  std::optional<Loaded> out;
  if (row.value()) {
    Result<RecordState> rs = decode_row(load_, key);
    if (!rs.ok()) {
      load_.reset();
      return rs.status();
    }
    out = Loaded{load_.int64(0), std::move(rs.value())};
  }
  load_.reset();
  return out;
}

Result<std::int64_t> RecordTable::insert(std::string_view key) {
  insert_.bind(1, key);
  if (Status s = insert_.run(); !s.ok()) return s;
  return db_->last_insert_rowid();
}

Status RecordTable::save(std::int64_t idx, const RecordState& state) {
  const std::string bytes = state.encode();
  save_.bind(1, idx).bind(2, static_cast<std::int64_t>(state.conflict_count()));
  save_.bind_blob(3, bytes.data(), bytes.size());
  if (Status s = save_.run(); !s.ok()) return s;
  if (db_->changes() != 1)
    return Status::damaged("record idx " + std::to_string(idx) + " is not in the store");
  return Status();
}

Result<std::vector<Conflict>> RecordTable::conflicts(std::optional<std::string_view> key) {
  std::vector<Conflict> out;
  if (key) {
    Result<std::optional<Loaded>> rec = load(*key);
    if (!rec.ok()) return rec.status();
    if (rec.value()) {
      if (Status s = collect_conflicts(*key, rec.value()->state, out); !s.ok()) return s;
    }
    return out;
  }
  Status s = each_row(conflicted_, [&](store::Stmt& st) -> Status {
    const std::string k(st.text(0));
    Result<RecordState> rs = decode_row(st, k);
    if (!rs.ok()) return rs.status();
    return collect_conflicts(k, rs.value(), out);
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::uint64_t> RecordTable::conflict_count() {
  std::uint64_t n = 0;
  Status s = each_row(conflict_count_, [&](store::Stmt& st) {
    n = static_cast<std::uint64_t>(st.int64(0));
    return Status();
  });
  if (!s.ok()) return s;
  return n;
}

Result<std::vector<std::string>> RecordTable::keys_with_prefix(std::string_view prefix) {
  // Keys sort by bytes, so the prefix's range is [prefix, prefix + 0xFF).
  std::string upper(prefix);
  upper.push_back('\xFF');
  prefix_.bind(1, prefix).bind(2, upper);
  std::vector<std::string> keys;
  Status s = each_row(prefix_, [&](store::Stmt& st) {
    keys.emplace_back(st.text(0));
    return store::sum_ok(st, 1) ? Status()
                                : store::sum_failed(st, "the key of record '" + keys.back() + "'");
  });
  if (!s.ok()) return s;
  return keys;
}

Result<std::uint64_t> RecordTable::count() {
  std::uint64_t n = 0;
  Status s = each_row(count_, [&](store::Stmt& st) {
    n = static_cast<std::uint64_t>(st.int64(0));
    return Status();
  });
  if (!s.ok()) return s;
  return n;
}

Result<std::string> RecordTable::digest() {
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status::internal("digest: cannot start SHA-256");
  }
  std::string buf;
  Status s = each_row(all_, [&](store::Stmt& st) -> Status {
    const std::string key(st.text(0));
    Result<RecordState> rs = decode_row(st, key);
    if (!rs.ok()) return rs.status();
    if (rs->empty()) return Status();  // made for an op that was then rejected
    buf.clear();
    util::ByteWriter w(buf);
    w.str(key);
    for (const std::string& name : rs->field_names()) {
      Result<FieldState*> fs = rs->find(name);
      if (!fs.ok()) return fs.status().annotate("record '" + key + "'");
      w.str(name);
      append_digest_form(*fs.value(), buf);
    }
    EVP_DigestUpdate(ctx.get(), buf.data(), buf.size());
    return Status();
  });
  if (!s.ok()) return s;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
    return Status::internal("digest: SHA-256 failed");
  return util::to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace vs::merge

#include "merge/field_table.h"

#include <memory>

#include <openssl/evp.h>

#include "util/bytes.h"

namespace vs::merge {
namespace {

struct FreeMdCtx {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};

Result<FieldState> decode_row(store::Stmt& st, int col, std::string_view where) {
  Result<FieldState> state = decode_state(st.blob(col));
  if (!state.ok()) return state.status().annotate(where);
  return state;
}

}  // namespace

Result<FieldTable> FieldTable::create(store::Db& db) {
  FieldTable t(db);
  struct Spec {
    store::Stmt* stmt;
    const char* sql;
    const char* name;
  };
  const Spec specs[] = {
      {&t.load_, "SELECT state FROM fields WHERE record = ?1 AND field = ?2", "load field"},
      {&t.save_,
       "INSERT INTO fields(record, field, policy, conflict, state) VALUES(?1, ?2, ?3, ?4, ?5) "
       "ON CONFLICT(record, field) DO UPDATE SET conflict = excluded.conflict, "
       "state = excluded.state",
       "save field"},
      {&t.of_record_, "SELECT field, state FROM fields WHERE record = ?1 ORDER BY field",
       "fields of record"},
      {&t.conflicts_all_,
       "SELECT r.key, f.field, f.state FROM fields f JOIN records r ON r.idx = f.record "
       "WHERE f.conflict = 1 ORDER BY r.key, f.field",
       "list conflicts"},
      {&t.conflicts_of_,
       "SELECT r.key, f.field, f.state FROM fields f JOIN records r ON r.idx = f.record "
       "WHERE f.conflict = 1 AND f.record = ?1 ORDER BY f.field",
       "list conflicts of record"},
      {&t.conflict_count_, "SELECT count(*) FROM fields WHERE conflict = 1", "count conflicts"},
      {&t.digest_,
       "SELECT r.key, f.field, f.state FROM fields f JOIN records r ON r.idx = f.record "
       "ORDER BY r.key, f.field",
       "digest"},
  };
  for (const Spec& s : specs) {
    Result<store::Stmt> st = db.prepare(s.sql, s.name);
    if (!st.ok()) return st.status();
    *s.stmt = std::move(st.value());
  }
  return t;
}

Result<std::optional<FieldState>> FieldTable::load(std::int64_t record, std::string_view field) {
  load_.bind(1, record).bind(2, field);
  Result<bool> row = load_.step();
  if (!row.ok()) return row.status();
  std::optional<FieldState> out;
  if (row.value()) {
    Result<FieldState> st = decode_row(load_, 0, "field " + std::string(field));
    if (!st.ok()) {
      load_.reset();
      return st.status();
    }
    out = std::move(st.value());
  }
  load_.reset();
  return out;
}

Status FieldTable::save(std::int64_t record, std::string_view field, const FieldState& state) {
  const std::string bytes = encode_state(state);
  save_.bind(1, record).bind(2, field).bind(3, static_cast<int>(state.policy));
  save_.bind(4, in_conflict(state) ? 1 : 0).bind_blob(5, bytes.data(), bytes.size());
  return save_.run();
}

Result<std::vector<std::pair<std::string, FieldState>>> FieldTable::of_record(std::int64_t record) {
  of_record_.bind(1, record);
  std::vector<std::pair<std::string, FieldState>> out;
  for (;;) {
    Result<bool> row = of_record_.step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    std::string field(of_record_.text(0));
    Result<FieldState> st = decode_row(of_record_, 1, "field " + field);
    if (!st.ok()) {
      of_record_.reset();
      return st.status();
    }
    out.emplace_back(std::move(field), std::move(st.value()));
  }
  of_record_.reset();
  return out;
}

Result<std::vector<Conflict>> FieldTable::conflicts(std::optional<std::int64_t> record) {
  store::Stmt& st = record ? conflicts_of_ : conflicts_all_;
  if (record) st.bind(1, *record);
  std::vector<Conflict> out;
  for (;;) {
    Result<bool> row = st.step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    Conflict c;
    c.record = std::string(st.text(0));
    c.field = std::string(st.text(1));
    Result<FieldState> state = decode_row(st, 2, c.record + " field " + c.field);
    if (!state.ok()) {
      st.reset();
      return state.status();
    }
    c.versions = view_of(state.value(), c.field).versions;
    out.push_back(std::move(c));
  }
  st.reset();
  return out;
}

Result<std::uint64_t> FieldTable::conflict_count() {
  Result<bool> row = conflict_count_.step();
  if (!row.ok()) return row.status();
  const auto n = static_cast<std::uint64_t>(conflict_count_.int64(0));
  conflict_count_.reset();
  return n;
}

Result<std::string> FieldTable::digest() {
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status::internal("digest: cannot start SHA-256");
  }
  std::string buf;
  for (;;) {
    Result<bool> row = digest_.step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    Result<FieldState> st = decode_row(digest_, 2, std::string(digest_.text(0)));
    if (!st.ok()) {
      digest_.reset();
      return st.status();
    }
    buf.clear();
    util::ByteWriter w(buf);
    w.str(digest_.text(0));
    w.str(digest_.text(1));
    append_digest_form(st.value(), buf);
    EVP_DigestUpdate(ctx.get(), buf.data(), buf.size());
  }
  digest_.reset();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) return Status::internal("digest: SHA-256 failed");
  return util::to_hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace vs::merge

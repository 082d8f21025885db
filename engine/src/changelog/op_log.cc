#include "changelog/op_log.h"

#include "merge/codec.h"
#include "util/bytes.h"

namespace vs::changelog {
namespace {

// The caches hold every record a batch touches; past this size they start over (a hub holds
// far more records than are hot at once).
constexpr std::size_t kMaxCached = 200000;

constexpr const char* kOpColumns =
    "SELECT o.pos, d.id, o.seq, o.hlc, r.key, o.field, o.policy, o.context, o.value, o.base "
    "FROM ops o JOIN devices d ON d.idx = o.device JOIN records r ON r.idx = o.record ";

}  // namespace

std::string encode_base(const std::vector<OpId>& base) {
  std::string out;
  if (base.empty()) return out;
  util::ByteWriter w(out);
  merge::write_op_ids(w, base);
  return out;
}

Result<std::vector<OpId>> decode_base(std::string_view bytes) {
  if (bytes.empty()) return std::vector<OpId>();
  util::ByteReader r(bytes);
  std::vector<OpId> base = merge::read_op_ids(r, kMaxBaseEntries);
  if (!r.ok() || !r.done()) return Status::corrupt("malformed base");
  return base;
}

Result<OpLog> OpLog::create(store::Db& db) {
  OpLog log(db);
  struct Spec {
    store::Stmt* stmt;
    const char* sql;
    const char* name;
  };
  const std::string own_after =
      std::string(kOpColumns) + "WHERE o.device = 1 AND o.seq > ?1 ORDER BY o.seq LIMIT ?2";
  const std::string after = std::string(kOpColumns) + "WHERE o.pos > ?1 ORDER BY o.pos LIMIT ?2";
  const Spec specs[] = {
      {&log.find_device_, "SELECT idx FROM devices WHERE id = ?1", "find device"},
      {&log.add_device_, "INSERT INTO devices(id) VALUES(?1)", "add device"},
      {&log.device_name_, "SELECT id FROM devices WHERE idx = ?1", "device name"},
      {&log.append_,
       "INSERT INTO ops(device, seq, hlc, record, field, policy, context, value, base) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
       "append op"},
      {&log.own_after_, own_after.c_str(), "own ops after seq"},
      {&log.after_, after.c_str(), "ops after cursor"},
      {&log.last_own_seq_, "SELECT max(seq) FROM ops WHERE device = 1", "last own seq"},
      {&log.count_, "SELECT count(*) FROM ops", "count ops"},
  };
  for (const Spec& s : specs) {
    Result<store::Stmt> st = db.prepare(s.sql, s.name);
    if (!st.ok()) return st.status();
    *s.stmt = std::move(st.value());
  }
  return log;
}

namespace {

// Looks `key` up with `find`, inserting it with `add` when missing.
Result<std::int64_t> intern(store::Db& db, store::Stmt& find, store::Stmt& add,
                            std::unordered_map<std::string, std::int64_t>& cache,
                            std::string_view key, bool* created) {
  if (created != nullptr) *created = false;
  if (auto it = cache.find(std::string(key)); it != cache.end()) return it->second;
  find.bind(1, key);
  Result<bool> row = find.step();
  if (!row.ok()) return row.status();
  std::int64_t idx;
  if (row.value()) {
    idx = find.int64(0);
    find.reset();
  } else {
    find.reset();
    add.bind(1, key);
    if (Status s = add.run(); !s.ok()) return s;
    idx = db.last_insert_rowid();
    if (created != nullptr) *created = true;
  }
  if (cache.size() >= kMaxCached) cache.clear();
  cache.emplace(std::string(key), idx);
  return idx;
}

Result<std::optional<std::int64_t>> lookup(store::Stmt& find, std::string_view key) {
  find.bind(1, key);
  Result<bool> row = find.step();
  if (!row.ok()) return row.status();
  std::optional<std::int64_t> idx;
  if (row.value()) idx = find.int64(0);
  find.reset();
  return idx;
}

}  // namespace

Result<std::int64_t> OpLog::device_idx(std::string_view device) {
  return intern(*db_, find_device_, add_device_, devices_, device, nullptr);
}

Result<std::optional<std::int64_t>> OpLog::find_device(std::string_view device) {
  if (auto it = devices_.find(std::string(device)); it != devices_.end()) return {it->second};
  return lookup(find_device_, device);
}

Result<std::string> OpLog::device_name(std::int64_t idx) {
  if (auto it = names_.find(idx); it != names_.end()) return it->second;
  device_name_.bind(1, idx);
  Result<bool> row = device_name_.step();
  if (!row.ok()) return row.status();
  if (!row.value()) {
    device_name_.reset();
    return Status::corrupt("device idx " + std::to_string(idx) + " is not in the devices table");
  }
  std::string name(device_name_.text(0));
  device_name_.reset();
  names_.emplace(idx, name);
  return name;
}

Status OpLog::append(const Op& op, std::int64_t device_idx, std::int64_t record_idx) {
  value_buf_.clear();
  encode_value(op.value, value_buf_);
  base_buf_ = encode_base(op.base);
  append_.bind(1, device_idx).bind(2, op.id.seq).bind(3, op.hlc).bind(4, record_idx);
  append_.bind(5, op.field).bind(6, static_cast<int>(op.policy)).bind(7, std::int64_t{op.context});
  append_.bind_blob(8, value_buf_.data(), value_buf_.size());
  if (base_buf_.empty()) {
    append_.bind_null(9);
  } else {
    append_.bind_blob(9, base_buf_.data(), base_buf_.size());
  }
  return append_.run();
}

Result<std::vector<Op>> OpLog::read_ops(store::Stmt& st, std::uint64_t* last_pos) {
  std::vector<Op> ops;
  for (;;) {
    Result<bool> row = st.step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    Op op;
    if (last_pos != nullptr) *last_pos = static_cast<std::uint64_t>(st.int64(0));
    op.id.device = std::string(st.text(1));
    op.id.seq = static_cast<std::uint64_t>(st.int64(2));
    op.hlc = static_cast<Hlc>(st.int64(3));
    op.record = std::string(st.text(4));
    op.field = std::string(st.text(5));
    op.policy = static_cast<Policy>(st.int64(6));
    op.context = static_cast<std::uint32_t>(st.int64(7));
    Result<Value> value = decode_value(st.blob(8));
    util::ByteReader base(st.blob(9));
    if (!base.done()) op.base = merge::read_op_ids(base, kMaxBaseEntries);
    if (!value.ok() || !base.ok()) {
      const std::string where = "op " + op.id.to_string() + " in the log";
      st.reset();
      return value.ok() ? Status::corrupt(where + ": malformed base")
                        : value.status().annotate(where);
    }
    op.value = std::move(value.value());
    ops.push_back(std::move(op));
  }
  st.reset();
  return ops;
}

Result<std::vector<Op>> OpLog::own_after(std::uint64_t after, std::size_t limit) {
  own_after_.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
  return read_ops(own_after_, nullptr);
}

Result<LogSlice> OpLog::after(std::uint64_t cursor, std::size_t limit) {
  after_.bind(1, cursor).bind(2, static_cast<std::int64_t>(limit));
  LogSlice slice;
  slice.next_cursor = cursor;
  Result<std::vector<Op>> ops = read_ops(after_, &slice.next_cursor);
  if (!ops.ok()) return ops.status();
  slice.ops = std::move(ops.value());
  return slice;
}

namespace {

Result<std::uint64_t> single_int(store::Stmt& st) {
  Result<bool> row = st.step();
  if (!row.ok()) return row.status();
  const std::uint64_t v = row.value() ? static_cast<std::uint64_t>(st.int64(0)) : 0;
  st.reset();
  return v;
}

}  // namespace

Result<std::uint64_t> OpLog::last_own_seq() { return single_int(last_own_seq_); }
Result<std::uint64_t> OpLog::count() { return single_int(count_); }

}  // namespace vs::changelog

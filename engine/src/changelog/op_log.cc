#include "changelog/op_log.h"

#include "merge/codec.h"
#include "util/bytes.h"

namespace vs::changelog {
namespace {

// The caches hold every record a batch touches; past this size they start over (a hub holds
// far more records than are hot at once).
constexpr std::size_t kMaxCached = 200000;

constexpr const char* kOpColumns =
    "SELECT o.pos, d.id, o.seq, o.hlc, r.key, f.name, o.policy, o.context, o.value, o.base "
    "FROM ops o JOIN devices d ON d.idx = o.device JOIN records r ON r.idx = o.record "
    "JOIN field_names f ON f.idx = o.field ";

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
  std::string many =
      "INSERT INTO ops(device, seq, hlc, record, field, policy, context, value, base) VALUES ";
  for (std::size_t i = 0; i < kRowsPerInsert; ++i)
    many += i == 0 ? "(?, ?, ?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const Spec specs[] = {
      {&log.find_device_, "SELECT idx FROM devices WHERE id = ?1", "find device"},
      {&log.add_device_, "INSERT INTO devices(id) VALUES(?1)", "add device"},
      {&log.device_name_, "SELECT id FROM devices WHERE idx = ?1", "device name"},
      {&log.find_field_, "SELECT idx FROM field_names WHERE name = ?1", "find field name"},
      {&log.add_field_, "INSERT INTO field_names(name) VALUES(?1)", "add field name"},
      {&log.append_,
       "INSERT INTO ops(device, seq, hlc, record, field, policy, context, value, base) "
       "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
       "append op"},
      {&log.append_many_, many.c_str(), "append ops"},
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

// Looks `key` up in `cache`, then with `find`, inserting it with `add` when missing.
Result<std::int64_t> intern(store::Db& db, store::Stmt& find, store::Stmt& add, NameCache& cache,
                            std::string_view key) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
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
  // A batch's ops mostly come from one device: answer that one without hashing.
  if (last_idx_ != 0 && device == last_device_) return last_idx_;
  Result<std::int64_t> idx = intern(*db_, find_device_, add_device_, devices_, device);
  if (idx.ok()) {
    last_device_ = std::string(device);
    last_idx_ = idx.value();
  }
  return idx;
}

Result<std::optional<std::int64_t>> OpLog::find_device(std::string_view device) {
  if (auto it = devices_.find(device); it != devices_.end()) return {it->second};
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

Result<std::int64_t> OpLog::field_idx(std::string_view name) {
  return intern(*db_, find_field_, add_field_, fields_, name);
}

Status OpLog::append(const Op& op, std::int64_t device_idx, std::int64_t record_idx) {
  Row row{device_idx,
          static_cast<std::int64_t>(op.id.seq),
          static_cast<std::int64_t>(op.hlc),
          record_idx,
          static_cast<std::int64_t>(op.policy),
          std::int64_t{op.context},
          0,
          std::string(),
          encode_base(op.base)};
  Result<std::int64_t> field = field_idx(op.field);
  if (!field.ok()) return field.status();
  row.field = field.value();
  encode_value(op.value, row.value);
  pending_.push_back(std::move(row));
  if (pending_.size() >= kRowsPerInsert) return flush();
  return Status();
}

Status OpLog::write_rows(store::Stmt& st, std::size_t from, std::size_t count) {
  int p = 1;
  for (std::size_t i = from; i < from + count; ++i) {
    const Row& r = pending_[i];
    st.bind(p, r.device).bind(p + 1, r.seq).bind(p + 2, r.hlc).bind(p + 3, r.record);
    st.bind(p + 4, r.field).bind(p + 5, r.policy).bind(p + 6, r.context);
    st.bind_blob_static(p + 7, r.value);
    if (r.base.empty()) {
      st.bind_null(p + 8);
    } else {
      st.bind_blob_static(p + 8, r.base);
    }
    p += 9;
  }
  return st.run();
}

Status OpLog::flush() {
  // Whole groups through the many-row statement, the rest one by one; in arrival order.
  std::size_t i = 0;
  Status s;
  for (; s.ok() && i + kRowsPerInsert <= pending_.size(); i += kRowsPerInsert)
    s = write_rows(append_many_, i, kRowsPerInsert);
  for (; s.ok() && i < pending_.size(); ++i) s = write_rows(append_, i, 1);
  pending_.clear();
  return s;
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
  if (Status s = flush(); !s.ok()) return s;
  own_after_.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
  return read_ops(own_after_, nullptr);
}

Result<LogSlice> OpLog::after(std::uint64_t cursor, std::size_t limit) {
  if (Status s = flush(); !s.ok()) return s;
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

Result<std::uint64_t> OpLog::last_own_seq() {
  if (Status s = flush(); !s.ok()) return s;
  return single_int(last_own_seq_);
}

Result<std::uint64_t> OpLog::count() {
  if (Status s = flush(); !s.ok()) return s;
  return single_int(count_);
}

}  // namespace vs::changelog

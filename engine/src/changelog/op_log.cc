#include "changelog/op_log.h"

#include <algorithm>
#include <cstdint>

#include "merge/codec.h"
#include "util/bytes.h"

namespace vs::changelog {
namespace {

// The caches hold every record a batch touches; past this size they start over (a hub holds
// far more records than are hot at once).
constexpr std::size_t kMaxCached = 200000;
// The values of one log row an INSERT binds: all its columns but pos.
constexpr std::size_t kRowParams = 12;

// The columns of kRowSelect.
enum Column {
  kPos,
  kDevice,
  kSeq,
  kHlc,
  kRecord,
  kField,
  kPolicy,
  kContext,
  kValue,
  kBase,
  kMore,
  kMoreOps,
  kRowCrc,  // 1 when the row matches its checksum; then the names it joins
  kDeviceCrc,
  kRecordCrc,
  kFieldCrc,
};

}  // namespace

// Outer joins: a row whose interned names are missing (a damaged file) is read, and refused by
// read_row(), instead of silently dropping out of every read.
const char* const kRowSelect =
    "SELECT o.pos, d.id, o.seq, o.hlc, r.key, f.name, o.policy, o.context, o.value, o.base, "
    "o.more, o.more_ops, "
    "o.crc = vs_crc(o.device, o.seq, o.hlc, o.record, o.field, o.policy, o.context, o.value, "
    "o.base, o.more, o.more_ops), "
    "d.crc = vs_crc(d.idx, d.id), r.key_crc = vs_crc(r.idx, r.key), f.crc = vs_crc(f.idx, f.name) "
    "FROM ops o LEFT JOIN devices d ON d.idx = o.device LEFT JOIN records r ON r.idx = o.record "
    "LEFT JOIN field_names f ON f.idx = o.field ";

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

namespace {

// An INSERT of `rows` log rows.
std::string insert_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO ops(device, seq, hlc, record, field, policy, context, value, base, more, "
      "more_ops, crc) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    std::string params;
    for (std::size_t c = 1; c <= kRowParams; ++c)
      params += (c == 1 ? "?" : ", ?") + std::to_string(i * kRowParams + c);
    sql += (i == 0 ? "(" : ", (") + params + ")";
  }
  return sql;
}

// Names are interned at max(idx) + 1, with their checksum, in one statement.
std::string add_name_sql(const char* table, const char* column) {
  return std::string("INSERT INTO ") + table + "(idx, " + column + ", crc) SELECT n, ?1, " +
         "vs_crc(n, ?1) FROM (SELECT coalesce(max(idx), 0) + 1 AS n FROM " + table + ")";
}

}  // namespace

Result<OpLog> OpLog::create(store::Db& db) {
  OpLog log(db);
  struct Spec {
    store::Stmt* stmt;
    const char* sql;
    const char* name;
  };
  const std::string own_after =
      std::string(kRowSelect) + "WHERE o.device = 1 AND o.seq > ?1 ORDER BY o.seq LIMIT ?2";
  const std::string after = std::string(kRowSelect) + "WHERE o.pos > ?1 ORDER BY o.pos LIMIT ?2";
  const std::string add_devices = add_name_sql("devices", "id");
  const std::string add_fields = add_name_sql("field_names", "name");
  const std::string many = insert_sql(kRowsPerInsert);
  const std::string one = insert_sql(1);
  const Spec specs[] = {
      {&log.find_device_, "SELECT idx, crc = vs_crc(idx, id) FROM devices WHERE id = ?1",
       "find device"},
      {&log.add_device_, add_devices.c_str(), "add device"},
      {&log.device_name_, "SELECT id, crc = vs_crc(idx, id) FROM devices WHERE idx = ?1",
       "device name"},
      {&log.find_field_, "SELECT idx, crc = vs_crc(idx, name) FROM field_names WHERE name = ?1",
       "find field name"},
      {&log.add_field_, add_fields.c_str(), "add field name"},
      {&log.field_name_, "SELECT name, crc = vs_crc(idx, name) FROM field_names WHERE idx = ?1",
       "field name"},
      {&log.append_, one.c_str(), "append op"},
      {&log.append_many_, many.c_str(), "append ops"},
      {&log.own_after_, own_after.c_str(), "own ops after seq"},
      {&log.after_, after.c_str(), "ops after cursor"},
      {&log.last_own_seq_, "SELECT max(seq) FROM ops WHERE device = 1", "last own seq"},
      {&log.count_,
       "SELECT (SELECT count(*) FROM ops) + "
       "(SELECT coalesce(sum(more_ops), 0) FROM ops WHERE more_ops > 0)",
       "count ops"},
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
    const bool sound = store::sum_ok(find, 1);
    Status sum =
        sound ? Status() : store::sum_failed(find, "interned name '" + std::string(key) + "'");
    find.reset();
    if (!sum.ok()) return sum;
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
  Status sum;
  if (row.value()) {
    idx = find.int64(0);
    if (!store::sum_ok(find, 1))
      sum = store::sum_failed(find, "interned name '" + std::string(key) + "'");
  }
  find.reset();
  if (!sum.ok()) return sum;
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

namespace {

// The name of an interned idx, through `cache`; kDamaged if `table` has no such idx.
Result<std::string> name_of(store::Stmt& find, std::unordered_map<std::int64_t, std::string>& cache,
                            std::int64_t idx, const char* table) {
  if (auto it = cache.find(idx); it != cache.end()) return it->second;
  find.bind(1, idx);
  Result<bool> row = find.step();
  if (!row.ok()) return row.status();
  if (!row.value()) {
    find.reset();
    return Status::damaged("idx " + std::to_string(idx) + " is not in the " + table + " table");
  }
  std::string name(find.text(0));
  Status sum = store::sum_ok(find, 1)
                   ? Status()
                   : store::sum_failed(find, "row " + std::to_string(idx) + " of " + table);
  find.reset();
  if (!sum.ok()) return sum;
  if (cache.size() >= kMaxCached) cache.clear();
  cache.emplace(idx, name);
  return name;
}

}  // namespace

Result<std::string> OpLog::device_name(std::int64_t idx) {
  return name_of(device_name_, names_, idx, "devices");
}

Result<std::string> OpLog::field_name(std::int64_t idx) {
  return name_of(field_name_, field_names_, idx, "field_names");
}

Result<std::int64_t> OpLog::field_idx(std::string_view name) {
  return intern(*db_, find_field_, add_field_, fields_, name);
}

Status OpLog::append(const Op& op, std::int64_t device_idx, std::int64_t record_idx) {
  Result<std::int64_t> field = field_idx(op.field);
  if (!field.ok()) return field.status();
  const auto seq = static_cast<std::int64_t>(op.id.seq);
  const auto hlc = static_cast<std::int64_t>(op.hlc);
  if (!pending_.empty()) {
    Row& run = pending_.back();
    if (device_idx != kOwnDeviceIdx && run.device == device_idx && run.record == record_idx &&
        run.more_ops + 1 < kMaxRunOps && run.more.size() < kMaxRunBytes) {
      // Differences wrap modulo 2^64 (read_more adds them back the same way).
      util::ByteWriter w(run.more);
      w.zigzag(static_cast<std::int64_t>(op.id.seq - static_cast<std::uint64_t>(run.last_seq)));
      w.zigzag(static_cast<std::int64_t>(op.hlc - static_cast<std::uint64_t>(run.last_hlc)));
      w.varint(static_cast<std::uint64_t>(field.value()));
      w.u8(static_cast<std::uint8_t>(op.policy));
      w.varint(op.context);
      scratch_.clear();
      encode_value(op.value, scratch_);
      w.str(scratch_);
      scratch_ = encode_base(op.base);
      w.str(scratch_);
      ++run.more_ops;
      run.last_seq = seq;
      run.last_hlc = hlc;
      return Status();
    }
    if (pending_.size() >= kRowsPerInsert) {
      if (Status s = flush(); !s.ok()) return s;
    }
  }
  Row row;
  row.device = device_idx;
  row.seq = seq;
  row.hlc = hlc;
  row.record = record_idx;
  row.policy = static_cast<std::int64_t>(op.policy);
  row.context = op.context;
  row.field = field.value();
  row.base = encode_base(op.base);
  row.last_seq = seq;
  row.last_hlc = hlc;
  encode_value(op.value, row.value);
  pending_.push_back(std::move(row));
  return Status();
}

Status OpLog::write_rows(store::Stmt& st, std::size_t from, std::size_t count) {
  int p = 1;
  auto blob_or_null = [&st](int i, const std::string& bytes) {
    if (bytes.empty()) {
      st.bind_null(i);
    } else {
      st.bind_blob_static(i, bytes);
    }
  };
  for (std::size_t i = from; i < from + count; ++i) {
    const Row& r = pending_[i];
    st.bind(p, r.device).bind(p + 1, r.seq).bind(p + 2, r.hlc).bind(p + 3, r.record);
    st.bind(p + 4, r.field).bind(p + 5, r.policy).bind(p + 6, r.context);
    st.bind_blob_static(p + 7, r.value);
    blob_or_null(p + 8, r.base);
    blob_or_null(p + 9, r.more);
    st.bind(p + 10, r.more_ops);
    // As vs_crc() over the row's columns would compute it (kRowSelect checks it so).
    store::RowCrc crc;
    crc.integer(r.device).integer(r.seq).integer(r.hlc).integer(r.record).integer(r.field);
    crc.integer(r.policy).integer(r.context).bytes(r.value);
    for (const std::string* b : {&r.base, &r.more}) {
      if (b->empty()) {
        crc.null();
      } else {
        crc.bytes(*b);
      }
    }
    st.bind(p + 11, crc.integer(r.more_ops).value());
    p += static_cast<int>(kRowParams);
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

std::uint64_t OpLog::row_pos(const store::Stmt& st) {
  return static_cast<std::uint64_t>(st.int64(kPos));
}
std::string_view OpLog::row_device(const store::Stmt& st) { return st.text(kDevice); }
std::string_view OpLog::row_record(const store::Stmt& st) { return st.text(kRecord); }
std::uint64_t OpLog::row_seq(const store::Stmt& st) {
  return static_cast<std::uint64_t>(st.int64(kSeq));
}
std::size_t OpLog::row_ops(const store::Stmt& st) {
  return 1 +
         static_cast<std::size_t>(std::clamp<std::int64_t>(st.int64(kMoreOps), 0, kMaxRunOps - 1));
}

std::size_t OpLog::row_bytes(const store::Stmt& st) {
  return st.blob(kValue).size() + st.blob(kBase).size() + st.blob(kMore).size();
}

namespace {

// The row and the names it joins match their checksums.
Status check_row(const store::Stmt& st) {
  if (!st.is_null(kDevice) && !st.is_null(kRecord) && !st.is_null(kField) &&
      store::sum_ok(st, kRowCrc) && store::sum_ok(st, kDeviceCrc) &&
      store::sum_ok(st, kRecordCrc) && store::sum_ok(st, kFieldCrc)) {
    return Status();
  }
  const std::string row = "op log row at " + std::to_string(st.int64(kPos));
  if (st.is_null(kDevice) || st.is_null(kRecord) || st.is_null(kField))
    return Status::damaged(row + " names a device, record or field the store does not hold");
  if (Status s = store::check_sum(st, kRowCrc, row); !s.ok()) return s;
  if (Status s = store::check_sum(st, kDeviceCrc, "the device id of " + row); !s.ok()) return s;
  if (Status s = store::check_sum(st, kRecordCrc, "the record key of " + row); !s.ok()) return s;
  return store::check_sum(st, kFieldCrc, "the field name of " + row);
}

}  // namespace

Status OpLog::read_row(const store::Stmt& st, std::vector<Op>& out) {
  if (Status damage = check_row(st); !damage.ok()) return damage;
  const std::size_t first = out.size();
  Op op;
  op.id.device = std::string(st.text(kDevice));
  op.id.seq = static_cast<std::uint64_t>(st.int64(kSeq));
  op.hlc = static_cast<Hlc>(st.int64(kHlc));
  op.record = std::string(st.text(kRecord));
  op.field = std::string(st.text(kField));
  const std::int64_t policy = st.int64(kPolicy);
  op.policy = static_cast<Policy>(policy);
  op.context = static_cast<std::uint32_t>(st.int64(kContext));
  Status s;
  Result<Value> value = decode_value(st.blob(kValue));
  Result<std::vector<OpId>> base = decode_base(st.blob(kBase));
  const std::int64_t more_ops = st.int64(kMoreOps);
  if (policy < 0 || policy >= kPolicyCount) {
    s = Status::corrupt("policy " + std::to_string(policy));
  } else if (!value.ok()) {
    s = value.status();
  } else if (!base.ok()) {
    s = base.status();
  } else if (more_ops < 0 || more_ops >= kMaxRunOps) {
    s = Status::corrupt("a run of " + std::to_string(more_ops) + " more ops");
  } else {
    op.value = std::move(value.value());
    op.base = std::move(base.value());
    out.push_back(std::move(op));
    s = read_more(st.blob(kMore), static_cast<std::size_t>(more_ops), out);
  }
  if (!s.ok()) {
    out.resize(first);
    return s.annotate("op log row at " + std::to_string(st.int64(kPos)));
  }
  return s;
}

Status OpLog::read_more(std::string_view more, std::size_t count, std::vector<Op>& out) {
  util::ByteReader r(more);
  const std::size_t end = out.size() + count;
  while (out.size() < end) {
    const Op& prev = out.back();
    Op op;
    op.id.device = prev.id.device;
    op.record = prev.record;
    op.id.seq = prev.id.seq + static_cast<std::uint64_t>(r.zigzag());
    op.hlc = prev.hlc + static_cast<std::uint64_t>(r.zigzag());
    const std::uint64_t field = r.varint();
    const std::uint8_t policy = r.u8();
    op.policy = static_cast<Policy>(policy);
    const std::uint64_t context = r.varint();
    const std::string_view value = r.str(r.remaining());
    const std::string_view base = r.str(r.remaining());
    if (!r.ok() || field > INT64_MAX || policy >= kPolicyCount || context > UINT32_MAX) break;
    op.context = static_cast<std::uint32_t>(context);
    Result<std::string> name = field_name(static_cast<std::int64_t>(field));
    if (!name.ok()) return name.status();
    op.field = std::move(name.value());
    Result<Value> v = decode_value(value);
    if (!v.ok()) return v.status().annotate("op " + op.id.to_string());
    op.value = std::move(v.value());
    Result<std::vector<OpId>> b = decode_base(base);
    if (!b.ok()) return b.status().annotate("op " + op.id.to_string());
    op.base = std::move(b.value());
    out.push_back(std::move(op));
  }
  if (!r.ok() || !r.done() || out.size() < end)
    return Status::corrupt("malformed run of " + std::to_string(count) + " more ops");
  return Status();
}

Result<std::vector<Op>> OpLog::read_ops(store::Stmt& st, std::size_t limit,
                                        std::uint64_t* last_pos) {
  std::vector<Op> ops;
  Status s;
  for (;;) {
    Result<bool> row = st.step();
    if (!row.ok()) {
      s = row.status();
      break;
    }
    if (!row.value() || (!ops.empty() && ops.size() + row_ops(st) > limit)) break;
    if (last_pos != nullptr) *last_pos = row_pos(st);
    if (s = read_row(st, ops); !s.ok() || ops.size() >= limit) break;
  }
  st.reset();
  if (!s.ok()) return s;
  return ops;
}

Result<std::vector<Op>> OpLog::own_after(std::uint64_t after, std::size_t limit) {
  if (Status s = flush(); !s.ok()) return s;
  own_after_.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
  return read_ops(own_after_, limit, nullptr);
}

Result<LogSlice> OpLog::after(std::uint64_t cursor, std::size_t limit) {
  if (Status s = flush(); !s.ok()) return s;
  after_.bind(1, cursor).bind(2, static_cast<std::int64_t>(limit));
  LogSlice slice;
  slice.next_cursor = cursor;
  Result<std::vector<Op>> ops = read_ops(after_, limit, &slice.next_cursor);
  if (!ops.ok()) return ops.status();
  slice.ops = std::move(ops.value());
  return slice;
}

Result<std::vector<Op>> OpLog::of_record(std::string_view record) {
  if (Status s = flush(); !s.ok()) return s;
  // The hub's index ops(record, pos) serves this; a device's small log is scanned.
  Result<store::Stmt> st = db_->prepare(
      std::string(kRowSelect) +
          "WHERE o.record = (SELECT idx FROM records WHERE key = ?1) ORDER BY o.pos",
      "ops of a record");
  if (!st.ok()) return st.status();
  st->bind(1, record);
  return read_ops(st.value(), SIZE_MAX, nullptr);
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

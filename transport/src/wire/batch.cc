#include "wire/batch.h"

#include <cmath>
#include <memory>
#include <unordered_map>

#include <zstd.h>

#include "util/bytes.h"

namespace vs::wire {
namespace {

using util::ByteReader;
using util::ByteWriter;

constexpr std::uint8_t kFormat = 1;
constexpr std::uint8_t kZstd = 1;
constexpr int kLevel = 3;
constexpr std::size_t kMaxNames = kMaxBatchOps * 2;
// An op's columns: device, seq, hlc, record, field, policy, context, base, value.
constexpr std::size_t kColumns = 9;

// Value tags of the wire form: more compact than the stored form (booleans in the tag,
// decimals as scaled integers when they are short decimal fractions, as typed by people).
enum Tag : std::uint8_t {
  kNull = 0,
  kFalse = 1,
  kTrue = 2,
  kInt = 3,
  kDecimalRaw = 4,
  kDecimalScaled = 5,
  kText = 6,
  kDate = 7,
  kSet = 8,
  kGps = 9,
  kAttachment = 10,
  kChoice = 11,
};

constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

// A double as (scale, mantissa) when mantissa / 10^scale gives back exactly the same double.
bool scaled(double d, std::uint8_t& scale, std::int64_t& mantissa) {
  for (std::size_t e = 0; e < std::size(kPow10); ++e) {
    const double m = std::round(d * kPow10[e]);
    if (std::fabs(m) > 9007199254740992.0) return false;  // 2^53: beyond exact integers
    if (m / kPow10[e] == d) {
      scale = static_cast<std::uint8_t>(e);
      mantissa = static_cast<std::int64_t>(m);
      return true;
    }
  }
  return false;
}

void write_number(ByteWriter& w, double d) {
  std::uint8_t scale = 0;
  std::int64_t m = 0;
  if (scaled(d, scale, m) && !(d == 0 && std::signbit(d))) {
    w.u8(scale);
    w.zigzag(m);
  } else {
    w.u8(0xFF);
    w.f64(d);
  }
}

double read_number(ByteReader& r) {
  const std::uint8_t scale = r.u8();
  if (scale == 0xFF) return r.f64();
  if (scale >= std::size(kPow10)) {
    r.fail();
    return 0;
  }
  return static_cast<double>(r.zigzag()) / kPow10[scale];
}

void write_value(ByteWriter& w, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      w.u8(kNull);
      break;
    case Value::Kind::kBool:
      w.u8(v.as_bool() ? kTrue : kFalse);
      break;
    case Value::Kind::kInteger:
      w.u8(kInt);
      w.zigzag(v.as_integer());
      break;
    case Value::Kind::kDecimal: {
      std::uint8_t scale = 0;
      std::int64_t m = 0;
      if (scaled(v.as_decimal(), scale, m)) {
        w.u8(kDecimalScaled);
        w.u8(scale);
        w.zigzag(m);
      } else {
        w.u8(kDecimalRaw);
        w.f64(v.as_decimal());
      }
      break;
    }
    case Value::Kind::kText:
      w.u8(kText);
      w.str(v.as_text());
      break;
    case Value::Kind::kDate:
      w.u8(kDate);
      w.zigzag(v.as_date().days);
      break;
    case Value::Kind::kSet:
      w.u8(kSet);
      w.varint(v.as_set().size());
      for (const std::string& s : v.as_set()) w.str(s);
      break;
    case Value::Kind::kGps:
      w.u8(kGps);
      write_number(w, v.as_gps().lat);
      write_number(w, v.as_gps().lon);
      w.u8(v.as_gps().accuracy_m ? 1 : 0);
      if (v.as_gps().accuracy_m) write_number(w, *v.as_gps().accuracy_m);
      break;
    case Value::Kind::kAttachment: {
      const Attachment& a = v.as_attachment();
      w.u8(kAttachment);
      w.raw(std::string_view(reinterpret_cast<const char*>(a.sha256.data()), a.sha256.size()));
      w.varint(a.size_bytes);
      w.str(a.media_type);
      break;
    }
    case Value::Kind::kChoice:
      w.u8(kChoice);
      w.varint(v.as_choice().rank);
      w.str(v.as_choice().key);
      break;
  }
}

// `budget` counts the set items and base entries a batch may still hold: each costs far more in
// memory than its bytes on the wire, so their total is bounded, not only each count.
Value read_value(ByteReader& r, std::size_t& budget) {
  switch (r.u8()) {
    case kNull:
      return Value();
    case kFalse:
      return Value::boolean(false);
    case kTrue:
      return Value::boolean(true);
    case kInt:
      return Value::integer(r.zigzag());
    case kDecimalRaw: {
      const double d = r.f64();
      if (!std::isfinite(d)) r.fail();
      return Value::decimal(d);
    }
    case kDecimalScaled: {
      const std::uint8_t scale = r.u8();
      if (scale >= std::size(kPow10)) r.fail();
      return Value::decimal(static_cast<double>(r.zigzag()) /
                            (scale < std::size(kPow10) ? kPow10[scale] : 1.0));
    }
    case kText:
      return Value::text(std::string(r.str(kMaxTextBytes)));
    case kDate: {
      const std::int64_t d = r.zigzag();
      if (d < INT32_MIN || d > INT32_MAX) r.fail();
      return Value::date(Date{static_cast<std::int32_t>(d)});
    }
    case kSet: {
      const std::size_t n = r.count(kMaxSetItems);
      if (n > budget) {
        r.fail();
        return Value();
      }
      budget -= n;
      std::vector<std::string> items;
      items.reserve(n);
      for (std::size_t i = 0; i < n && r.ok(); ++i) {
        const std::string_view item = r.str(kMaxSetItemBytes);
        if (item.empty()) r.fail();
        items.emplace_back(item);
      }
      return Value::set(std::move(items));
    }
    case kGps: {
      GeoPoint p;
      p.lat = read_number(r);
      p.lon = read_number(r);
      const std::uint8_t has = r.u8();
      if (has > 1) r.fail();
      if (has == 1) p.accuracy_m = read_number(r);
      return Value::gps(p);
    }
    case kAttachment: {
      Attachment a;
      const std::string_view sha = r.raw(a.sha256.size());
      if (r.ok()) std::copy(sha.begin(), sha.end(), a.sha256.begin());
      a.size_bytes = r.varint();
      a.media_type = std::string(r.str(kMaxMediaTypeBytes));
      return Value::attachment(std::move(a));
    }
    case kChoice: {
      const std::uint64_t rank = r.varint();
      if (rank > UINT32_MAX) r.fail();
      return Value::choice({static_cast<std::uint32_t>(rank), std::string(r.str(kMaxFieldBytes))});
    }
    default:
      r.fail();
      return Value();
  }
}

// Names (devices, records, fields) numbered in order of first use.
class Dict {
 public:
  std::uint64_t id(const std::string& name) {
    auto [it, fresh] = ids_.emplace(name, names_.size());
    if (fresh) names_.push_back(name);
    return it->second;
  }
  void write(ByteWriter& w) const {
    w.varint(names_.size());
    for (const std::string& n : names_) w.str(n);
  }

 private:
  std::unordered_map<std::string, std::uint64_t> ids_;
  std::vector<std::string> names_;
};

std::vector<std::string> read_names(ByteReader& r, std::size_t max_len) {
  const std::size_t n = r.count(kMaxNames);
  std::vector<std::string> names;
  names.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) names.emplace_back(r.str(max_len));
  return names;
}

}  // namespace

std::string encode_batch(const std::vector<Op>& ops) {
  Dict devices, records, fields;
  std::string device_col, seq_col, hlc_col, record_col, field_col, policy_col, context_col,
      base_col, value_col;
  ByteWriter dw(device_col), sw(seq_col), hw(hlc_col), rw(record_col), fw(field_col),
      pw(policy_col), cw(context_col), bw(base_col), vw(value_col);
  // Deltas against the previous op (of the same device for seqs and stamps, of the same base
  // device for base seqs): a visit's answers come in runs, which makes most deltas 0 or 1.
  std::unordered_map<std::uint64_t, std::pair<std::uint64_t, Hlc>> last;  // device -> seq, hlc
  std::unordered_map<std::uint64_t, std::uint64_t> last_base;             // device -> base seq
  std::int64_t prev_record = 0;
  std::int64_t prev_field = 0;
  for (const Op& op : ops) {
    const std::uint64_t dev = devices.id(op.id.device);
    auto& [prev_seq, prev_hlc] = last[dev];
    dw.varint(dev);
    sw.zigzag(static_cast<std::int64_t>(op.id.seq - prev_seq));
    hw.zigzag(static_cast<std::int64_t>(op.hlc - prev_hlc));
    prev_seq = op.id.seq;
    prev_hlc = op.hlc;
    const auto record = static_cast<std::int64_t>(records.id(op.record));
    const auto field = static_cast<std::int64_t>(fields.id(op.field));
    rw.zigzag(record - prev_record);
    fw.zigzag(field - prev_field);
    prev_record = record;
    prev_field = field;
    pw.u8(static_cast<std::uint8_t>(op.policy));
    cw.varint(op.context);
    bw.varint(op.base.size());
    for (const OpId& b : op.base) {
      const std::uint64_t bdev = devices.id(b.device);
      std::uint64_t& prev_base = last_base[bdev];
      bw.varint(bdev);
      bw.zigzag(static_cast<std::int64_t>(b.seq - prev_base));
      prev_base = b.seq;
    }
    write_value(vw, op.value);
  }
  std::string raw;
  ByteWriter w(raw);
  w.u8(kFormat);
  w.varint(ops.size());
  devices.write(w);
  records.write(w);
  fields.write(w);
  for (const std::string* col : {&device_col, &seq_col, &hlc_col, &record_col, &field_col,
                                 &policy_col, &context_col, &base_col, &value_col}) {
    w.raw(*col);
  }
  std::string out;
  ByteWriter ow(out);
  ow.u8(kZstd);
  ow.varint(raw.size());
  const std::size_t header = out.size();
  out.resize(header + ZSTD_compressBound(raw.size()));
  const std::size_t n =
      ZSTD_compress(out.data() + header, out.size() - header, raw.data(), raw.size(), kLevel);
  out.resize(header + (ZSTD_isError(n) ? 0 : n));
  return out;
}

Result<std::vector<Op>> decode_batch(std::string_view bytes, std::size_t max_ops) {
  ByteReader head(bytes);
  const std::uint8_t codec = head.u8();
  const std::uint64_t size = head.varint();
  if (!head.ok() || codec != kZstd) return Status::corrupt("batch: unknown compression");
  if (size > kMaxBatchBytes) {
    return Status::corrupt("batch: " + std::to_string(size) + " bytes once decompressed, at most " +
                           std::to_string(kMaxBatchBytes));
  }
  const std::string_view compressed = bytes.substr(head.position());
  const unsigned long long declared =
      ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (declared != size) return Status::corrupt("batch: compressed size does not match its header");
  // The buffer is the declared size, at most kMaxBatchBytes, and not zero-filled: its pages are
  // committed only as output is written, so a header that claims megabytes and holds nothing
  // costs address space, not memory.
  const auto n_raw = static_cast<std::size_t>(size);
  std::unique_ptr<char[]> buffer(new char[n_raw == 0 ? 1 : n_raw]);
  const std::size_t n = ZSTD_decompress(buffer.get(), n_raw, compressed.data(), compressed.size());
  if (ZSTD_isError(n) || n != n_raw) return Status::corrupt("batch: bad compression");
  const std::string_view raw(buffer.get(), n_raw);

  ByteReader r(raw);
  if (r.u8() != kFormat) return Status::corrupt("batch: unknown format");
  const std::size_t count = r.count(kMaxBatchOps);
  if (r.ok() && count > max_ops) {
    return Status::corrupt("batch: " + std::to_string(count) + " ops, at most " +
                           std::to_string(max_ops));
  }
  const std::vector<std::string> devices = read_names(r, kMaxDeviceIdBytes);
  const std::vector<std::string> records = read_names(r, kMaxRecordBytes);
  const std::vector<std::string> fields = read_names(r, kMaxFieldBytes);
  if (!r.ok()) return Status::corrupt("batch: malformed names");
  // Each op takes at least a byte in each of its nine columns: a count the bytes cannot hold is
  // refused before any op is made.
  if (count > r.remaining() / kColumns) {
    return Status::corrupt("batch: " + std::to_string(count) + " ops cannot fit in " +
                           std::to_string(r.remaining()) + " bytes");
  }
  std::size_t budget = kMaxBatchElements;
  std::vector<Op> ops(count);
  std::vector<std::uint64_t> device_ids(count);
  for (std::size_t i = 0; i < count && r.ok(); ++i) {
    device_ids[i] = r.varint();
    if (device_ids[i] >= devices.size())
      r.fail();
    else
      ops[i].id.device = devices[device_ids[i]];
  }
  std::unordered_map<std::uint64_t, std::pair<std::uint64_t, Hlc>> last;
  for (std::size_t i = 0; i < count && r.ok(); ++i) {
    auto& prev = last[device_ids[i]].first;
    ops[i].id.seq = prev + static_cast<std::uint64_t>(r.zigzag());
    prev = ops[i].id.seq;
  }
  for (std::size_t i = 0; i < count && r.ok(); ++i) {
    auto& prev = last[device_ids[i]].second;
    ops[i].hlc = prev + static_cast<std::uint64_t>(r.zigzag());
    prev = ops[i].hlc;
  }
  // Records and fields: positions in their name lists, each a change from the op before.
  auto read_names_of = [&](const std::vector<std::string>& names, std::string Op::*member) {
    std::int64_t at = 0;
    for (std::size_t i = 0; i < count && r.ok(); ++i) {
      at += r.zigzag();
      if (at < 0 || static_cast<std::size_t>(at) >= names.size())
        r.fail();
      else
        ops[i].*member = names[static_cast<std::size_t>(at)];
    }
  };
  read_names_of(records, &Op::record);
  read_names_of(fields, &Op::field);
  for (std::size_t i = 0; i < count && r.ok(); ++i) {
    const std::uint8_t p = r.u8();
    if (p >= kPolicyCount) r.fail();
    ops[i].policy = static_cast<Policy>(p);
  }
  for (std::size_t i = 0; i < count && r.ok(); ++i) {
    const std::uint64_t c = r.varint();
    if (c > UINT32_MAX) r.fail();
    ops[i].context = static_cast<std::uint32_t>(c);
  }
  std::unordered_map<std::uint64_t, std::uint64_t> last_base;
  for (std::size_t i = 0; i < count && r.ok(); ++i) {
    const std::size_t n_base = r.count(kMaxBaseEntries);
    if (n_base > budget) {
      r.fail();
      break;
    }
    budget -= n_base;
    for (std::size_t k = 0; k < n_base && r.ok(); ++k) {
      const std::uint64_t bdev = r.varint();
      if (bdev >= devices.size()) {
        r.fail();
        break;
      }
      std::uint64_t& prev_base = last_base[bdev];
      prev_base += static_cast<std::uint64_t>(r.zigzag());
      ops[i].base.push_back(OpId{devices[bdev], prev_base});
    }
  }
  for (std::size_t i = 0; i < count && r.ok(); ++i) ops[i].value = read_value(r, budget);
  if (!r.ok()) return Status::corrupt("batch: a column is truncated or holds a value out of range");
  if (!r.done())
    return Status::corrupt("batch: " + std::to_string(r.remaining()) + " bytes too many");
  return ops;
}

}  // namespace vs::wire

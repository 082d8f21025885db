#include "merge/codec.h"

#include <cmath>

namespace vs::merge {
namespace {

using Kind = Value::Kind;

}  // namespace

void write_value(util::ByteWriter& w, const Value& v) {
  w.u8(static_cast<std::uint8_t>(v.kind()));
  switch (v.kind()) {
    case Kind::kNull:
      break;
    case Kind::kBool:
      w.u8(v.as_bool() ? 1 : 0);
      break;
    case Kind::kInteger:
      w.zigzag(v.as_integer());
      break;
    case Kind::kDecimal:
      w.f64(v.as_decimal());
      break;
    case Kind::kText:
      w.str(v.as_text());
      break;
    case Kind::kDate:
      w.zigzag(v.as_date().days);
      break;
    case Kind::kSet:
      w.varint(v.as_set().size());
      for (const std::string& item : v.as_set()) w.str(item);
      break;
    case Kind::kGps: {
      const GeoPoint& p = v.as_gps();
      w.f64(p.lat);
      w.f64(p.lon);
      w.u8(p.accuracy_m ? 1 : 0);
      if (p.accuracy_m) w.f64(*p.accuracy_m);
      break;
    }
    case Kind::kAttachment: {
      const Attachment& a = v.as_attachment();
      w.raw(std::string_view(reinterpret_cast<const char*>(a.sha256.data()), a.sha256.size()));
      w.varint(a.size_bytes);
      w.str(a.media_type);
      break;
    }
    case Kind::kChoice:
      w.varint(v.as_choice().rank);
      w.str(v.as_choice().key);
      break;
  }
}

Value read_value(util::ByteReader& r) {
  const std::uint8_t tag = r.u8();
  if (!r.ok()) return Value();
  switch (static_cast<Kind>(tag)) {
    case Kind::kNull:
      return Value();
    case Kind::kBool: {
      const std::uint8_t b = r.u8();
      if (b > 1) r.fail();
      return Value::boolean(b == 1);
    }
    case Kind::kInteger:
      return Value::integer(r.zigzag());
    case Kind::kDecimal: {
      const double d = r.f64();
      if (!std::isfinite(d) || (d == 0 && std::signbit(d))) r.fail();
      return Value::decimal(d);
    }
    case Kind::kText:
      return Value::text(std::string(r.str(kMaxTextBytes)));
    case Kind::kDate: {
      const std::int64_t days = r.zigzag();
      if (days < kMinDateDays || days > kMaxDateDays) r.fail();
      return Value::date(Date{static_cast<std::int32_t>(days)});
    }
    case Kind::kSet: {
      const std::size_t n = r.count(kMaxSetItems);
      std::vector<std::string> items;
      items.reserve(n);
      for (std::size_t i = 0; i < n && r.ok(); ++i) items.emplace_back(r.str(kMaxSetItemBytes));
      Value v = Value::set(items);
      if (v.as_set().size() != items.size()) r.fail();  // duplicates: not canonical
      return v;
    }
    case Kind::kGps: {
      GeoPoint p;
      p.lat = r.f64();
      p.lon = r.f64();
      const std::uint8_t has = r.u8();
      if (has > 1) r.fail();
      if (has == 1) p.accuracy_m = r.f64();
      return Value::gps(p);
    }
    case Kind::kAttachment: {
      Attachment a;
      const std::string_view sha = r.raw(a.sha256.size());
      if (r.ok()) std::copy(sha.begin(), sha.end(), a.sha256.begin());
      a.size_bytes = r.varint();
      a.media_type = std::string(r.str(kMaxMediaTypeBytes));
      return Value::attachment(std::move(a));
    }
    case Kind::kChoice: {
      Choice c;
      const std::uint64_t rank = r.varint();
      if (rank > 0xFFFFFFFFu) r.fail();
      c.rank = static_cast<std::uint32_t>(rank);
      c.key = std::string(r.str(kMaxFieldBytes));
      return Value::choice(std::move(c));
    }
  }
  r.fail();
  return Value();
}

void write_op_ids(util::ByteWriter& w, const std::vector<OpId>& ids) {
  w.varint(ids.size());
  for (const OpId& id : ids) {
    w.str(id.device);
    w.varint(id.seq);
  }
}

std::vector<OpId> read_op_ids(util::ByteReader& r, std::size_t max) {
  const std::size_t n = r.count(max);
  std::vector<OpId> ids;
  ids.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    OpId id;
    id.device = std::string(r.str(kMaxDeviceIdBytes));
    id.seq = r.varint();
    ids.push_back(std::move(id));
  }
  return ids;
}

}  // namespace vs::merge

namespace vs {

void encode_value(const Value& v, std::string& out) {
  util::ByteWriter w(out);
  merge::write_value(w, v);
}

Result<Value> decode_value(std::string_view bytes) {
  util::ByteReader r(bytes);
  Value v = merge::read_value(r);
  if (!r.ok() || !r.done()) {
    return Status::corrupt("malformed value encoding at byte " + std::to_string(r.position()));
  }
  return v;
}

}  // namespace vs

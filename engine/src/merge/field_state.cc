#include "merge/field_state.h"

#include <algorithm>

#include "merge/codec.h"
#include "util/bytes.h"

namespace vs::merge {
namespace {

constexpr std::uint8_t kStateFormat = 1;
// A counter's state in format 2 keeps its increments after the sum; format 1 (stores written
// before) has the sum only, and its increments count without being listed.
constexpr std::uint8_t kCounterFormat = 2;
// A frontier holds one entry per concurrent writer, an append field one per note; both are
// bounded by what the ops table can hold, this only guards the decoder against absurd counts.
constexpr std::size_t kMaxEntries = 1u << 24;

Entry entry_of(const Op& op) { return Entry{op.id, op.hlc, op.value, op.context}; }

void insert_sorted(std::vector<Entry>& entries, Entry e) {
  auto at = std::upper_bound(entries.begin(), entries.end(), e, stamp_less);
  entries.insert(at, std::move(e));
}

// Removes `id` from a sorted id list; true if it was there.
bool erase_id(std::vector<OpId>& ids, const OpId& id) {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) return false;
  ids.erase(it);
  return true;
}

void insert_id(std::vector<OpId>& ids, const OpId& id) {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) ids.insert(it, id);
}

bool erase_entry(std::vector<Entry>& entries, const OpId& id) {
  auto it =
      std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.op == id; });
  if (it == entries.end()) return false;
  entries.erase(it);
  return true;
}

void write_entries(util::ByteWriter& w, const std::vector<Entry>& entries) {
  w.varint(entries.size());
  for (const Entry& e : entries) {
    w.str(e.op.device);
    w.varint(e.op.seq);
    w.varint(e.hlc);
    w.varint(e.context);
    write_value(w, e.value);
  }
}

Value union_of(const std::vector<Entry>& entries) {
  std::vector<std::string> items;
  bool any_set = false;
  for (const Entry& e : entries) {
    if (e.value.kind() != Value::Kind::kSet) continue;
    any_set = true;
    items.insert(items.end(), e.value.as_set().begin(), e.value.as_set().end());
  }
  return any_set ? Value::set(std::move(items)) : Value();
}

}  // namespace

bool stamp_less(const Entry& a, const Entry& b) {
  if (a.hlc != b.hlc) return a.hlc < b.hlc;
  if (a.op.device != b.op.device) return a.op.device < b.op.device;
  return a.op.seq < b.op.seq;
}

void merge_op(FieldState& state, const Op& op, const ReceivedFn& received) {
  switch (state.policy) {
    case Policy::kCounter:
      // Unsigned addition wraps, so the sum is the same in any order (validation keeps the
      // inputs small enough that it never does in practice). Each increment is kept too, so
      // that one made concurrently with a submission can be shown.
      state.sum += static_cast<std::uint64_t>(op.value.as_integer());
      insert_sorted(state.entries, entry_of(op));
      return;
    case Policy::kAppend:
      insert_sorted(state.entries, entry_of(op));
      return;
    default:
      break;
  }
  // An op named by a base received earlier is superseded on arrival.
  if (!erase_id(state.pending, op.id)) insert_sorted(state.entries, entry_of(op));
  for (const OpId& b : op.base) {
    if (erase_entry(state.entries, b)) continue;
    if (!received(b)) insert_id(state.pending, b);
  }
}

bool uses_frontier(Policy p) { return p != Policy::kAppend && p != Policy::kCounter; }

Value merged_value(const FieldState& state) {
  const std::vector<Entry>& es = state.entries;
  switch (state.policy) {
    case Policy::kCounter:
      return Value::integer(static_cast<std::int64_t>(state.sum));
    case Policy::kUnion:
      return union_of(es);
    case Policy::kMax:
    case Policy::kMin: {
      if (es.empty()) return Value();
      const bool want_max = state.policy == Policy::kMax;
      const Entry* best = &es.front();
      for (const Entry& e : es) {
        const int c = compare(e.value, best->value);
        if (want_max ? c > 0 : c < 0) best = &e;
      }
      return best->value;
    }
    case Policy::kLww:
    case Policy::kAppend:
      return es.empty() ? Value() : es.back().value;
  }
  return Value();
}

bool in_conflict(const FieldState& state) {
  if (state.policy != Policy::kLww || state.entries.size() < 2) return false;
  const Value& first = state.entries.front().value;
  return std::any_of(state.entries.begin() + 1, state.entries.end(),
                     [&](const Entry& e) { return e.value != first; });
}

FieldView view_of(const FieldState& state, std::string field) {
  FieldView v;
  v.field = std::move(field);
  v.policy = state.policy;
  v.value = merged_value(state);
  v.conflict = in_conflict(state);
  v.versions.reserve(state.entries.size());
  for (const Entry& e : state.entries)
    v.versions.push_back(Version{e.op, e.hlc, e.value, e.context});
  return v;
}

std::string encode_state(const FieldState& state) {
  std::string out;
  append_state(state, out);
  return out;
}

void append_state(const FieldState& state, std::string& out) {
  util::ByteWriter w(out);
  w.u8(state.policy == Policy::kCounter ? kCounterFormat : kStateFormat);
  w.u8(static_cast<std::uint8_t>(state.policy));
  if (state.policy == Policy::kCounter) w.varint(state.sum);
  write_entries(w, state.entries);
  if (uses_frontier(state.policy)) write_op_ids(w, state.pending);
}

Result<FieldState> decode_state(std::string_view bytes) {
  util::ByteReader r(bytes);
  FieldState st;
  const std::uint8_t format = r.u8();
  const std::uint8_t policy = r.u8();
  const bool counter = policy == static_cast<std::uint8_t>(Policy::kCounter);
  if (!r.ok() || policy >= kPolicyCount ||
      (format != kStateFormat && !(counter && format == kCounterFormat))) {
    return Status::corrupt("field state: unknown format or policy");
  }
  st.policy = static_cast<Policy>(policy);
  if (counter) st.sum = r.varint();
  if (!counter || format == kCounterFormat) {
    const std::size_t n = r.count(kMaxEntries);
    st.entries.reserve(n);
    for (std::size_t i = 0; i < n && r.ok(); ++i) {
      Entry e;
      e.op.device = std::string(r.str(kMaxDeviceIdBytes));
      e.op.seq = r.varint();
      e.hlc = r.varint();
      const std::uint64_t context = r.varint();
      if (context > 0xFFFFFFFFu) r.fail();
      e.context = static_cast<std::uint32_t>(context);
      e.value = read_value(r);
      st.entries.push_back(std::move(e));
    }
    if (uses_frontier(st.policy)) st.pending = read_op_ids(r, kMaxEntries);
  }
  if (!r.ok() || !r.done()) return Status::corrupt("field state: malformed bytes");
  return st;
}

void append_digest_form(const FieldState& state, std::string& out) {
  util::ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(state.policy));
  if (state.policy == Policy::kCounter) {
    w.varint(state.sum);
  } else {
    write_entries(w, state.entries);
  }
}

}  // namespace vs::merge

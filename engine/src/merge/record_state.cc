#include "merge/record_state.h"

#include <algorithm>

#include "util/bytes.h"

namespace vs::merge {
namespace {

constexpr std::uint8_t kRecordFormat = 1;
constexpr std::size_t kMaxFields = 1u << 20;
constexpr std::size_t kMaxRanges = 1u << 24;
constexpr std::size_t kMaxStateBytes = 1u << 30;

using Range = std::pair<std::uint64_t, std::uint64_t>;

}  // namespace

bool SeenSet::contains(std::int64_t device, std::uint64_t seq) const {
  auto it = ranges_.find(device);
  if (it == ranges_.end()) return false;
  const std::vector<Range>& rs = it->second;
  // The first range whose end is >= seq.
  auto r = std::lower_bound(rs.begin(), rs.end(), seq,
                            [](const Range& range, std::uint64_t s) { return range.second < s; });
  return r != rs.end() && r->first <= seq;
}

void SeenSet::add(std::int64_t device, std::uint64_t seq) {
  std::vector<Range>& rs = ranges_[device];
  // Common case: the next seq of the newest run.
  if (!rs.empty() && rs.back().second + 1 == seq) {
    rs.back().second = seq;
    return;
  }
  auto r = std::lower_bound(rs.begin(), rs.end(), seq, [](const Range& range, std::uint64_t s) {
    return range.second + 1 < s;
  });
  if (r != rs.end() && r->first <= seq + 1) {
    // Touches or overlaps *r: extend it, and merge with the next run if they now meet.
    r->first = std::min(r->first, seq);
    r->second = std::max(r->second, seq);
    auto next = r + 1;
    if (next != rs.end() && next->first <= r->second + 1) {
      r->second = std::max(r->second, next->second);
      rs.erase(next);
    }
    return;
  }
  rs.insert(r, Range{seq, seq});
}

Result<RecordState> RecordState::decode(std::string_view bytes) {
  RecordState rs;
  if (bytes.empty()) return rs;
  rs.bytes_ = std::make_unique<std::string>(bytes);
  util::ByteReader r(*rs.bytes_);
  if (r.u8() != kRecordFormat) return Status::corrupt("record state: unknown format");
  const std::size_t devices = r.count(kMaxRanges);
  for (std::size_t d = 0; d < devices && r.ok(); ++d) {
    const auto idx = static_cast<std::int64_t>(r.varint());
    std::vector<Range>& ranges = rs.seen_.ranges()[idx];
    const std::size_t n = r.count(kMaxRanges);
    ranges.reserve(n);
    std::uint64_t prev = 0;
    for (std::size_t i = 0; i < n && r.ok(); ++i) {
      const std::uint64_t lo = prev + r.varint();
      const std::uint64_t hi = lo + r.varint();
      if (hi < lo || (i > 0 && lo <= prev + 1)) r.fail();  // overflow, or not sorted apart
      ranges.emplace_back(lo, hi);
      prev = hi;
    }
  }
  const std::size_t fields = r.count(kMaxFields);
  auto hint = rs.fields_.end();
  for (std::size_t i = 0; i < fields && r.ok(); ++i) {
    std::string name(r.str(kMaxFieldBytes));
    Slot s;
    const std::uint8_t flag = r.u8();
    if (flag > 1) r.fail();
    s.conflict = flag == 1;
    s.raw = r.str(kMaxStateBytes);
    if (!rs.fields_.empty() && !(std::prev(rs.fields_.end())->first < name)) r.fail();
    hint = rs.fields_.emplace_hint(hint, std::move(name), std::move(s));
    ++hint;
  }
  if (!r.ok() || !r.done()) return Status::corrupt("record state: malformed bytes");
  return rs;
}

std::string RecordState::encode() const {
  std::string out;
  util::ByteWriter w(out);
  w.u8(kRecordFormat);
  w.varint(seen_.ranges().size());
  for (const auto& [device, ranges] : seen_.ranges()) {
    w.varint(static_cast<std::uint64_t>(device));
    w.varint(ranges.size());
    std::uint64_t prev = 0;
    for (const Range& range : ranges) {
      w.varint(range.first - prev);
      w.varint(range.second - range.first);
      prev = range.second;
    }
  }
  w.varint(fields_.size());
  std::string scratch;  // one buffer for every field's state
  for (const auto& [name, s] : fields_) {
    w.str(name);
    if (s.state) {
      w.u8(in_conflict(*s.state) ? 1 : 0);
      scratch.clear();
      append_state(*s.state, scratch);
      w.str(scratch);
    } else {
      w.u8(s.conflict ? 1 : 0);
      w.str(s.raw);
    }
  }
  return out;
}

Result<FieldState*> RecordState::decoded(Fields::iterator it) {
  Slot& s = it->second;
  if (!s.state) {
    Result<FieldState> st = decode_state(s.raw);
    if (!st.ok()) return st.status().annotate("field " + it->first);
    s.state = std::move(st.value());
  }
  return &*s.state;
}

Result<FieldState*> RecordState::find(std::string_view field) {
  auto it = fields_.find(field);
  if (it == fields_.end()) return static_cast<FieldState*>(nullptr);
  return decoded(it);
}

Result<FieldState*> RecordState::get_or_create(std::string_view field, Policy policy) {
  // One walk of the tree finds the field, or where a new one goes.
  auto it = fields_.lower_bound(field);
  if (it != fields_.end() && it->first == field) {
    Result<FieldState*> found = decoded(it);
    if (!found.ok()) return found.status();
    if (found.value()->policy != policy) {
      return Status::invalid_input("field '" + std::string(field) + "' is merged by " +
                                   std::string(policy_name(found.value()->policy)) + ", not " +
                                   std::string(policy_name(policy)));
    }
    return found;
  }
  Slot s;
  s.state = FieldState();
  s.state->policy = policy;
  it = fields_.emplace_hint(it, std::string(field), std::move(s));
  return &*it->second.state;
}

std::vector<std::string> RecordState::field_names() const {
  std::vector<std::string> names;
  names.reserve(fields_.size());
  for (const auto& entry : fields_) names.push_back(entry.first);
  return names;
}

std::size_t RecordState::conflict_count() const {
  std::size_t n = 0;
  for (const auto& [name, s] : fields_) n += (s.state ? in_conflict(*s.state) : s.conflict) ? 1 : 0;
  return n;
}

}  // namespace vs::merge

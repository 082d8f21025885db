// What a device knows of its sync with the hub, read back from the settings and counters the
// sessions keep (session/device_session.h): refused ops and each visit's sync state.
#include <charconv>

#include <visitsync/inspection.h>
#include <visitsync/transport/client.h>

#include "session/device_session.h"

namespace vs {
namespace {

// The whole number `text` (a part of setting `key`) holds, or kCorrupt naming the setting and
// `what` the number should be ("seq", "time").
template <class Int>
Result<Int> parse_number(std::string_view key, std::string_view what, std::string_view text) {
  Int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return Status::corrupt("setting '" + std::string(key) + "' does not hold a " +
                           std::string(what) + " number");
  return n;
}

// Applies `fn(visit, ms)` to each "<prefix><record>" setting of a visit record.
Status each_stamp(Engine& engine, std::string_view prefix,
                  const std::function<void(const std::string&, std::int64_t)>& fn) {
  Result<std::vector<std::pair<std::string, std::string>>> stamps =
      engine.settings_with_prefix(prefix);
  if (!stamps.ok()) return stamps.status();
  for (const auto& [key, value] : stamps.value()) {
    const std::optional<std::string> visit =
        visit_of_record(std::string_view(key).substr(prefix.size()));
    if (!visit) continue;
    Result<std::int64_t> ms = parse_number<std::int64_t>(key, "time", value);
    if (!ms.ok()) return ms.status();
    fn(*visit, ms.value());
  }
  return Status();
}

}  // namespace

Result<std::vector<std::pair<std::uint64_t, std::string>>> refused_ops(Engine& engine) {
  const std::string_view prefix = session::kRejectedPrefix;
  Result<std::vector<std::pair<std::string, std::string>>> stored =
      engine.settings_with_prefix(prefix);
  if (!stored.ok()) return stored.status();
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (auto& [key, reason] : stored.value()) {
    Result<std::uint64_t> seq =
        parse_number<std::uint64_t>(key, "seq", std::string_view(key).substr(prefix.size()));
    if (!seq.ok()) return seq.status();
    out.emplace_back(seq.value(), std::move(reason));
  }
  return out;
}

Result<std::map<std::string, VisitSync>> visit_sync_states(Engine& engine) {
  std::map<std::string, VisitSync> out;
  Result<std::uint64_t> acked = engine.counter(session::kAckedCounter);
  if (!acked.ok()) return acked.status();
  // The ops waiting for the hub: on a device, a few days' work at most.
  for (std::uint64_t after = acked.value();;) {
    Result<std::vector<Op>> ops = engine.ops_after(after, 10000);
    if (!ops.ok()) return ops.status();
    if (ops->empty()) break;
    for (const Op& op : ops.value()) {
      if (std::optional<std::string> visit = visit_of_record(op.record)) ++out[*visit].unacked;
    }
    after = ops->back().id.seq;
  }
  Result<std::vector<std::pair<std::uint64_t, std::string>>> refused = refused_ops(engine);
  if (!refused.ok()) return refused.status();
  for (auto& [seq, reason] : refused.value()) {
    if (seq == 0) continue;  // no op has it
    Result<std::vector<Op>> op = engine.ops_after(seq - 1, 1);
    if (!op.ok()) return op.status();
    if (op->empty() || op->front().id.seq != seq) continue;  // lost in a repair
    if (std::optional<std::string> visit = visit_of_record(op->front().record))
      out[*visit].refused.emplace_back(seq, std::move(reason));
  }
  Status s = each_stamp(engine, session::kSentPrefix,
                        [&](const std::string& v, std::int64_t ms) { out[v].last_sent_ms = ms; });
  if (!s.ok()) return s;
  s = each_stamp(engine, session::kReceivedPrefix,
                 [&](const std::string& v, std::int64_t ms) { out[v].last_received_ms = ms; });
  if (!s.ok()) return s;
  return out;
}

}  // namespace vs

// What a device may write, as a pure function of (writer, visit state, template lookups, op):
// no SQLite, no clock, so every rule is testable on its own (tests/engine/authorize_test.cc).
// The hub's push loads a VisitState per visit once per batch and calls authorize() for each op:
// an accepted op updates the state, so a batch's later ops are judged against the state its
// earlier ops really leave. The rules are listed in schema/PROTOCOL.md,
// "What the hub checks".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/checklist.h>
#include <visitsync/inspection.h>
#include <visitsync/types.h>

namespace vs::hub {

// The enrolled device writing, as the hub's registry knows it.
struct Writer {
  std::string device_id;
  std::string inspector_id;
  Role role = Role::kInspector;
};

// Ops a visit holds, by device name: ranges of seqs.
class OpSet {
 public:
  bool has(const OpId& id) const;
  void add(const OpId& id);
  void add_range(const std::string& device, std::uint64_t first, std::uint64_t last);

 private:
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>, std::less<>> ranges_;
};

// What the hub holds of one visit record before the op being judged.
struct VisitState {
  std::string school;        // from the key: visit/<school>/<id>
  std::string school_level;  // the school's level on the hub ("" if unknown)
  std::map<std::string, Policy, std::less<>> fields;  // every field present, with its policy
  OpSet ops;                                          // the ops the visit holds
  // The device that wrote the visit's first metadata field (the starter), "" before start.
  std::string starter;
  std::string template_id;
  std::int64_t template_version = 0;
  std::shared_ptr<const Template> tmpl;  // resolved once template and version are both known
  std::optional<std::int64_t> status;    // the highest status value
  std::set<std::string, std::less<>> inspectors;  // every name the visit's inspectors held
  std::map<std::string, std::int64_t, std::less<>> counter_totals;  // by answer field
  // The entries submitted.N and accepted.N hold: a union write repeats them.
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> entries;
};

// What authorize() may look up beyond the visit. A non-OK Result is a store or internal error:
// the push fails (the device retries), it never becomes a rejection.
struct Lookups {
  // The published template (id, version), or nullptr when the hub has not published it.
  std::function<Result<std::shared_ptr<const Template>>(std::string_view, std::int64_t)> find;
  // Whether the hub refused the writer's own op `seq` (in an earlier push or this batch).
  std::function<Result<bool>(std::uint64_t)> refused_own;
};

// Judges `op` against the visit: kRejected with the reason when the writer may not write it
// (the op is then recorded as refused and `v` is unchanged); another code when a lookup failed.
// When the op passes, it is added to `v`, so the batch's later ops build on it. `next` is the
// op after it in the batch (nullptr for the last): a snapshot is judged with its submit.
// A refusal's kind, for the hub's metrics, goes to `kind` when given: "forged" (another
// device's op), "malformed", "role" (a supervisor's mark), "base", "answer", "start" or
// "lifecycle" (which rule refused it); push() adds "scope".
Status authorize(const Writer& w, VisitState& v, const Lookups& look, const Op& op,
                 const Op* next = nullptr, std::string_view* kind = nullptr);

// The key's school when `key` is a visit record (visit/<school>/<id>), else nullopt.
std::optional<std::string> visit_school(std::string_view key);

}  // namespace vs::hub

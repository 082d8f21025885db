// The merged state of one field and the rule that folds a new op into it (engine/MERGE.md).
// Pure logic: no storage, no clock.
//
// For lww, max, min and union the state is the causal frontier: the ops of the field that no
// received op names in its base. `pending` remembers ids named in a base before the op itself
// arrived, so that a late op is known to be superseded: with it, the frontier after any
// sequence of merges is exactly {received ops of the field} minus {ops named by a received
// base}, a function of the set of ops received. Append keeps every entry, counter the sum and every
// increment.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <visitsync/types.h>

namespace vs::merge {

struct Entry {
  OpId op;
  Hlc hlc = 0;
  Value value;
  std::uint32_t context = 0;
};

// The total order of stamps: (hlc, device, seq). Seq only breaks ties a faulty device made.
bool stamp_less(const Entry& a, const Entry& b);

struct FieldState {
  Policy policy = Policy::kLww;
  std::vector<Entry> entries;  // sorted by stamp: the frontier, or every append or counter entry
  std::vector<OpId> pending;   // sorted; ids named by a received base, not yet received
  std::uint64_t sum = 0;       // counter: two's-complement sum, so order never matters
};

// Tells whether the op with this id has been received (it is in the op log).
using ReceivedFn = std::function<bool(const OpId&)>;

// Whether a policy's state is a causal frontier (lww, max, min, union) whose writes name a
// base; append and counter keep every entry.
bool uses_frontier(Policy p);

// Folds `op` (new to this replica, of this field, op.policy == state.policy) into the state.
void merge_op(FieldState& state, const Op& op, const ReceivedFn& received);

// The merged value of the field.
Value merged_value(const FieldState& state);
// True for lww with concurrent versions whose values differ.
bool in_conflict(const FieldState& state);
// The public view of the state.
FieldView view_of(const FieldState& state, std::string field);

// Storage form (includes pending). decode_state reports malformed bytes as kCorrupt.
std::string encode_state(const FieldState& state);
// The same, appended to `out`.
void append_state(const FieldState& state, std::string& out);
Result<FieldState> decode_state(std::string_view bytes);
// The form hashed by the digest: the visible state only (pending is bookkeeping that may
// differ between replicas holding the same ops when a base names an op of another field).
void append_digest_form(const FieldState& state, std::string& out);

}  // namespace vs::merge

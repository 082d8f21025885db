// The merged state of one record: the state of each of its fields and the ids of every op of
// the record this replica has received. Stored as one row, so that applying the 150 answers of
// a visit writes one row, not 150, and a duplicate is recognised without an index on the log.
//
// Fields are decoded lazily: a batch that touches one field of a visit re-encodes only that one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <visitsync/types.h>

#include "merge/field_state.h"

namespace vs::merge {

// The origin seqs received from each device (by the store's device idx), as sorted disjoint
// closed ranges: a device's ops on one record mostly come in runs.
class SeenSet {
 public:
  bool contains(std::int64_t device, std::uint64_t seq) const;
  void add(std::int64_t device, std::uint64_t seq);
  const std::map<std::int64_t, std::vector<std::pair<std::uint64_t, std::uint64_t>>>& ranges()
      const {
    return ranges_;
  }
  std::map<std::int64_t, std::vector<std::pair<std::uint64_t, std::uint64_t>>>& ranges() {
    return ranges_;
  }

 private:
  std::map<std::int64_t, std::vector<std::pair<std::uint64_t, std::uint64_t>>> ranges_;
};

class RecordState {
 public:
  // Parses the stored bytes (empty bytes: a new record). Field states stay encoded until used.
  static Result<RecordState> decode(std::string_view bytes);
  std::string encode() const;

  SeenSet& seen() { return seen_; }
  const SeenSet& seen() const { return seen_; }

  // The field's state, or nullptr if no op named it yet. Decodes it on first use.
  Result<FieldState*> find(std::string_view field);
  // The field's state, created empty with `policy` if missing. kInvalidInput if the field
  // exists with another policy.
  Result<FieldState*> get_or_create(std::string_view field, Policy policy);
  // Names of the fields, sorted.
  std::vector<std::string> field_names() const;
  std::size_t conflict_count() const;
  bool empty() const { return fields_.empty(); }

 private:
  struct Slot {
    std::string_view raw;             // encoded state inside bytes_, until decoded
    std::optional<FieldState> state;  // decoded state (authoritative when present)
    bool conflict = false;            // the stored flag, for a slot not decoded
  };

  // The stored bytes the raw views point into; on the heap so that moving a RecordState
  // keeps them where they are.
  std::unique_ptr<std::string> bytes_;
  SeenSet seen_;
  using Fields = std::map<std::string, Slot, std::less<>>;
  // The state of the field at `it`, decoded from its bytes on first use.
  Result<FieldState*> decoded(Fields::iterator it);

  Fields fields_;
};

}  // namespace vs::merge

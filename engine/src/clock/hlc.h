// The hybrid logical clock of one replica (engine/MERGE.md: stamp = (HLC, device id)).
//
// A reading is the wall clock's milliseconds with a logical counter below them. Readings only
// grow, even when the wall clock jumps backwards; a reading seen from another replica pushes the
// clock forward, unless it leads this replica's wall clock by more than `max_lead_ms` (a device
// whose clock is wrong by years must not drag every stamp along). Not thread-safe.
#pragma once

#include <cstdint>

#include <visitsync/engine.h>
#include <visitsync/types.h>

namespace vs::clock {

class HybridClock {
 public:
  HybridClock(Clock& wall, Hlc last, std::int64_t max_lead_ms)
      : wall_(&wall), last_(last), max_lead_ms_(max_lead_ms) {}

  // The stamp of the next local event: above every reading so far.
  Hlc tick();
  // Takes a remote reading into account. Returns false if it was ignored for leading too far.
  bool observe(Hlc remote);
  // The highest reading so far (persisted by the engine).
  Hlc last() const { return last_; }
  // Wall-clock milliseconds now.
  std::int64_t wall_ms() const { return wall_->now_ms(); }

 private:
  Clock* wall_;
  Hlc last_;
  std::int64_t max_lead_ms_;
};

}  // namespace vs::clock

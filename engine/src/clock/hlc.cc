#include "clock/hlc.h"

#include <algorithm>
#include <chrono>

namespace vs::clock {
namespace {

Hlc wall_reading(std::int64_t ms) {
  return make_hlc(static_cast<std::uint64_t>(std::max<std::int64_t>(ms, 0)), 0);
}

}  // namespace

Hlc HybridClock::tick() {
  // last_ + 1 carries a full logical counter into the milliseconds, which keeps order.
  last_ = std::max(wall_reading(wall_->now_ms()), last_ + 1);
  return last_;
}

bool HybridClock::observe(Hlc remote) {
  const std::int64_t wall = wall_->now_ms();
  if (static_cast<std::int64_t>(hlc_millis(remote)) > wall + max_lead_ms_) return false;
  last_ = std::max(last_, remote);
  return true;
}

}  // namespace vs::clock

namespace vs {
namespace {

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

}  // namespace

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

}  // namespace vs

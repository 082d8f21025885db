// Property: the merged state is a function of the set of ops received (engine/MERGE.md,
// "Convergence"). Real engines on real files make a concurrent history, then the ops are
// delivered to fresh replicas under random schedules: any order, duplicates, partial batches,
// relays through another replica. Every digest must equal the reference.
//
// Rerun a failure with VS_SEED=<seed>; VS_PROPERTY_ROUNDS=<n> runs n schedules instead of 500.
#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

#include <visitsync/engine.h>

#include "support/test_support.h"

using namespace vs;

namespace {

constexpr int kReplicas = 5;
constexpr int kHistoryOps = 2000;

struct FieldSpec {
  const char* name;
  Policy policy;
};
// Two fields of every policy, on three records: every replica writes all of them.
constexpr FieldSpec kFields[] = {
    {"lww_a", Policy::kLww},       {"lww_b", Policy::kLww},         {"max_a", Policy::kMax},
    {"max_b", Policy::kMax},       {"min_a", Policy::kMin},         {"min_b", Policy::kMin},
    {"union_a", Policy::kUnion},   {"union_b", Policy::kUnion},     {"append_a", Policy::kAppend},
    {"append_b", Policy::kAppend}, {"counter_a", Policy::kCounter}, {"counter_b", Policy::kCounter},
};
constexpr const char* kRecords[] = {"visit/S1/a", "visit/S1/b", "visit/S2/c"};

using Rng = std::mt19937_64;

int pick(Rng& rng, int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); }

Value random_value(Rng& rng, Policy p) {
  switch (p) {
    case Policy::kCounter:
      return Value::integer(pick(rng, 9) - 3);
    case Policy::kUnion: {
      static const char* kItems[] = {"water", "canteen", "bus", "roof", "fence", "power"};
      std::vector<std::string> items;
      for (const char* item : kItems) {
        if (pick(rng, 3) == 0) items.emplace_back(item);
      }
      return pick(rng, 12) == 0 ? Value() : Value::set(items);
    }
    case Policy::kAppend:
      return Value::text("note " + std::to_string(pick(rng, 1000)));
    case Policy::kMax:
    case Policy::kMin:
      return pick(rng, 4) == 0 ? Value::choice({static_cast<std::uint32_t>(pick(rng, 3)), "opt"})
                               : Value::integer(pick(rng, 20));
    case Policy::kLww:
      // Few distinct values, so that concurrent writes often agree (and must not be flagged).
      return pick(rng, 3) == 0 ? Value::text(pick(rng, 2) == 0 ? "yes" : "no")
                               : Value::integer(pick(rng, 4));
  }
  return Value();
}

// Splits `ops` into batches of random sizes.
std::vector<std::vector<Op>> partition(Rng& rng, const std::vector<Op>& ops) {
  std::vector<std::vector<Op>> batches;
  std::size_t i = 0;
  while (i < ops.size()) {
    const std::size_t n = std::min<std::size_t>(ops.size() - i, 1 + pick(rng, 400));
    batches.emplace_back(ops.begin() + static_cast<std::ptrdiff_t>(i),
                         ops.begin() + static_cast<std::ptrdiff_t>(i + n));
    i += n;
  }
  return batches;
}

// All ops, shuffled, with about a tenth delivered twice.
std::vector<Op> shuffled_with_duplicates(Rng& rng, const std::vector<Op>& ops) {
  std::vector<Op> out = ops;
  for (const Op& op : ops) {
    if (pick(rng, 10) == 0) out.push_back(op);
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

void apply_all(Engine& to, const std::vector<std::vector<Op>>& batches) {
  for (const auto& batch : batches) {
    Result<ApplyReport> r = to.apply_remote(batch);
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    REQUIRE(r->rejected.empty());
  }
}

std::vector<Op> everything(Engine& e) {
  Result<LogSlice> s = e.log_after(0, 10'000'000);
  REQUIRE(s.ok());
  return s->ops;
}

std::string digest(Engine& e) {
  Result<std::string> d = e.digest();
  REQUIRE(d.ok());
  return d.value();
}

// Five replicas write concurrently and sync partially, out of order and through each other.
struct History {
  test::TempDir dir;
  std::vector<std::unique_ptr<test::ManualClock>> clocks;
  std::vector<std::unique_ptr<Engine>> replicas;
  std::uint64_t cursor[kReplicas][kReplicas] = {};  // cursor[to][from] into from's log

  explicit History(Rng& rng) {
    const std::int64_t offsets[kReplicas] = {0, -test::kYearMs, 180'000, -2'000, 7};
    for (int i = 0; i < kReplicas; ++i) {
      clocks.push_back(std::make_unique<test::ManualClock>(1'795'000'000'000 + offsets[i]));
      replicas.push_back(test::open_engine(dir, "dev-" + std::to_string(i), clocks.back().get()));
    }
    int written = 0;
    while (written < kHistoryOps) {
      const int r = pick(rng, kReplicas);
      clocks[r]->advance(pick(rng, 50));
      if (pick(rng, 10) < 6) {
        write(rng, r);
        ++written;
      } else {
        partial_sync(rng, r, (r + 1 + pick(rng, kReplicas - 1)) % kReplicas);
      }
    }
  }

  void write(Rng& rng, int r) {
    const FieldSpec& f = kFields[pick(rng, std::size(kFields))];
    const std::string record = kRecords[pick(rng, std::size(kRecords))];
    Engine& e = *replicas[r];
    Write w{record, f.name, f.policy, random_value(rng, f.policy),
            static_cast<std::uint32_t>(pick(rng, 3))};
    if (f.policy == Policy::kLww && pick(rng, 4) == 0) {
      Result<std::optional<FieldView>> cur = e.read_field(record, f.name);
      REQUIRE(cur.ok());
      if (cur->has_value() && (*cur)->conflict) {
        std::vector<OpId> settles;
        for (const Version& v : (*cur)->versions) settles.push_back(v.op);
        REQUIRE(e.resolve(w, settles).ok());
        return;
      }
    }
    Result<OpId> id = e.write(w);
    INFO(id.status().to_string());
    REQUIRE(id.ok());
  }

  // `to` takes a random slice of what `from` has (its own ops and those it relays), sometimes
  // shuffled so that an op can arrive before the op its base names.
  void partial_sync(Rng& rng, int to, int from) {
    Result<LogSlice> s = replicas[from]->log_after(cursor[to][from], 1 + pick(rng, 60));
    REQUIRE(s.ok());
    if (pick(rng, 3) == 0) std::shuffle(s->ops.begin(), s->ops.end(), rng);
    Result<ApplyReport> r = replicas[to]->apply_remote(s->ops);
    REQUIRE(r.ok());
    REQUIRE(r->rejected.empty());
    cursor[to][from] = s->next_cursor;
  }

  void sync_everything() {
    for (int round = 0; round < 2; ++round) {
      for (int to = 0; to < kReplicas; ++to) {
        for (int from = 0; from < kReplicas; ++from) {
          if (to == from) continue;
          Result<ApplyReport> r = replicas[to]->apply_remote(everything(*replicas[from]));
          REQUIRE(r.ok());
        }
      }
    }
  }
};

}  // namespace

TEST_CASE("replicas that received the same ops converge under any delivery schedule",
          "[engine][merge][property]") {
  const std::uint64_t seed = test::seed();
  Rng rng(seed);
  INFO("VS_SEED=" << seed);
  History history(rng);
  history.sync_everything();

  const std::vector<Op> ops = everything(*history.replicas[0]);
  REQUIRE(ops.size() >= static_cast<std::size_t>(kHistoryOps));
  const std::string reference = digest(*history.replicas[0]);
  for (auto& r : history.replicas) REQUIRE(digest(*r) == reference);

  // Every policy met concurrency, and lww both flagged and unflagged fields.
  Result<std::vector<Conflict>> conflicts = history.replicas[0]->conflicts();
  REQUIRE(conflicts.ok());

  const int schedules = test::property_rounds(500);
  test::TempDir dir;
  for (int s = 0; s < schedules; ++s) {
    INFO("schedule " << s);
    test::ManualClock clock;
    const std::string name = "target-" + std::to_string(s);
    auto target = test::open_engine(dir, name, &clock);
    if (pick(rng, 4) == 0) {
      // A relay receives part of the ops first and passes on its whole log, as the hub does.
      auto relay = test::open_engine(dir, "relay-" + std::to_string(s), &clock);
      std::vector<Op> mixed = shuffled_with_duplicates(rng, ops);
      const std::size_t half = mixed.size() / 2;
      apply_all(*relay,
                partition(rng, {mixed.begin(), mixed.begin() + static_cast<std::ptrdiff_t>(half)}));
      apply_all(*target,
                partition(rng, {mixed.begin() + static_cast<std::ptrdiff_t>(half), mixed.end()}));
      apply_all(*target, partition(rng, everything(*relay)));
      relay.reset();
    } else {
      apply_all(*target, partition(rng, shuffled_with_duplicates(rng, ops)));
    }
    REQUIRE(digest(*target) == reference);
    Result<std::vector<Conflict>> c = target->conflicts();
    REQUIRE(c.ok());
    REQUIRE(c->size() == conflicts->size());
    target.reset();
    for (const std::string& stem : {name, "relay-" + std::to_string(s)}) {
      for (const char* suffix : {".db", ".db-wal", ".db-shm"})
        std::filesystem::remove(dir.file(stem + suffix));
    }
  }
}

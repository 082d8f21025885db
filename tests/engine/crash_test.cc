// Crash safety: a child process writes a long stream and is killed with SIGKILL at random
// moments; after each kill the store passes SQLite's integrity check and every write the child
// saw succeed is there, op and merged state alike.
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <random>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <visitsync/engine.h>

#include "support/test_support.h"

using namespace vs;

namespace {

constexpr int kFieldsPerRecord = 40;

Write write_number(std::uint64_t i) {
  return Write{"crash/" + std::to_string(i / kFieldsPerRecord),
               "f" + std::to_string(i % kFieldsPerRecord), Policy::kLww,
               Value::integer(static_cast<std::int64_t>(i)), 0};
}

// The child: continues the stream where the store ends and reports each write that returned
// OK on `report`, until it is killed. Never returns.
[[noreturn]] void write_forever(const std::string& path, int report) {
  Options o;  // the default durability: the one the README promises
  Result<std::unique_ptr<Engine>> e = Engine::open(path, o);
  if (!e.ok()) _exit(3);
  Result<EngineStats> st = e.value()->stats();
  if (!st.ok()) _exit(4);
  for (std::uint64_t i = st->last_own_seq + 1;; ++i) {
    if (!e.value()->write(write_number(i)).ok()) _exit(5);
    if (write(report, &i, sizeof i) != static_cast<ssize_t>(sizeof i)) _exit(6);
  }
}

// Reads what the child reported until `deadline`; returns the highest number seen.
std::uint64_t drain(int fd, std::chrono::steady_clock::time_point deadline, std::uint64_t seen) {
  std::uint64_t buf[512];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (ready <= 0) return seen;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return seen;
    const auto count = static_cast<std::size_t>(n) / sizeof buf[0];
    for (std::size_t k = 0; k < count; ++k) seen = std::max(seen, buf[k]);
  }
}

}  // namespace

TEST_CASE("writes that returned survive SIGKILL at random moments", "[engine][crash]") {
  test::TempDir dir;
  const std::string path = dir.file("crash.db");
  {
    Options o;
    o.device_id = "dev-crash";
    REQUIRE(Engine::open(path, o).ok());
  }
  const std::uint64_t seed = test::seed();
  INFO("VS_SEED=" << seed);
  std::mt19937_64 rng(seed);
  std::uint64_t acknowledged = 0;
  const int kills = test::property_rounds(200);  // issue 13: at least 200 kills
  for (int round = 0; round < kills; ++round) {
    INFO("kill " << round);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      write_forever(path, fds[1]);
    }
    close(fds[1]);
    // Let it get going, then kill it at a random moment of the stream.
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(20 + rng() % 60);
    acknowledged = drain(fds[0], until, acknowledged);
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    acknowledged = drain(fds[0], std::chrono::steady_clock::now(), acknowledged);
    close(fds[0]);
    REQUIRE(WIFSIGNALED(status));  // it was still writing, not dead of an error
    CHECK(WTERMSIG(status) == SIGKILL);

    Options o;
    Result<std::unique_ptr<Engine>> e = Engine::open(path, o);
    REQUIRE(e.ok());
    REQUIRE(e.value()->check_integrity().ok());
    Result<EngineStats> st = e.value()->stats();
    REQUIRE(st.ok());
    REQUIRE(st->last_own_seq >= acknowledged);
    // The newest acknowledged write and a random older one: op and merged state both there.
    for (std::uint64_t i : {acknowledged, 1 + rng() % std::max<std::uint64_t>(acknowledged, 1)}) {
      if (i == 0) continue;
      const Write w = write_number(i);
      Result<std::optional<FieldView>> f = e.value()->read_field(w.record, w.field);
      REQUIRE(f.ok());
      REQUIRE(f->has_value());
      CHECK((*f)->value == w.value);
    }
  }
  // Every write is there, once, in order, with its state.
  Options o;
  Result<std::unique_ptr<Engine>> e = Engine::open(path, o);
  REQUIRE(e.ok());
  Result<std::vector<Op>> ops = e.value()->ops_after(0, 100'000'000);
  REQUIRE(ops.ok());
  REQUIRE(ops->size() >= acknowledged);
  for (std::size_t k = 0; k < ops->size(); ++k) {
    REQUIRE(ops->at(k).id.seq == k + 1);
    REQUIRE(ops->at(k).value == Value::integer(static_cast<std::int64_t>(k + 1)));
  }
  Result<std::vector<std::string>> records = e.value()->records_with_prefix("crash/");
  REQUIRE(records.ok());
  std::size_t fields = 0;
  for (const std::string& r : records.value()) fields += e.value()->read(r)->fields.size();
  CHECK(fields == ops->size());
  CHECK(acknowledged > static_cast<std::uint64_t>(kills));  // the child really made progress
}

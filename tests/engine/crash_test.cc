// Crash safety: a child process writes a long stream and is killed with SIGKILL at random
// moments; after each kill the store passes SQLite's integrity check and every write the child
// saw succeed is there, op and merged state alike. Once through the engine's writes, once
// through the domain's (notes added to visits and photos attached, as an inspector's app does).
#include <chrono>
#include <fcntl.h>
#include <functional>
#include <poll.h>
#include <random>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <visitsync/engine.h>
#include <visitsync/inspection.h>
#include <visitsync/photos.h>

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

// Runs `child` (which reports each acknowledged number on the fd it is given, and never
// returns) in a forked process, kills it with SIGKILL 20-80 ms in, and returns the highest
// number it reported, or `seen` if higher.
std::uint64_t run_and_kill(const std::function<void(int)>& child, std::mt19937_64& rng,
                           std::uint64_t seen) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    child(fds[1]);
    _exit(7);
  }
  close(fds[1]);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20 + rng() % 60);
  seen = drain(fds[0], until, seen);
  REQUIRE(kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  seen = drain(fds[0], std::chrono::steady_clock::now(), seen);
  close(fds[0]);
  REQUIRE(WIFSIGNALED(status));  // it was still writing, not dead of an error
  CHECK(WTERMSIG(status) == SIGKILL);
  return seen;
}

constexpr std::size_t kNotesPerVisit = 100;

// The notes a device's visits hold (the numbers n of notes "n<n>"), and the visit still taking
// notes (fewer than kNotesPerVisit), if any.
struct Notes {
  std::vector<std::uint64_t> numbers;
  std::string open_visit;
  std::size_t on_open_visit = 0;
};
Notes notes_held(Inspection& in) {
  Notes out;
  Result<std::vector<VisitView>> visits = in.visits();
  if (!visits.ok()) return out;
  for (const VisitView& v : visits.value()) {
    std::size_t here = 0;
    for (const Answer& a : v.answers) {
      if (a.item == nullptr || a.item->key != "inspector_notes") continue;
      for (const Version& note : a.versions) {
        out.numbers.push_back(std::stoull(note.value.as_text().substr(1)));
        ++here;
      }
    }
    if (here < kNotesPerVisit) {
      out.open_visit = v.id;
      out.on_open_visit = here;
    }
  }
  return out;
}

constexpr std::uint64_t kPhotoEvery = 20;

// The photo the child attaches before note i, when i is a multiple of kPhotoEvery.
std::string photo_of(std::uint64_t i) {
  return "\xFF\xD8\xFF\xE0" + std::string(20'000, static_cast<char>('a' + i % 26)) +
         std::to_string(i);
}

// The domain child: notes "n<i>" on visits of school S00001, kNotesPerVisit a visit, from one
// past the number of notes the store holds; before every kPhotoEvery-th note, a photo attached
// (add_attachment) and set as the visit's buildings_photo. Reports each i whose add_note (and
// photo) returned OK.
[[noreturn]] void note_forever(const std::string& data, int report) {
  Result<std::unique_ptr<Inspection>> in = Inspection::open(data);
  if (!in.ok()) _exit(3);
  Notes held = notes_held(*in.value());
  std::string visit = held.open_visit;
  std::size_t on_visit = held.on_open_visit;
  for (std::uint64_t i = held.numbers.size() + 1;; ++i) {
    if (visit.empty() || on_visit == kNotesPerVisit) {
      Result<std::string> v = in.value()->start_visit("S00001", "school-conditions");
      if (!v.ok()) _exit(4);
      visit = v.value();
      on_visit = 0;
    }
    if (i % kPhotoEvery == 0) {
      const std::string camera = data + "/camera.jpg";
      std::FILE* f = std::fopen(camera.c_str(), "wb");
      const std::string bytes = photo_of(i);
      if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) _exit(8);
      std::fclose(f);
      Result<std::string> id = in.value()->add_attachment(camera);
      if (!id.ok() || !in.value()->set_answer(visit, "buildings_photo", id.value()).ok()) _exit(9);
    }
    if (!in.value()->add_note(visit, "inspector_notes", "n" + std::to_string(i)).ok()) _exit(5);
    ++on_visit;
    if (write(report, &i, sizeof i) != static_cast<ssize_t>(sizeof i)) _exit(6);
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
  const int kills = test::property_rounds(100);  // the domain's loop below makes 200
  for (int round = 0; round < kills; ++round) {
    INFO("kill " << round);
    acknowledged =
        run_and_kill([&](int report) { write_forever(path, report); }, rng, acknowledged);

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

TEST_CASE("notes and photos whose calls returned survive SIGKILL at random moments",
          "[engine][crash]") {
  test::TempDir dir;
  const std::string data = dir.file("device");
  {
    Result<std::unique_ptr<Inspection>> in =
        Inspection::create(data, "dev-crash", "standalone", "I0011", Role::kInspector);
    REQUIRE(in.ok());
    for (const char* kind : {"schools", "inspectors", "assignments"}) {
      REQUIRE(in.value()
                  ->import_reference_file(*parse_reference_kind(kind),
                                          test::sample_dir() + "/" + kind + ".csv")
                  .ok());
    }
    REQUIRE(in.value()
                ->publish_template(test::slurp(test::templates_dir() + "/school-conditions.json"))
                .ok());
  }
  const std::uint64_t seed = test::seed();
  INFO("VS_SEED=" << seed);
  std::mt19937_64 rng(seed);
  std::uint64_t acknowledged = 0;
  const int kills = test::property_rounds(200);  // issue 13: at least 200 kills
  for (int round = 0; round < kills; ++round) {
    INFO("kill " << round);
    acknowledged = run_and_kill([&](int report) { note_forever(data, report); }, rng, acknowledged);
    Result<std::unique_ptr<Inspection>> in = Inspection::open(data);
    REQUIRE(in.ok());
    REQUIRE(in.value()->engine().check_integrity().ok());
    // Every note once: 1..N with nothing missing or twice, N at least what was acknowledged.
    Notes held = notes_held(*in.value());
    std::sort(held.numbers.begin(), held.numbers.end());
    REQUIRE(held.numbers.size() >= acknowledged);
    for (std::size_t k = 0; k < held.numbers.size(); ++k) REQUIRE(held.numbers[k] == k + 1);
    // Every photo attached before an acknowledged note: its file whole, under its hash.
    for (std::uint64_t k = kPhotoEvery; k <= acknowledged; k += kPhotoEvery) {
      const std::string id = sha256_hex(photo_of(k));
      INFO("photo of note " << k);
      REQUIRE(has_photo(data, id));
      REQUIRE(test::slurp(photo_folder(data) + "/" + id) == photo_of(k));
    }
  }
  CHECK(acknowledged > static_cast<std::uint64_t>(kills));  // the child really made progress
  std::printf("crash loop: %d kills, %llu notes and %llu photos acknowledged, every one there\n",
              kills, static_cast<unsigned long long>(acknowledged),
              static_cast<unsigned long long>(acknowledged / kPhotoEvery));
}

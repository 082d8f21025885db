// visitsync sync: one sync with the hub, or, with --retry-for, as many attempts as that time
// allows, on the replicator's schedule (transport/replicator.h), until one succeeds.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <unistd.h>

#include <visitsync/inspection.h>
#include <visitsync/photos.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>
#include <visitsync/transport/replicator.h>

#include "commands.h"

namespace vs::device_cli {
namespace {

constexpr const char* kTool = "visitsync";
// The longest --retry-for: a day.
constexpr std::int64_t kMaxRetryForS = 86'400;

std::string summary(const SyncReport& r, std::size_t conflicts) {
  std::string out =
      "synced with " + r.hub_id + ": pushed " + std::to_string(r.pushed) + " ops, pulled " +
      std::to_string(r.pulled) + " (" + std::to_string(r.applied) + " new); " +
      std::to_string(r.bytes_sent) + " bytes sent, " + std::to_string(r.bytes_received) +
      " received; " + std::to_string(conflicts) + " conflicts open" +
      (r.photos_sent > 0 ? "; " + std::to_string(r.photos_sent) + " photos sent" : "") +
      (r.photos_received > 0 ? "; " + std::to_string(r.photos_received) + " photos fetched" : "") +
      "\n";
  for (const auto& [id, reason] : r.photos_refused)
    out += "photo " + id.substr(0, 12) + " refused by the hub: " + reason + "\n";
  for (const auto& [id, reason] : r.fetch_refused)
    out += "photo " + id.substr(0, 12) + " not fetched: " + reason + "\n";
  if (r.photos_not_yet > 0)
    out += std::to_string(r.photos_not_yet) +
           " photos asked for have not reached the hub yet (the next sync asks again)\n";
  if (!r.rejected.empty()) {
    out += std::to_string(r.rejected.size()) + " ops rejected by the hub (kept on this device):\n";
    for (const auto& [seq, reason] : r.rejected)
      out += "  op " + std::to_string(seq) + ": " + reason + "\n";
  }
  constexpr std::int64_t kSkewWarnMs = std::int64_t{5} * 60'000;
  if (r.skew_ms > kSkewWarnMs || r.skew_ms < -kSkewWarnMs) {
    out += "warning: this device's clock is " +
           std::to_string((r.skew_ms < 0 ? -r.skew_ms : r.skew_ms) / 60'000) + " minutes " +
           (r.skew_ms > 0 ? "ahead of" : "behind") + " the hub's; set it right\n";
  }
  return out;
}

// What an inspector can do after a failed sync, if anything.
std::string retry_hint(const Status& s) {
  if (const std::optional<std::chrono::seconds> wait = hub_busy_retry(s))
    return " (nothing is lost: sync again in " + std::to_string(wait->count()) + " s)";
  if (s.code() == Code::kUnavailable) return " (nothing is lost: sync again when the link is back)";
  return "";
}

// Attempts until one succeeds or `retry_for` passes, each failure reported on stderr. When the
// time ran out, `hint` says so.
Result<SyncReport> sync_retrying(Engine& engine, const Enrollment& e, SyncOptions options,
                                 std::chrono::seconds retry_for, std::string& hint) {
  std::optional<SyncReport> done;
  ReplicatorOptions o;
  o.sync = std::move(options);
  o.once = true;
  o.first_retry = std::chrono::seconds(2);
  o.max_retry = std::chrono::seconds(60);
  o.pull_every = std::chrono::milliseconds(0);
  o.on_synced = [&](const SyncReport& r) { done = r; };
  o.on_status = [progress = o.sync.progress](const ReplicatorStatus& s) {
    if (s.state == ReplicatorState::kOffline) {
      std::fprintf(stderr, "%s: attempt %u failed: %s; trying again in %.1f s\n", kTool, s.failures,
                   s.last_error.message().c_str(), static_cast<double>(s.retry_in.count()) / 1000);
    } else if (s.state == ReplicatorState::kBusy && progress) {
      progress(s.progress);
    }
  };
  Replicator r([&](const SyncOptions& so) { return sync_with_hub(engine, e, so); }, o);
  r.start();
  const bool stopped = r.wait_stopped(retry_for);
  r.stop();
  if (done) return *done;
  const ReplicatorStatus last = r.status();
  if (last.last_error.ok()) return Status::unavailable("no attempt ended in time");
  if (!stopped) {
    hint = " (gave up after " + std::to_string(retry_for.count()) + " s and " +
           std::to_string(last.failures) + " attempts; nothing is lost)";
  }
  return last.last_error;
}

Status run(const cli::Args& a) {
  if (Status s = a.expect(0, "no arguments"); !s.ok()) return s;
  Result<std::int64_t> retry_for = a.number("retry-for", 0);
  if (!retry_for.ok()) return retry_for.status();
  if (retry_for.value() < 0 || retry_for.value() > kMaxRetryForS) {
    return Status::invalid_input("--retry-for: " + std::to_string(retry_for.value()) +
                                 " is not from 0 to " + std::to_string(kMaxRetryForS) + " seconds");
  }
  Result<std::string> dir = a.need("data");
  if (!dir.ok()) return dir.status();
  Result<std::unique_ptr<Inspection>> in = Inspection::open(dir.value());
  if (!in.ok()) return in.status();
  if (in.value()->mode() != "enrolled") {
    return Status::invalid_input("this device is " + in.value()->mode() +
                                 ": only an enrolled device syncs (init --enroll)");
  }
  Result<Enrollment> e = read_enrollment_file(
      (std::filesystem::path(in.value()->data_dir()) / kEnrollmentFile).string());
  if (!e.ok()) return e.status();
  SyncOptions options;
  options.photos_dir = photo_folder(in.value()->data_dir());
  const bool terminal = isatty(STDERR_FILENO) == 1;
  if (terminal) {
    options.progress = [](const SyncProgress& p) {
      std::fprintf(stderr, "\rsyncing: %llu of %llu ops pushed, %llu pulled",
                   static_cast<unsigned long long>(p.pushed),
                   static_cast<unsigned long long>(p.to_push),
                   static_cast<unsigned long long>(p.pulled));
      if (p.photo_bytes_sent > 0)
        std::fprintf(stderr, "; photos: %llu sent (%llu KB)",
                     static_cast<unsigned long long>(p.photos_sent),
                     static_cast<unsigned long long>(p.photo_bytes_sent / 1000));
      if (p.photos_to_fetch > 0)
        std::fprintf(stderr, "; %llu of %llu fetched (%llu KB)",
                     static_cast<unsigned long long>(p.photos_received),
                     static_cast<unsigned long long>(p.photos_to_fetch),
                     static_cast<unsigned long long>(p.photo_bytes_received / 1000));
      std::fputs("   ", stderr);
    };
  }
  Engine& engine = in.value()->engine();
  std::string hint;
  Result<SyncReport> r =
      retry_for.value() > 0
          ? sync_retrying(engine, e.value(), options, std::chrono::seconds(retry_for.value()), hint)
          : sync_with_hub(engine, e.value(), options);
  if (terminal) std::fprintf(stderr, "\r%110s\r", "");
  if (!r.ok()) {
    return Status(r.status().code(),
                  "sync with " + e->hub_host + ":" + std::to_string(e->hub_port) + " failed: " +
                      r.status().message() + (hint.empty() ? retry_hint(r.status()) : hint));
  }
  Result<std::vector<Flag>> flags = in.value()->flags();
  const std::string out = summary(r.value(), flags.ok() ? flags->size() : 0);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (Status gc = collect_photo_garbage_daily(engine, in.value()->data_dir()); !gc.ok())
    std::fprintf(stderr, "%s: warning: photo garbage collection: %s (nothing was lost)\n", kTool,
                 gc.to_string().c_str());
  // Refused ops are acknowledged, so they are reported by this sync only (and by status).
  if (!r->rejected.empty()) {
    return Status::rejected("the hub refused " + std::to_string(r->rejected.size()) +
                            " ops (listed above); they stay on this device");
  }
  return Status();
}

}  // namespace

int cmd_sync(const cli::Args& a) { return cli::finish(kTool, run(a)); }

}  // namespace vs::device_cli

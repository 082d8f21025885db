// The C API's replicator and change observers (visitsync.h), over vs::Replicator
// (transport/replicator.h): one per handle, syncing on a connection of its own.
#include <filesystem>

#include <nlohmann/json.hpp>

#include <visitsync/photos.h>
#include <visitsync/transport/deployment.h>

#include "handle.h"
#include "render.h"

namespace vs::capi {
namespace {

thread_local bool t_in_callback = false;

// Marks the current thread as inside a replicator callback for the scope's life.
struct CallbackScope {
  CallbackScope() { t_in_callback = true; }
  ~CallbackScope() { t_in_callback = false; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;
  CallbackScope(CallbackScope&&) = delete;
  CallbackScope& operator=(CallbackScope&&) = delete;
};

}  // namespace

bool in_replicator_callback() { return t_in_callback; }

std::vector<std::string> visits_of(const std::vector<std::string>& records) {
  std::vector<std::string> visits;
  for (const std::string& r : records) {
    if (std::optional<std::string> v = visit_of_record(r)) visits.push_back(std::move(*v));
  }
  return visits;
}

void tell_changes(vs_db* db, const std::vector<std::string>& records) {
  const std::vector<std::string> visits = visits_of(records);
  if (visits.empty()) return;
  vs_changes_fn fn = nullptr;
  void* ctx = nullptr;
  {
    std::lock_guard<std::mutex> lock(db->observer_mu);
    fn = db->on_changes;
    ctx = db->changes_ctx;
  }
  if (fn == nullptr) return;
  std::vector<const char*> ids;
  ids.reserve(visits.size());
  for (const std::string& v : visits) ids.push_back(v.c_str());
  fn(ctx, ids.data(), ids.size());
}

void end_background(vs_db* db) {
  std::unique_ptr<vs_background> bg;
  {
    std::lock_guard<std::mutex> lock(db->mu);
    bg = std::move(db->background);
  }
  bg.reset();  // the replicator's destructor stops its thread and waits for it
}

}  // namespace vs::capi

namespace {

using vs::Result;
using vs::Status;
using namespace vs::capi;
using std::chrono::milliseconds;

vs_replicator_state state_of(vs::ReplicatorState s) {
  switch (s) {
    case vs::ReplicatorState::kStopped:
      return VS_REPLICATOR_STOPPED;
    case vs::ReplicatorState::kOffline:
      return VS_REPLICATOR_OFFLINE;
    case vs::ReplicatorState::kConnecting:
      return VS_REPLICATOR_CONNECTING;
    case vs::ReplicatorState::kBusy:
      return VS_REPLICATOR_BUSY;
    case vs::ReplicatorState::kIdle:
      return VS_REPLICATOR_IDLE;
  }
  return VS_REPLICATOR_STOPPED;
}

vs_sync_progress progress_of(const vs::SyncProgress& p) {
  return vs_sync_progress{p.pushed, p.to_push, p.pulled, p.bytes_sent, p.bytes_received};
}

vs_photo_progress photos_of(const vs::SyncProgress& p) {
  return vs_photo_progress{p.photos_sent, p.photo_bytes_sent, p.photos_received,
                           p.photo_bytes_received, p.photos_to_fetch};
}

// The options given, checked, as the replicator's; or the defaults.
Result<vs::ReplicatorOptions> options_of(const vs_replicator_options* given) {
  vs_replicator_options o;
  vs_replicator_options_init(&o);
  if (given != nullptr) {
    if (given->size != sizeof(vs_replicator_options)) {
      return Status::invalid_input("options->size is " + std::to_string(given->size) +
                                   ", not sizeof(vs_replicator_options) (" +
                                   std::to_string(sizeof(vs_replicator_options)) + ")");
    }
    o = *given;
  }
  if (o.max_retry_ms > 86'400'000u)
    return Status::invalid_input("options->max_retry_ms is over a day (86400000)");
  if (o.first_retry_ms < 100 || o.first_retry_ms > o.max_retry_ms)
    return Status::invalid_input("options->first_retry_ms is not from 100 to max_retry_ms");
  if (o.debounce_ms > 60'000) return Status::invalid_input("options->debounce_ms is over 60000");
  if (o.pull_every_ms != 0 && (o.pull_every_ms < 1000 || o.pull_every_ms > 86'400'000u))
    return Status::invalid_input("options->pull_every_ms is not 0 or from 1000 to 86400000");
  vs::ReplicatorOptions r;
  r.first_retry = milliseconds(o.first_retry_ms);
  r.max_retry = milliseconds(o.max_retry_ms);
  r.debounce = milliseconds(o.debounce_ms);
  r.pull_every = milliseconds(o.pull_every_ms);
  if (o.on_status != nullptr) {
    r.on_status = [fn = o.on_status, ctx = o.status_ctx](const vs::ReplicatorStatus& s) {
      const std::string message = s.last_error.message();
      const vs_replicator_status c{state_of(s.state),
                                   progress_of(s.progress),
                                   s.failures,
                                   static_cast<std::uint64_t>(s.retry_in.count()),
                                   static_cast<vs_code>(s.last_error.code()),
                                   message.c_str(),
                                   s.last_sync_ms,
                                   s.syncs,
                                   photos_of(s.progress)};
      CallbackScope scope;
      fn(ctx, &c);
    };
  }
  return r;
}

std::string status_json(const vs::ReplicatorStatus& s) {
  nlohmann::json error = nullptr;
  if (!s.last_error.ok()) {
    error = {{"code", vs::code_name(s.last_error.code())}, {"message", s.last_error.message()}};
  }
  nlohmann::json last_sync = nullptr;
  if (s.last_sync_ms > 0) last_sync = vs::cli::utc_time(s.last_sync_ms);
  const nlohmann::json j = {{"state", std::string(vs::replicator_state_name(s.state))},
                            {"pushed", s.progress.pushed},
                            {"to_push", s.progress.to_push},
                            {"pulled", s.progress.pulled},
                            {"bytes_sent", s.progress.bytes_sent},
                            {"bytes_received", s.progress.bytes_received},
                            {"failures", s.failures},
                            {"retry_in_ms", s.retry_in.count()},
                            {"last_error", error},
                            {"last_sync", last_sync},
                            {"syncs", s.syncs},
                            {"photos",
                             {{"sent", s.progress.photos_sent},
                              {"bytes_sent", s.progress.photo_bytes_sent},
                              {"received", s.progress.photos_received},
                              {"bytes_received", s.progress.photo_bytes_received},
                              {"to_fetch", s.progress.photos_to_fetch}}}};
  return j.dump();
}

}  // namespace

extern "C" {

void vs_replicator_options_init(vs_replicator_options* options) {
  if (options == nullptr) return;
  *options = vs_replicator_options{};
  options->size = sizeof(vs_replicator_options);
  options->first_retry_ms = 2'000;
  options->max_retry_ms = 300'000;
  options->debounce_ms = 1'000;
  options->pull_every_ms = 300'000;
}

vs_code vs_observe_changes(vs_db* db, vs_changes_fn fn, void* ctx, char** error) {
  return with_db("vs_observe_changes", db, error, [&](vs::Inspection&) -> Status {
    std::lock_guard<std::mutex> lock(db->observer_mu);
    db->on_changes = fn;
    db->changes_ctx = ctx;
    return Status();
  });
}

vs_code vs_replicator_start(vs_db* db, const vs_replicator_options* options, char** error) {
  return with_db("vs_replicator_start", db, error, [&](vs::Inspection& in) -> Status {
    Result<vs::ReplicatorOptions> o = options_of(options);
    if (!o.ok()) return o.status();
    if (in.mode() != "enrolled") {
      return Status::invalid_input("this device is " + in.mode() +
                                   ": only an enrolled device syncs (vs_enroll_file)");
    }
    if (db->background != nullptr) {
      // One that stopped by itself is replaced; its thread has ended, so this waits for nothing.
      if (!db->background->replicator->wait_stopped(milliseconds(0)))
        return Status::invalid_input("the replicator runs already (vs_replicator_stop)");
      db->background.reset();
    }
    Result<vs::Enrollment> e = vs::read_enrollment_file(
        (std::filesystem::path(db->data_dir) / vs::kEnrollmentFile).string());
    if (!e.ok()) return e.status();
    auto bg = std::make_unique<vs_background>();
    Result<std::unique_ptr<vs::Inspection>> own =
        vs::Inspection::open(db->data_dir, nullptr, durability_of(db->options));
    if (!own.ok()) return own.status();
    bg->in = std::move(own.value());
    o->on_synced = [db](const vs::SyncReport& r) {
      CallbackScope scope;
      tell_changes(db, r.changed);
    };
    vs::Engine& engine = bg->in->engine();
    bg->replicator = std::make_unique<vs::Replicator>(
        [&engine, enrollment = e.value(), dir = db->data_dir](const vs::SyncOptions& so) {
          vs::SyncOptions with_photos = so;
          with_photos.photos_dir = vs::photo_folder(dir);
          Result<vs::SyncReport> r = vs::sync_with_hub(engine, enrollment, with_photos);
          // Not the sync's failure: a collection that failed loses nothing and runs again.
          if (r.ok()) (void)vs::collect_photo_garbage_daily(engine, dir);
          return r;
        },
        o.value());
    bg->replicator->start();
    db->background = std::move(bg);
    return Status();
  });
}

vs_code vs_replicator_stop(vs_db* db, char** error) {
  return call("vs_replicator_stop", error, [&]() -> Status {
    if (db == nullptr) return Status::invalid_input("db is NULL");
    if (in_replicator_callback()) {  // its thread ends once the callback returns
      std::lock_guard<std::mutex> lock(db->mu);
      if (db->background != nullptr) db->background->replicator->stop();
      return Status();
    }
    end_background(db);
    return Status();
  });
}

vs_code vs_replicator_retry_now(vs_db* db, char** error) {
  return with_db("vs_replicator_retry_now", db, error, [&](vs::Inspection&) -> Status {
    if (db->background == nullptr)
      return Status::invalid_input("the replicator is not running (vs_replicator_start)");
    db->background->replicator->retry_now();
    return Status();
  });
}

vs_code vs_replicator_status_json(vs_db* db, char** json, char** error) {
  return with_db("vs_replicator_status_json", db, error, [&](vs::Inspection&) -> Status {
    const vs::ReplicatorStatus s =
        db->background != nullptr ? db->background->replicator->status() : vs::ReplicatorStatus{};
    return give(json, status_json(s), "json");
  });
}

}  // extern "C"

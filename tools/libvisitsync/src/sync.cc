// vs_sync (visitsync.h): one sync with the hub, on a connection of its own so that the handle
// stays free for writes while it runs.
#include <filesystem>

#include <nlohmann/json.hpp>

#include <visitsync/photos.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "handle.h"

namespace {

using vs::Result;
using vs::Status;
using namespace vs::capi;

std::string report_json(const vs::SyncReport& r) {
  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& [seq, reason] : r.rejected)
    rejected.push_back({{"seq", seq}, {"reason", reason}});
  const nlohmann::json changed = visits_of(r.changed);
  nlohmann::json photos_refused = nlohmann::json::array();
  for (const auto& [id, reason] : r.photos_refused)
    photos_refused.push_back({{"photo", id}, {"reason", reason}});
  for (const auto& [id, reason] : r.fetch_refused)
    photos_refused.push_back({{"photo", id}, {"reason", reason}});
  const nlohmann::json j = {{"hub_id", r.hub_id},
                            {"pushed", r.pushed},
                            {"pulled", r.pulled},
                            {"applied", r.applied},
                            {"bytes_sent", r.bytes_sent},
                            {"bytes_received", r.bytes_received},
                            {"skew_ms", r.skew_ms},
                            {"rejected", rejected},
                            {"changed", changed},
                            {"photos_sent", r.photos_sent},
                            {"photos_refused", photos_refused},
                            {"photos_fetched", r.photos_received},
                            {"photos_not_yet", r.photos_not_yet}};
  return j.dump();
}

}  // namespace

extern "C" vs_code vs_sync(vs_db* db, vs_progress_fn progress, void* progress_ctx,
                           vs_cancel* cancel, char** report, char** error) {
  return call("vs_sync", error, [&]() -> Status {
    if (report != nullptr) *report = nullptr;
    if (db == nullptr) return Status::invalid_input("db is NULL");
    std::string dir;
    vs_open_options o{};
    {
      std::lock_guard<std::mutex> lock(db->mu);
      Result<vs::Inspection*> in = open_of(db);
      if (!in.ok()) return in.status();
      if (in.value()->mode() != "enrolled") {
        return Status::invalid_input("this device is " + in.value()->mode() +
                                     ": only an enrolled device syncs (vs_enroll_file)");
      }
      dir = db->data_dir;
      o = db->options;
    }
    Result<std::unique_ptr<vs::Inspection>> own =
        vs::Inspection::open(dir, nullptr, durability_of(o));
    if (!own.ok()) return own.status();
    Result<vs::Enrollment> e =
        vs::read_enrollment_file((std::filesystem::path(dir) / vs::kEnrollmentFile).string());
    if (!e.ok()) return e.status();
    vs::SyncOptions so;
    so.photos_dir = vs::photo_folder(dir);
    so.cancel = cancel != nullptr ? &cancel->flag : nullptr;
    if (progress != nullptr) {
      so.progress = [&](const vs::SyncProgress& p) {
        const vs_sync_progress c{p.pushed, p.to_push, p.pulled, p.bytes_sent, p.bytes_received};
        progress(progress_ctx, &c);
      };
    }
    const std::string hub = e->hub_host + ":" + std::to_string(e->hub_port);
    Result<vs::SyncReport> r = vs::sync_with_hub(own.value()->engine(), e.value(), so);
    if (!r.ok()) {
      log_line(o, 2, "sync with " + hub + " failed: " + r.status().message());
      return r.status().annotated("sync with " + hub);
    }
    log_line(o, 0,
             "synced with " + r->hub_id + ": pushed " + std::to_string(r->pushed) +
                 " ops, pulled " + std::to_string(r->pulled) + " (" + std::to_string(r->applied) +
                 " new)");
    for (const auto& [seq, reason] : r->rejected)
      log_line(o, 1, "op " + std::to_string(seq) + " refused by the hub: " + reason);
    tell_changes(db, r->changed);
    if (report != nullptr) {
      if (Status s = give(report, report_json(r.value()), "report"); !s.ok()) return s;
    }
    if (!r->rejected.empty()) {
      return Status::rejected("the hub refused " + std::to_string(r->rejected.size()) +
                              " ops (in the report); they stay on this device");
    }
    return Status();
  });
}

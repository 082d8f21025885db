// Which photos are named (photos.h): by the visits' answers, by a replica's own ops not yet on
// the hub, by requests; and the garbage collection that keeps them.
#include <algorithm>
#include <charconv>
#include <set>

#include <visitsync/engine.h>
#include <visitsync/photos.h>

#include "domain/model.h"

namespace vs {
namespace {

constexpr std::size_t kOpsPerRead = 10'000;

bool is_answer(std::string_view field) { return field.rfind(domain::kAnswerPrefix, 0) == 0; }

void add_ids(const Value& v, std::vector<std::string>& out) {
  if (v.kind() != Value::Kind::kSet) return;
  for (const std::string& id : v.as_set())
    if (is_photo_id(id)) out.push_back(id);
}

// Photos this replica's own ops name that the hub has not taken.
Status add_unsent(Engine& engine, std::set<std::string>& named) {
  for (std::uint64_t after = 0;;) {
    Result<std::vector<Op>> ops = engine.ops_after(after, kOpsPerRead);
    if (!ops.ok()) return ops.status();
    if (ops->empty()) return Status();
    after = ops->back().id.seq;
    for (const Op& op : ops.value()) {
      if (!is_answer(op.field)) continue;
      std::vector<std::string> ids;
      add_ids(op.value, ids);
      for (std::string& id : ids) {
        if (named.count(id) > 0) continue;
        Result<std::string> up = engine.setting(kPhotoUpPrefix + id);
        if (!up.ok()) return up.status();
        if (up->empty()) named.insert(std::move(id));
      }
    }
  }
}

}  // namespace

std::vector<std::string> photos_named_by(const RecordView& r) {
  std::vector<std::string> out;
  for (const FieldView& f : r.fields) {
    if (!is_answer(f.field)) continue;
    add_ids(f.value, out);
    for (const Version& v : f.versions) add_ids(v.value, out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<NamedPhoto>> named_photos(Engine& engine) {
  Result<std::vector<std::string>> keys = engine.records_with_prefix(domain::kVisitPrefix);
  if (!keys.ok()) return keys.status();
  std::vector<NamedPhoto> out;
  std::set<std::string> seen;
  for (const std::string& key : keys.value()) {
    Result<RecordView> r = engine.read(key);
    if (!r.ok()) return r.status();
    for (std::string& id : photos_named_by(r.value()))
      if (seen.insert(id).second) out.push_back(NamedPhoto{std::move(id), key});
  }
  std::sort(out.begin(), out.end(),
            [](const NamedPhoto& a, const NamedPhoto& b) { return a.id < b.id; });
  return out;
}

Status request_photo(Engine& engine, const std::string& data_dir, std::string_view id) {
  if (!is_photo_id(id))
    return Status::invalid_input("'" + std::string(id.substr(0, 80)) +
                                 "' is not a photo id (64 lowercase hex digits)");
  if (has_photo(data_dir, id)) return Status();
  Result<std::vector<NamedPhoto>> named = named_photos(engine);
  if (!named.ok()) return named.status();
  const auto it =
      std::lower_bound(named->begin(), named->end(), id,
                       [](const NamedPhoto& p, std::string_view want) { return p.id < want; });
  if (it == named->end() || it->id != id)
    return Status::not_found("no visit on this device names photo " + std::string(id));
  return engine.set_setting(kPhotoFetchPrefix + std::string(id), it->record);
}

Result<std::string> photo_download_mode(Engine& engine) {
  Result<std::string> mode = engine.setting(kPhotoDownloadSetting);
  if (!mode.ok()) return mode.status();
  return mode.value() == "eager" ? std::string("eager") : std::string("lazy");
}

Status set_photo_download_mode(Engine& engine, std::string_view mode) {
  if (mode != "eager" && mode != "lazy")
    return Status::invalid_input("photo downloads are 'eager' or 'lazy', not '" +
                                 std::string(mode.substr(0, 80)) + "'");
  return engine.set_setting(kPhotoDownloadSetting, mode);
}

Result<PhotoGarbage> collect_photo_garbage(Engine& engine, const std::string& data_dir,
                                           std::int64_t grace_s) {
  std::set<std::string> named;
  Result<std::vector<NamedPhoto>> answers = named_photos(engine);
  if (!answers.ok()) return answers.status();
  for (NamedPhoto& p : answers.value()) named.insert(std::move(p.id));
  if (Status s = add_unsent(engine, named); !s.ok()) return s;
  Result<std::vector<std::pair<std::string, std::string>>> asked =
      engine.settings_with_prefix(kPhotoFetchPrefix);
  if (!asked.ok()) return asked.status();
  for (const auto& [name, record] : asked.value())
    if (!record.empty()) named.insert(name.substr(std::string_view(kPhotoFetchPrefix).size()));
  Result<std::unique_ptr<PhotoStore>> store = PhotoStore::open(photo_folder(data_dir));
  if (!store.ok()) return store.status();
  return store.value()->collect_garbage(named, grace_s);
}

Result<bool> photo_gc_due(Engine& engine) {
  Result<std::string> last = engine.setting(kPhotoGcSetting);
  if (!last.ok()) return last.status();
  const std::int64_t now = engine.wall_ms();
  std::int64_t at = 0;
  const auto [end, ec] = std::from_chars(last->data(), last->data() + last->size(), at);
  // Unset, unreadable, or from the future (a clock set back): due.
  return ec != std::errc() || end != last->data() + last->size() || at > now ||
         now - at >= 86'400'000;
}

Status photo_gc_done(Engine& engine) {
  return engine.set_setting(kPhotoGcSetting, std::to_string(engine.wall_ms()));
}

Status collect_photo_garbage_daily(Engine& engine, const std::string& data_dir) {
  Result<bool> due = photo_gc_due(engine);
  if (!due.ok() || !due.value()) return due.status();
  Result<PhotoGarbage> g = collect_photo_garbage(engine, data_dir, kPhotoGraceS);
  if (!g.ok()) return g.status();
  return photo_gc_done(engine);
}

}  // namespace vs

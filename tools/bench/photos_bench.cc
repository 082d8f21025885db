// visitsync-bench photos: a day's work (--visits workload visits, then --photos photos of
// --photo-kb each on visits of a photo checklist) sent from one device to the real
// visitsync-hub process through a fault proxy on loopback (tests/support/fault_proxy.h) that
// caps each direction at --kbit, delays each way by half of --rtt-ms, and cuts a session once
// about --cut-kb have passed (each cut point drawn between half and one and a half of it). The
// device syncs again at once after each cut, until every photo is on the hub. Defaults: 20
// photos of 300 KB, 2,000 kbit/s, 300 ms, a cut every ~1,000 KB; the 2G case is
// `--kbit 64 --rtt-ms 600 --cut-kb 100` (with fewer photos: 64 kbit/s moves 8 KB a second).
#include <algorithm>
#include <chrono>
#include <random>

#include <visitsync/photos.h>

#include "bench.h"
#include "deployment.h"
#include "support/fault_proxy.h"
#include "workload.h"

namespace vs::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kPhotoTemplate = R"({"template_id": "bench-photos", "version": 1,
  "title": {"zh": "现场照片", "en": "Photos"}, "applies_to": ["primary"],
  "sections": [{"key": "evidence", "title": {"zh": "照片", "en": "Photos"},
    "items": [{"key": "photos", "type": "photo", "max_count": 50, "merge": "union",
               "label": {"zh": "照片", "en": "Photos"}}]}]})";
constexpr std::size_t kPhotosPerVisit = 4;

// JPEG-like bytes that do not compress (a real photo does not either).
std::string photo_bytes(std::size_t n, std::mt19937_64& rng) {
  std::string b = "\xFF\xD8\xFF\xE0";
  while (b.size() < n) b.push_back(static_cast<char>(rng()));
  b.resize(n);
  return b;
}

// The day on the device: the workload's visits, then photo visits naming the photos.
Result<std::vector<std::string>> record_day(Inspection& in, const Workload& w,
                                            const BenchArgs& args, std::mt19937_64& rng,
                                            std::uint64_t& photo_bytes_total) {
  for (const WorkloadVisit& v : w.visits) {
    Result<std::vector<OpId>> ids = in.engine().write_batch(visit_writes(w, v));
    if (!ids.ok()) return ids.status();
  }
  Result<std::unique_ptr<PhotoStore>> store = PhotoStore::open(photo_folder(in.data_dir()));
  if (!store.ok()) return store.status();
  std::vector<std::string> ids;
  for (int p = 0; p < args.photos; p += static_cast<int>(kPhotosPerVisit)) {
    const WorkloadVisit& v =
        w.visits[static_cast<std::size_t>(p) / kPhotosPerVisit % w.visits.size()];
    const std::string key = "visit/" + v.school_id + "/" + v.id + "-p" + std::to_string(p);
    std::vector<Write> writes = visit_start_writes(key, v.school_id, "bench-photos", v.started_ms);
    std::vector<std::string> named;
    for (int k = p; k < std::min<int>(args.photos, p + static_cast<int>(kPhotosPerVisit)); ++k) {
      const std::string bytes = photo_bytes(static_cast<std::size_t>(args.photo_kb) * 1000, rng);
      Result<std::string> id = store.value()->put(bytes);
      if (!id.ok()) return id.status();
      photo_bytes_total += bytes.size();
      named.push_back(id.value());
      ids.push_back(id.value());
    }
    writes.push_back(Write{key, "a.photos", Policy::kUnion, Value::set(named), 1});
    Result<std::vector<OpId>> written = in.engine().write_batch(writes);
    if (!written.ok()) return written.status();
  }
  return ids;
}

}  // namespace

int run_photos_bench(const BenchArgs& args) {
  Result<Workload> w = bench_workload(args);
  if (!w.ok()) return fail_input(w.status());
  Result<std::unique_ptr<BenchDeployment>> made = BenchDeployment::create(
      args.work_dir + "/photos", w.value(), one_inspector_everywhere(w.value()), {kPhotoTemplate});
  if (!made.ok()) return fail(made.status());
  BenchDeployment& dep = *made.value();
  auto device = dep.add_device("device");
  if (!device.ok()) return fail(device.status());
  auto& [enrollment, in] = device.value();
  std::mt19937_64 rng(args.seed);
  std::uint64_t photo_total = 0;
  Result<std::vector<std::string>> ids = record_day(*in, w.value(), args, rng, photo_total);
  if (!ids.ok()) return fail(ids.status());
  if (Status s = dep.start_hub(args.tools_dir); !s.ok()) return fail(s);

  const std::size_t rate = static_cast<std::size_t>(args.kbit) * 1000 / 8;  // bytes a second
  test::FaultProxy proxy(enrollment.hub_port);
  proxy.set_rate(rate);
  proxy.set_delay(std::chrono::milliseconds(args.rtt_ms / 2),
                  std::chrono::milliseconds(args.rtt_ms - args.rtt_ms / 2));
  Enrollment via = enrollment;
  via.hub_port = proxy.port();
  const std::size_t cut_bytes = static_cast<std::size_t>(args.cut_kb) * 1000;

  SyncOptions o;
  o.photos_dir = photo_folder(in->data_dir());
  o.connect_timeout = o.handshake_timeout = std::chrono::seconds(60);
  o.io_timeout = std::chrono::seconds(120);
  std::uint64_t chunk_bytes = 0;    // photo chunk bytes sent, over every session
  std::uint64_t session_bytes = 0;  // of the session under way
  double ops_acked_s = -1;
  const auto t0 = Clock::now();
  o.progress = [&](const SyncProgress& p) {
    session_bytes = p.photo_bytes_sent;
    if (ops_acked_s < 0 && p.pushed == p.to_push)
      ops_acked_s = std::chrono::duration<double>(Clock::now() - t0).count();
  };
  int sessions = 0;
  bool all_there = false;
  while (!all_there && sessions < 10'000) {
    ++sessions;
    session_bytes = 0;
    proxy.cut_next_after_bytes(cut_bytes / 2 + static_cast<std::size_t>(rng() % (cut_bytes + 1)));
    Result<SyncReport> r = sync_with_hub(in->engine(), via, o);
    chunk_bytes += session_bytes;
    if (!r.ok() && r.status().code() != Code::kUnavailable) return fail(r.status());
    all_there = r.ok() && std::all_of(ids->begin(), ids->end(), [&](const std::string& id) {
                  return dep.store().photos().has(id);
                });
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!all_there) return fail(Status::internal("the photos did not all arrive"));
  // Whole and identical on the hub.
  for (const std::string& id : ids.value()) {
    Result<std::string> bytes = dep.store().photos().read_all(id);
    if (!bytes.ok() || sha256_hex(bytes.value()) != id)
      return fail(Status::internal("photo " + id + " differs on the hub"));
  }
  // The uplink carries the photos: its bytes at its rate are the time the link needs.
  const double link_time_s = static_cast<double>(proxy.bytes_up()) / static_cast<double>(rate);
  const std::uint64_t wire = proxy.bytes_up() + proxy.bytes_down();
  const std::uint64_t resent = chunk_bytes > photo_total ? chunk_bytes - photo_total : 0;
  JsonOut out;
  out.add("bench", "photos");
  out.add("photos", args.photos);
  out.add("photo_bytes", static_cast<double>(photo_total));
  out.add("visits", args.visits);
  out.add("kbit_s", args.kbit);
  out.add("rtt_ms", args.rtt_ms);
  out.add("cut_every_kb", args.cut_kb);
  out.add("sessions", sessions);
  out.add("cuts", static_cast<double>(proxy.cuts()));
  out.add("total_s", total_s);
  out.add("ops_acked_s", ops_acked_s);
  out.add("link_time_s", link_time_s);
  out.add("utilisation", link_time_s / total_s);
  out.add("wire_bytes", static_cast<double>(wire));
  out.add("wire_per_photo_byte", static_cast<double>(wire) / static_cast<double>(photo_total));
  out.add("resent_bytes", static_cast<double>(resent));
  out.add("resent_per_cut", proxy.cuts() == 0
                                ? 0.0
                                : static_cast<double>(resent) / static_cast<double>(proxy.cuts()));
  std::printf("%s\n", out.str().c_str());
  return 0;
}

}  // namespace vs::bench

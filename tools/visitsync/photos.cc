// visitsync photo ...: the photos of a device's data folder (tools/COMMANDS.md): get one, ask
// for one from the hub, choose eager or lazy downloads, and collect the garbage.
#include <cstdio>
#include <string>

#include <visitsync/inspection.h>
#include <visitsync/photos.h>

#include "commands.h"

namespace vs::device_cli {
namespace {

constexpr std::int64_t kDefaultGraceDays = 7;
constexpr std::int64_t kMaxGraceDays = 3650;

}  // namespace
int cmd_photo_get(const cli::Args& a) {
  return with_data(a, [&](Inspection& in) -> Status {
    if (Status s = a.expect(1, "PHOTO"); !s.ok()) return s;
    Result<std::string> out = a.need("out");
    if (!out.ok()) return out.status();
    return cli::write_photo(in.data_dir(), a.positional()[0], out.value(),
                            "`visitsync photo fetch` asks the hub for it at the next sync");
  });
}

int cmd_photo_fetch(const cli::Args& a) {
  return with_data(a, [&](Inspection& in) -> Status {
    if (Status s = a.expect(1, "PHOTO"); !s.ok()) return s;
    const std::string& id = a.positional()[0];
    if (has_photo(in.data_dir(), id)) {
      std::printf("photo %s is here already\n", id.c_str());
      return Status();
    }
    if (Status s = request_photo(in.engine(), in.data_dir(), id); !s.ok()) return s;
    std::printf("photo %s is asked for: the next sync fetches it\n", id.c_str());
    return Status();
  });
}

int cmd_photo_downloads(const cli::Args& a) {
  return with_data(a, [&](Inspection& in) -> Status {
    if (a.positional().size() > 1) return a.expect(1, "[eager|lazy]");
    if (a.positional().size() == 1) {
      if (Status s = set_photo_download_mode(in.engine(), a.positional()[0]); !s.ok()) return s;
    }
    Result<std::string> mode = photo_download_mode(in.engine());
    if (!mode.ok()) return mode.status();
    std::printf("photo downloads: %s (%s)\n", mode->c_str(),
                mode.value() == "eager" ? "every sync fetches the photos this device's visits name"
                                        : "a sync fetches only the photos asked for");
    return Status();
  });
}

int cmd_photo_gc(const cli::Args& a) {
  return with_data(a, [&](Inspection& in) -> Status {
    if (Status s = a.expect(0, ""); !s.ok()) return s;
    Result<std::int64_t> days = a.number("grace-days", kDefaultGraceDays);
    if (!days.ok()) return days.status();
    if (days.value() < 0 || days.value() > kMaxGraceDays)
      return Status::invalid_input("--grace-days must be from 0 to " +
                                   std::to_string(kMaxGraceDays));
    Result<PhotoGarbage> g =
        collect_photo_garbage(in.engine(), in.data_dir(), days.value() * 86'400);
    if (!g.ok()) return g.status();
    std::uint64_t bytes = 0;
    for (const auto& [id, size] : g->removed) bytes += size;
    std::printf("removed %zu photos (%llu bytes) and %zu partial transfers\n", g->removed.size(),
                static_cast<unsigned long long>(bytes), g->partials);
    return Status();
  });
}

}  // namespace vs::device_cli

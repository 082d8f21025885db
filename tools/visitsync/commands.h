// The device commands that have files of their own (tools/COMMANDS.md): repair, which heals a
// damaged store, sync, and the photo commands.
#pragma once

#include <functional>

#include <visitsync/inspection.h>

#include "args.h"

namespace vs::device_cli {

// Runs `body` on the data folder --data names; its Status becomes the exit code.
int with_data(const cli::Args& a, const std::function<Status(Inspection&)>& body);

int cmd_repair(const cli::Args& a);
int cmd_sync(const cli::Args& a);
int cmd_photo_get(const cli::Args& a);
int cmd_photo_fetch(const cli::Args& a);
int cmd_photo_downloads(const cli::Args& a);
int cmd_photo_gc(const cli::Args& a);

}  // namespace vs::device_cli

// The device commands that have files of their own (tools/COMMANDS.md): repair, which heals a
// damaged store, and sync.
#pragma once

#include "args.h"

namespace vs::device_cli {

int cmd_repair(const cli::Args& a);
int cmd_sync(const cli::Args& a);

}  // namespace vs::device_cli

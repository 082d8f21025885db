// visitsync repair: the command that heals a damaged store (tools/COMMANDS.md).
#pragma once

#include "args.h"

namespace vs::device_cli {

int cmd_repair(const cli::Args& a);

}  // namespace vs::device_cli

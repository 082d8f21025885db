// The visitsync-admin commands for the supervisor console (tools/COMMANDS.md, "The console"):
// its accounts and the metrics token. They work on the hub's store like every admin command,
// while the hub runs or not; a running hub sees a change at its next request.
#pragma once

#include <visitsync/status.h>

#include "args.h"

namespace vs::admin {

// console add --data H NAME (--supervisor PERSON | --admin) [--password-stdin]: makes (or
// resets) an account; prints its random initial password unless one is read from stdin.
Status cmd_console_add(const cli::Args& a);
// console remove --data H NAME
Status cmd_console_remove(const cli::Args& a);
// console list --data H
Status cmd_console_list(const cli::Args& a);
// console metrics-token --data H [--off]: makes a new token for /metrics and prints it once.
Status cmd_console_token(const cli::Args& a);

}  // namespace vs::admin

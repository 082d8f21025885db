// The visitsync-admin commands that make the deployment's CA or sign with it (tools/COMMANDS.md,
// "The CA folder"): init, enroll-device, enroll-request and enroll-sign. Each validates its
// arguments first (kInvalidInput naming the option) and changes nothing when it fails.
#pragma once

#include <visitsync/status.h>

#include "args.h"

namespace vs::admin {

// init --data H --hub-address HOST:PORT [--ca DIR]: the hub's store and tls/ folder in H, the
// deployment CA in DIR (default: default_ca_dir(H)).
Status cmd_init(const cli::Args& a);

// enroll-device --data H --inspector ID --out FILE [--ca DIR]: registers a device and signs its
// enrollment file with the CA in DIR, which must be the CA the hub trusts.
Status cmd_enroll(const cli::Args& a);

// enroll-request --data H --inspector ID --out FILE: registers a device and writes an
// enrollment request (no key) for a CA kept on another machine.
Status cmd_enroll_request(const cli::Args& a);

// enroll-sign --ca DIR --request FILE --out FILE: signs a request with the CA in DIR and writes
// the enrollment file. Needs no hub store.
Status cmd_enroll_sign(const cli::Args& a);

}  // namespace vs::admin

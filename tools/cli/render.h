// How the device command line shows visits, lists, flags and status, as text or JSON.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/inspection.h>
#include <visitsync/transport/client.h>

namespace vs::cli {

// "2026-12-02T16:20:05Z" for a wall-clock time in ms since 1970.
std::string utc_time(std::int64_t ms);

// Visits with where each stands with the hub (from vs::visit_sync_states(): a visit it does not
// name has nothing sent, waiting, refused or received; `sync` NULL likewise).
using VisitSyncs = std::map<std::string, VisitSync>;
std::string visit_text(const VisitView& v, const School* school, const VisitSync* sync);
// Inspection::to_json(v) with a "sync" object: unacked, refused [{seq, reason}], last_sent,
// last_received (UTC times, or null); on one line, as to_json.
std::string visit_json(const VisitView& v, const VisitSync* sync);
std::string visit_list_text(const std::vector<VisitView>& visits, const VisitSyncs& syncs);
std::string visit_list_json(const std::vector<VisitView>& visits, const VisitSyncs& syncs);
// Inspection::history(): one line per change (time, who or the device, item, old -> new), or
// a JSON array of {at, op, device, by, item, before: [..], after, round, review}.
std::string history_text(const std::vector<Change>& changes);
std::string history_json(const std::vector<Change>& changes);
std::string flags_text(const std::vector<Flag>& flags);
std::string flags_json(const std::vector<Flag>& flags);
// `refused`: own ops the hub refused (seq, reason), from vs::refused_ops().
using RefusedOps = std::vector<std::pair<std::uint64_t, std::string>>;
std::string status_text(const LocalStatus& s, const RefusedOps& refused);
std::string status_json(const LocalStatus& s, const RefusedOps& refused);

}  // namespace vs::cli

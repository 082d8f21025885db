// How the device command line shows visits, lists, flags and status, as text or JSON.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <visitsync/inspection.h>

namespace vs::cli {

std::string visit_text(const VisitView& v, const School* school);
std::string visit_list_text(const std::vector<VisitView>& visits);
std::string visit_list_json(const std::vector<VisitView>& visits);
std::string flags_text(const std::vector<Flag>& flags);
std::string flags_json(const std::vector<Flag>& flags);
// `refused`: own ops the hub refused (seq, reason), from vs::refused_ops().
using RefusedOps = std::vector<std::pair<std::uint64_t, std::string>>;
std::string status_text(const LocalStatus& s, const RefusedOps& refused);
std::string status_json(const LocalStatus& s, const RefusedOps& refused);

}  // namespace vs::cli

// How the device command line shows visits, lists, flags and status, as text or JSON.
#pragma once

#include <string>
#include <vector>

#include <visitsync/inspection.h>

namespace vs::cli {

std::string visit_text(const VisitView& v, const School* school);
std::string visit_list_text(const std::vector<VisitView>& visits);
std::string visit_list_json(const std::vector<VisitView>& visits);
std::string flags_text(const std::vector<Flag>& flags);
std::string flags_json(const std::vector<Flag>& flags);
std::string status_text(const LocalStatus& s);
std::string status_json(const LocalStatus& s);

}  // namespace vs::cli

// visitsync-bench: checked reading of workload files (WORKLOAD.md), line by line. Every helper
// returns a kInvalidInput status that says what is wrong; the caller adds "FILE:LINE: ".
// Nothing here throws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <visitsync/status.h>
#include <visitsync/types.h>

#include "workload.h"

namespace vs::bench::wj {

using json = nlohmann::json;

inline constexpr const char* kTypeList = "yes_no, integer, decimal, score, choice, text, gps";
bool supported_type(const std::string& type);

// "FILE:LINE: what".
Status at_line(const std::string& path, std::size_t line, const std::string& what);
// The whole file; kInvalidInput if it cannot be read.
Result<std::string> read_input(const std::string& path);
// The lines of a file: split at '\n'; a last line without one still counts.
std::vector<std::string> split_lines(const std::string& text);
// One line as a JSON object.
Result<json> parse_line(const std::string& line);

Status need_kind(const json& j, const char* kind);
Status need_string(const json& j, const char* key, std::string& out);
Status need_int(const json& j, const char* key, std::int64_t& out, std::int64_t lo,
                std::int64_t hi);
Status need_bool(const json& j, const char* key, bool& out);
// 1 to max characters of A-Z a-z 0-9 _ - (ids go into record keys and CSV files).
Status need_id(const json& j, const char* key, std::string& out, std::size_t max);
Status need_date(const json& j, const char* key);
// "YYYY-MM-DDTHH:MM:SS" then "Z" or "+HH:MM" / "-HH:MM": milliseconds since the epoch.
Status need_time(const json& j, const char* key, std::int64_t& ms);
// The optional keys of a header, when present: generator (text), seed, schools, inspectors
// (whole numbers >= 0).
Status optional_info(const json& j);

// A gps answer: {"lat", "lon"} and optionally "acc_m", numbers.
Result<Value> gps_point(const json& j);
// What an answer of a type must be ("yes or no (true/false)", ...).
std::string expected_for(const std::string& type);
// A JSON value, shortened for a message.
std::string brief(const json& v);
// A template error about an item, told by the item's index and key.
std::string item_error(const std::string& message, const Workload& w);

// The engine value of an answer, checked against its item (type, options, bounds, length).
Result<Value> answer_of(const WorkloadItem& item, const json& v);

}  // namespace vs::bench::wj

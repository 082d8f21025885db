#include "domain/model.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "util/json.h"

namespace vs::domain {

VisitStatus decode_status(std::int64_t v) {
  VisitStatus s;
  s.round = static_cast<int>(std::max<std::int64_t>(v / 4, 1));
  switch (v % 4) {
    case kSubmitted:
      s.phase = Phase::kSubmitted;
      break;
    case kApproved:
      s.phase = Phase::kApproved;
      break;
    default:
      s.phase = s.round == 1 ? Phase::kDraft : Phase::kReturned;
  }
  return s;
}

std::string template_record(std::string_view id, int version) {
  char v[16];
  std::snprintf(v, sizeof v, "%06d", version);
  return std::string(kTemplatePrefix) + std::string(id) + "/" + v;
}
std::string school_record(std::string_view id) {
  return std::string(kSchoolPrefix) + std::string(id);
}
std::string inspector_record(std::string_view id) {
  return std::string(kInspectorPrefix) + std::string(id);
}
std::string assignment_record(std::string_view inspector, std::string_view school) {
  return std::string(kAssignmentPrefix) + std::string(inspector) + "/" + std::string(school);
}
std::string visit_record(std::string_view school, std::string_view visit_id) {
  return std::string(kVisitPrefix) + std::string(school) + "/" + std::string(visit_id);
}
std::string answer_field(std::string_view item) {
  return std::string(kAnswerPrefix) + std::string(item);
}
std::string submitted_field(int round) { return "submitted." + std::to_string(round); }
std::string accepted_field(int round) { return "accepted." + std::to_string(round); }

std::optional<Policy> visit_field_policy(std::string_view f) {
  if (is_start_field(f)) return Policy::kLww;
  if (f == "inspectors" || round_field(f, "submitted") || round_field(f, "accepted"))
    return Policy::kUnion;
  if (f == "status") return Policy::kMax;
  if (f == "reviews") return Policy::kAppend;
  return std::nullopt;
}

bool is_start_field(std::string_view f) {
  return f == "school" || f == "template" || f == "template_version" || f == "started_by" ||
         f == "started_at";
}

std::optional<int> round_field(std::string_view field, std::string_view name) {
  if (field.size() <= name.size() + 1 || field.substr(0, name.size()) != name ||
      field[name.size()] != '.') {
    return std::nullopt;
  }
  const std::string_view digits = field.substr(name.size() + 1);
  int round = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), round);
  // One spelling per round: no sign, no leading zero.
  if (ec != std::errc() || end != digits.data() + digits.size() || digits[0] == '0' || round < 1 ||
      round > static_cast<int>(kRoundMask)) {
    return std::nullopt;
  }
  return round;
}

std::string op_entry(const OpId& id) { return id.device + "#" + std::to_string(id.seq); }

std::optional<OpId> parse_op_entry(std::string_view entry) {
  const std::size_t hash = entry.rfind('#');
  if (hash == std::string_view::npos || hash == 0) return std::nullopt;
  const std::string_view digits = entry.substr(hash + 1);
  OpId id;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id.seq);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || id.seq == 0)
    return std::nullopt;
  id.device = std::string(entry.substr(0, hash));
  return id;
}

std::optional<Review> parse_review(std::string_view json_text) {
  Result<nlohmann::json> parsed = util::parse_json(json_text, "review", kMaxTextBytes);
  if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
  const nlohmann::json& j = parsed.value();
  const auto by = j.find("by");
  const auto decision = j.find("decision");
  const auto comment = j.find("comment");
  const auto round = j.find("round");
  if (by == j.end() || !by->is_string() || decision == j.end() || !decision->is_string() ||
      comment == j.end() || !comment->is_string() || round == j.end() ||
      !round->is_number_integer()) {
    return std::nullopt;
  }
  const std::int64_t r = round->get<std::int64_t>();
  Review out;
  out.by = by->get<std::string>();
  out.decision = decision->get<std::string>();
  out.comment = comment->get<std::string>();
  if ((out.decision != "approve" && out.decision != "return") || r < 1 || r > kRoundMask) {
    return std::nullopt;
  }
  out.round = static_cast<int>(r);
  return out;
}

bool valid_ref_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string new_uuid() {
  std::random_device rd;
  unsigned char b[16];
  for (int i = 0; i < 16; i += 4) {
    const std::uint32_t r = rd();
    for (int k = 0; k < 4; ++k) b[i + k] = static_cast<unsigned char>(r >> (8 * k));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

}  // namespace vs::domain

namespace vs {

std::optional<std::string> visit_of_record(std::string_view record) {
  if (record.substr(0, domain::kVisitPrefix.size()) != domain::kVisitPrefix) return std::nullopt;
  const std::size_t slash = record.rfind('/');
  if (slash < domain::kVisitPrefix.size() || slash + 1 == record.size()) return std::nullopt;
  return std::string(record.substr(slash + 1));
}

}  // namespace vs

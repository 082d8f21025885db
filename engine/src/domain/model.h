// How the inspection domain maps onto engine records and fields (engine/MERGE.md, "Visits").
//
//   template/<id>/<version 6 digits>   body (text: the canonical JSON)
//   school/<id>                        name city county township level (text), boarding (bool),
//                                      students teachers (integer), location (gps)
//   inspector/<id>                     name role county (text)
//   assignment/<inspector>/<school>    from until (date)
//   visit/<school>/<uuid>              school template started_by started_at (text),
//                                      template_version (integer), inspectors (union),
//                                      status (max: round * 4 + phase code),
//                                      submitted.<round> (union: "device#seq" the submitter had
//                                      seen of the visit), accepted.<round> (union:
//                                      "device#seq" of late changes a supervisor accepted),
//                                      reviews (append: JSON {by, decision, comment, round}),
//                                      a.<item> (one per checklist item, the item's policy)
//
// The school is part of a visit's key so that the hub can tell a visit's scope from the key.
// An op's context carries the visit round it was written in, and kReviewBit when a supervisor
// (or a resolution) wrote it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <visitsync/inspection.h>

namespace vs::domain {

inline constexpr std::uint32_t kReviewBit = 1u << 31;
inline constexpr std::uint32_t kRoundMask = 0xFFFF;

inline std::uint32_t context_of(int round, bool review) {
  return (static_cast<std::uint32_t>(round) & kRoundMask) | (review ? kReviewBit : 0);
}
inline int round_of(std::uint32_t context) { return static_cast<int>(context & kRoundMask); }
inline bool is_review(std::uint32_t context) { return (context & kReviewBit) != 0; }

// Phase codes in the status value; kOpen is a draft in round 1 and "returned" after.
inline constexpr int kOpen = 0;
inline constexpr int kSubmitted = 1;
inline constexpr int kApproved = 2;
inline std::int64_t status_value(int round, int code) { return std::int64_t{round} * 4 + code; }
VisitStatus decode_status(std::int64_t v);

std::string template_record(std::string_view id, int version);
std::string school_record(std::string_view id);
std::string inspector_record(std::string_view id);
std::string assignment_record(std::string_view inspector, std::string_view school);
std::string visit_record(std::string_view school, std::string_view visit_id);
std::string answer_field(std::string_view item);
std::string submitted_field(int round);
std::string accepted_field(int round);

// The policy each of a visit's own fields (not answers) is merged by, or nullopt for a name
// that is not one. The engine keeps a field's first policy, so the device that writes a visit
// and the hub that checks it take the policy from here.
std::optional<Policy> visit_field_policy(std::string_view field);
// The fields written once, when a visit is started, by its starter.
bool is_start_field(std::string_view field);
// The round N of a "submitted.N" or "accepted.N" field (N from 1 to kRoundMask), else nullopt.
std::optional<int> round_field(std::string_view field, std::string_view name);

// "device#seq", as snapshots and acceptances name ops; parse_op_entry is its inverse (nullopt
// for text that is not one).
std::string op_entry(const OpId& id);
std::optional<OpId> parse_op_entry(std::string_view entry);

// A review entry as written by Inspection::review; nullopt when the text is not one.
std::optional<Review> parse_review(std::string_view json_text);

inline constexpr std::string_view kTemplatePrefix = "template/";
inline constexpr std::string_view kSchoolPrefix = "school/";
inline constexpr std::string_view kInspectorPrefix = "inspector/";
inline constexpr std::string_view kAssignmentPrefix = "assignment/";
inline constexpr std::string_view kVisitPrefix = "visit/";
inline constexpr std::string_view kAnswerPrefix = "a.";

// Ids of schools and inspectors: 1 to 32 of A-Z a-z 0-9 _ -.
bool valid_ref_id(std::string_view id);

// A fresh random (version 4) UUID.
std::string new_uuid();

}  // namespace vs::domain

// Inspection: the domain on top of the engine (engine/MERGE.md, "Visits"). Templates, schools,
// inspectors, assignments, and visits with their answers, notes, status lifecycle, reviews,
// findings, flags and exports.
//
// One Inspection works on one data folder (the store and its attachments), on a device or on the
// hub. It is used by one thread at a time. Every mutating call is one transaction: on error
// nothing was stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <visitsync/checklist.h>
#include <visitsync/engine.h>
#include <visitsync/status.h>
#include <visitsync/types.h>

namespace vs {

// Who acts on this data folder.
enum class Role : std::uint8_t {
  kInspector,   // records visits of the schools assigned to them
  kSupervisor,  // reviews visits and settles flags in their county
  kAdmin,       // the hub's administrator: reference data, templates, reviews
};
std::string_view role_name(Role r);

// The life of a visit (engine/MERGE.md, "Visits"). A return opens a new round.
enum class Phase : std::uint8_t { kDraft, kSubmitted, kReturned, kApproved };
std::string_view phase_name(Phase p);

// The visit id of a visit's engine record key (the records an ApplyReport or a SyncReport
// names); nullopt for the key of any other record.
std::optional<std::string> visit_of_record(std::string_view record);

struct VisitStatus {
  int round = 1;
  Phase phase = Phase::kDraft;
  bool editable() const { return phase == Phase::kDraft || phase == Phase::kReturned; }
};

struct School {
  std::string id, name, city, county, township, level;
  bool boarding = false;
  std::int64_t students = 0;
  std::int64_t teachers = 0;
  std::optional<GeoPoint> location;
};

struct Inspector {
  std::string id, name, county;
  Role role = Role::kInspector;
};

enum class ReferenceKind : std::uint8_t { kSchools, kInspectors, kAssignments };
// Parses "schools", "inspectors", "assignments".
Result<ReferenceKind> parse_reference_kind(std::string_view name);

struct ImportReport {
  std::size_t rows = 0;
  std::size_t created = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
};

struct Finding {
  std::string item;
  std::string level;  // "warn" or "fail"
  std::string message;
};

// Something about a visit a person must look at.
struct Flag {
  std::string visit_id;
  std::string item;    // an item key, or "status"
  std::string reason;  // what happened, in words
  std::vector<Version> versions;
};

struct Answer {
  const Item* item = nullptr;     // points into VisitView::checklist
  Value value;                    // the merged value (append: the newest note; counter: the total)
  std::vector<Version> versions;  // concurrent values, or every note of an append item
  bool answered() const;
};

struct Review {
  std::string by;
  std::string decision;  // "approve" or "return"
  std::string comment;
  int round = 0;
  Hlc at = 0;
};

struct VisitView {
  std::string id;  // the UUID made on the device
  std::string school_id;
  std::string template_id;
  int template_version = 0;
  std::shared_ptr<const Template> checklist;
  std::string started_by;
  std::string started_at;  // ISO 8601, UTC
  std::vector<std::string> inspectors;
  VisitStatus status;
  std::vector<Answer> answers;  // in template order
  std::vector<Finding> findings;
  std::vector<Flag> flags;
  std::vector<Review> reviews;
  std::vector<std::string> missing_required;
  // Photo ids its answers name whose files are not in this data folder: on the hub, photos
  // that have not arrived (the visit is complete only without any); on a device, photos taken
  // on another device (they are not fetched from the hub).
  std::vector<std::string> photos_missing;
};

// One change to a visit, read from the op log (Inspection::history).
struct Change {
  Hlc at = 0;  // the writer's clock
  OpId op;
  // Who: this replica's own actor for its own ops; "" for another device's (the hub knows each
  // device's person: HubStore::device).
  std::string by;
  std::string what;                 // an item key, "status" or "review"
  std::vector<std::string> before;  // the values the writer saw (its op's base), as text
  std::string after;                // the value written, as text ("" clears an answer)
  int round = 1;
  bool review = false;  // written by a supervisor, or settles a flag
};

struct LocalStatus {
  std::string device_id;
  std::string mode;  // "standalone", "enrolled" or "hub"
  std::string actor_id;
  Role role = Role::kInspector;
  std::size_t visits = 0;
  std::size_t visits_by_phase[4] = {};
  std::size_t flags = 0;
  EngineStats engine;
  std::uint64_t unsynced_ops = 0;  // own ops the hub has not acknowledged
  std::size_t photos_missing = 0;  // over every visit (VisitView::photos_missing)
};

enum class ExportFormat : std::uint8_t { kCsv, kJsonl, kSummary };
Result<ExportFormat> parse_export_format(std::string_view name);

class Inspection {
 public:
  // Opens the data folder made by create(), its commits as durable as `durability` says.
  static Result<std::unique_ptr<Inspection>> open(const std::string& data_dir,
                                                  Clock* clock = nullptr,
                                                  Durability durability = Durability::kFull);
  // Makes a new data folder (refused if it holds a store already). `mode` is "standalone",
  // "enrolled" or "hub"; `actor_id` the inspector (or "admin" on the hub).
  static Result<std::unique_ptr<Inspection>> create(const std::string& data_dir,
                                                    const std::string& device_id,
                                                    const std::string& mode,
                                                    const std::string& actor_id, Role role,
                                                    Clock* clock = nullptr);
  // The store file of a data folder (D/visitsync.db): kNotFound when the folder has none.
  static Result<std::string> store_file(const std::string& data_dir);
  ~Inspection();
  Inspection(const Inspection&) = delete;
  Inspection& operator=(const Inspection&) = delete;
  Inspection(Inspection&&) = delete;
  Inspection& operator=(Inspection&&) = delete;

  Engine& engine();
  const std::string& data_dir() const;
  // Who acts here. For an inspector or supervisor, their record must have been imported.
  Role role() const;
  const std::string& actor_id() const;
  const std::string& mode() const;
  // Changes who acts here (init sets it once the reference data is in).
  Status set_actor(const std::string& actor_id, Role role);
  // Who acts for the next calls, without storing it (set_actor's stays for the next open): the
  // hub's console acts for the supervisor signed in, under the same rules as their device.
  void act_as(const std::string& actor_id, Role role);

  // Reference data from CSV (schools.csv, inspectors.csv, assignments.csv, as in schema/sample/
  // made by `visitsync-admin sample`; columns and limits in tools/COMMANDS.md): all rows or
  // none, in one transaction. Bad rows are reported with their line numbers (the first 20);
  // re-importing updates, never duplicates. The CSV is read as a stream and written in batches,
  // so memory does not grow with the input (2 million schools import in 24 MB of RSS); the
  // store's write lock is held until the import ends.
  Result<ImportReport> import_reference_file(ReferenceKind kind, const std::string& path);
  // The same from bytes handed out by `source`: each call fills at most `n` bytes of `buf` and
  // returns how many, 0 at the end.
  using ByteSource = std::function<Result<std::size_t>(char* buf, std::size_t n)>;
  Result<ImportReport> import_reference_stream(ReferenceKind kind, const ByteSource& source);
  // The same from text in memory.
  Result<ImportReport> import_reference(ReferenceKind kind, std::string_view csv);
  // Publishes a template. Refused: an invalid template (with the path of the problem), or a
  // version already published with other content. Publishing the same content again is a no-op.
  Result<Template> publish_template(std::string_view json);
  // The newest published version of each template, sorted by id; one that this build cannot
  // read (a newer format) is left out, and find_template() names its problem. Or one version.
  Result<std::vector<std::shared_ptr<const Template>>> templates();
  Result<std::shared_ptr<const Template>> find_template(std::string_view id, int version = 0);
  Result<School> school(std::string_view id);
  Result<Inspector> inspector(std::string_view id);
  // School ids assigned to an inspector today.
  Result<std::vector<std::string>> assigned_schools(std::string_view inspector_id);

  // Starts a visit of a school assigned to this inspector, with the newest version of the
  // template, which must apply to the school's level. Returns the new visit id.
  Result<std::string> start_visit(std::string_view school_id, std::string_view template_id);
  // Sets an answer from its command-line text, validated against the item. Refused when the
  // visit is submitted or approved (answers are locked until it is returned).
  Status set_answer(std::string_view visit, std::string_view item, std::string_view text);
  // Appends a note to an append item.
  Status add_note(std::string_view visit, std::string_view item, std::string_view text);
  // Submits: refused with the list of required items still unanswered.
  Status submit(std::string_view visit);
  // A supervisor's (or the hub administrator's) decision on a submitted visit.
  Status review(std::string_view visit, std::string_view decision, std::string_view comment);
  // Settles a flagged item with a value: it supersedes every competing value and accepts
  // changes made concurrently with the submission.
  Status resolve(std::string_view visit, std::string_view item, std::string_view text);
  // Stores a photo file's content under its SHA-256; returns the id to use as a photo value.
  // kInvalidInput (naming the file) for anything but a JPEG, PNG or HEIC image of at most
  // kMaxPhotoBytes.
  Result<std::string> add_attachment(const std::string& path);
  // The same for a photo's bytes.
  Result<std::string> add_photo(std::string_view bytes);

  // A visit by id, by a unique prefix of at least 6 characters of its id, or by its record key
  // (visit/<school>/<id>, found without a search: kNotFound when there is none).
  Result<VisitView> visit(std::string_view id_or_prefix);
  Result<std::vector<VisitView>> visits();
  Result<std::vector<Flag>> flags();
  // Every change to a visit's answers, status and reviews, oldest stamp first: what was
  // written, over which values, by whom, when and from which device.
  Result<std::vector<Change>> history(std::string_view id_or_prefix);

  // Exports visits (of one template, or all when empty) as CSV (one row per visit, one column
  // per item in template order, UTF-8 with a byte-order mark) or JSON Lines; or a summary per
  // school and per county. CSV needs `template_id` when visits use several templates. With
  // `schools`, only the visits of the schools it keeps (a supervisor's county, in the console).
  using SchoolFilter = std::function<bool(const std::string& school_id)>;
  Result<std::string> export_visits(ExportFormat format, std::string_view template_id,
                                    const SchoolFilter& schools = {});

  Result<LocalStatus> status();

  // A visit as one JSON object (the form of `visit show --json` and the JSON Lines export).
  static std::string to_json(const VisitView& v);

  struct Impl;

 private:
  explicit Inspection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vs

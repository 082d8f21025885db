// The console's pages: plain functions from what the store holds and the request to a
// Response, run on the store thread (console.cc routes to them after sign-in, CSRF and role
// checks). A supervisor's Ctx names the schools of their scope; every page and action keeps
// to it, and a visit outside it is 403.
#pragma once

#include <optional>
#include <set>
#include <string>

#include <visitsync/hub_store.h>
#include <visitsync/transport/hub.h>

#include "console/accounts.h"
#include "console/request.h"
#include "console/visit_index.h"

namespace vs::console {

struct Ctx {
  HubStore& hub;
  VisitIndex& index;
  const Session& session;
  const Request& req;
  std::optional<std::set<std::string>> schools;  // a supervisor's scope; nullopt: everything

  bool sees(const std::string& school) const { return !schools || schools->count(school) != 0; }
  bool admin() const { return session.account.role == ConsoleRole::kAdmin; }
};

// The visit row of an id, or the Response to give instead (404, or 403 outside the scope).
Result<const VisitRow*> visible_visit(Ctx& c, const std::string& id, Response* refusal);

Response visits_page(Ctx& c);
Response visit_page(Ctx& c, const std::string& id);
Response review_action(Ctx& c, const std::string& id);  // POST: approve or return
Response settle_action(Ctx& c, const std::string& id);  // POST: a flag's value
Response photo_file(Ctx& c, const std::string& id, const std::string& photo);
Response dashboard_page(Ctx& c);
Response schools_page(Ctx& c);
Response inspectors_page(Ctx& c);
Response devices_page(Ctx& c, const HubCounters& counters);
Response exports_page(Ctx& c);
Response export_file(Ctx& c);

// /metrics in Prometheus's text format: the hub's counters and load, and the store's gauges
// (open flags, visits by status) from the index.
std::string metrics_text(const HubCounters& counters, const HubLoad& load, const VisitIndex& index);

}  // namespace vs::console

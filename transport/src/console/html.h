// HTML for the console's pages: escaping (every text from the store or a request goes through
// esc()), the page frame with its navigation, and the bilingual labels. Server-rendered pages
// with no script: they work on an old laptop's browser, and the strict CSP forbids any script.
#pragma once

#include <string>
#include <string_view>

#include <visitsync/checklist.h>

#include "console/accounts.h"
#include "console/request.h"

namespace vs::console {

// Text made safe for an element's content or a quoted attribute value.
std::string esc(std::string_view text);
// A template label: "中文 English" (either alone when the other is empty), escaped.
std::string label(const Label& l);
// A page: the frame (title, navigation for the account's role, sign-out form), `body` inside.
std::string page(std::string_view title, const Session* session, const std::string& body);
// A hidden input with the session's CSRF token, for every form.
std::string csrf_input(const Session& s);
// An error page's body.
Response error_page(int status, std::string_view message, const Session* session);

// The console's one style sheet, served at /style.css.
extern const char* const kStyleSheet;

}  // namespace vs::console

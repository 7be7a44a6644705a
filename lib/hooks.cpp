#include "hooks.hpp"

#include <optional>
#include <string_view>
#include <utility>

namespace uvsqlite::detail {

namespace {

int call_progress(void* user) noexcept {
  try {
    return (*static_cast<ProgressHandler*>(user))() != 0 ? 1 : 0;
  } catch (...) {
    return 1;  // an exception aborts the statement, as in Python
  }
}

int call_trace(unsigned type, void* user, void* p, void* /*x*/) noexcept {
  if (type != SQLITE_TRACE_STMT) return 0;
  auto* stmt = static_cast<sqlite3_stmt*>(p);
  try {
    char* expanded = sqlite3_expanded_sql(stmt);
    if (expanded != nullptr) {
      const std::unique_ptr<char, decltype(&sqlite3_free)> owner(expanded, &sqlite3_free);
      (*static_cast<TraceCallback*>(user))(std::string_view(expanded));
    } else if (const char* sql = sqlite3_sql(stmt); sql != nullptr) {
      (*static_cast<TraceCallback*>(user))(std::string_view(sql));
    }
  } catch (...) {
    // A failing trace callback must not affect the statement it traces.
  }
  return 0;
}

std::optional<std::string_view> opt(const char* s) {
  return s != nullptr ? std::optional<std::string_view>(s) : std::nullopt;
}

int call_authorizer(void* user, int action, const char* a1, const char* a2, const char* db,
                    const char* trigger) noexcept {
  try {
    const int r = (*static_cast<Authorizer*>(user))(action, opt(a1), opt(a2), opt(db), opt(trigger));
    return (r == SQLITE_OK || r == SQLITE_IGNORE) ? r : SQLITE_DENY;
  } catch (...) {
    return SQLITE_DENY;
  }
}

}  // namespace

// Each setter registers the new callable before releasing the old one, so SQLite never sees a
// dangling pointer.

void Hooks::set_progress_handler(sqlite3* db, ProgressHandler fn, int n) {
  if (!fn || n <= 0) {
    sqlite3_progress_handler(db, 0, nullptr, nullptr);
    progress_.reset();
    return;
  }
  auto next = std::make_unique<ProgressHandler>(std::move(fn));
  sqlite3_progress_handler(db, n, &call_progress, next.get());
  progress_ = std::move(next);
}

void Hooks::set_trace_callback(sqlite3* db, TraceCallback fn) {
  if (!fn) {
    sqlite3_trace_v2(db, 0, nullptr, nullptr);
    trace_.reset();
    return;
  }
  auto next = std::make_unique<TraceCallback>(std::move(fn));
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT, &call_trace, next.get());
  trace_ = std::move(next);
}

void Hooks::set_authorizer(sqlite3* db, Authorizer fn) {
  if (!fn) {
    sqlite3_set_authorizer(db, nullptr, nullptr);
    authorizer_.reset();
    return;
  }
  auto next = std::make_unique<Authorizer>(std::move(fn));
  sqlite3_set_authorizer(db, &call_authorizer, next.get());
  authorizer_ = std::move(next);
}

void Hooks::clear(sqlite3* db) noexcept {
  sqlite3_progress_handler(db, 0, nullptr, nullptr);
  sqlite3_trace_v2(db, 0, nullptr, nullptr);
  sqlite3_set_authorizer(db, nullptr, nullptr);
  progress_.reset();
  trace_.reset();
  authorizer_.reset();
}

}  // namespace uvsqlite::detail

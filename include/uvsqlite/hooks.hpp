#pragma once
/// @file hooks.hpp
/// Hooks SQLite calls while statements run: the progress handler, the trace callback and the
/// authorizer (Connection::set_progress_handler, set_trace_callback, set_authorizer).
///
/// Thread: every hook runs on the connection's worker thread, synchronously, as in Python's
/// sqlite3. An exception escaping a hook never kills the worker: see each type for what it means.

#include <functional>
#include <optional>
#include <string_view>

namespace uvsqlite {

/// Called every N virtual-machine instructions of a running statement; a non-zero result aborts
/// the statement with OperationalError("interrupted"). An exception aborts it too.
using ProgressHandler = std::function<int()>;

/// Called with the SQL text of each statement as it starts, parameters expanded
/// (sqlite3_expanded_sql). An exception is ignored.
using TraceCallback = std::function<void(std::string_view sql)>;

/// Authorizer results (SQLite's SQLITE_OK, SQLITE_DENY, SQLITE_IGNORE).
inline constexpr int AUTH_OK = 0;
/// Refuse the action: the statement fails to prepare with DatabaseError "not authorized".
inline constexpr int AUTH_DENY = 1;
/// Allow the statement but treat the column as NULL (reads) or skip the action.
inline constexpr int AUTH_IGNORE = 2;

/// SQLite's authorizer: asked while a statement is prepared, with SQLite's action code
/// (SQLITE_SELECT, SQLITE_READ, SQLITE_INSERT, ... from <sqlite3.h>) and up to four details
/// (for SQLITE_READ: table, column, database, trigger or view). Returns AUTH_OK, AUTH_DENY or
/// AUTH_IGNORE; anything else, or an exception, denies.
using Authorizer = std::function<int(
    int action, std::optional<std::string_view> arg1, std::optional<std::string_view> arg2,
    std::optional<std::string_view> database, std::optional<std::string_view> trigger_or_view)>;

}  // namespace uvsqlite

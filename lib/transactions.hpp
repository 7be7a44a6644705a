#pragma once
// The legacy transaction rules of Python's sqlite3 (3.11): which statements open a transaction
// implicitly, and which isolation levels exist.

#include <optional>
#include <string>
#include <string_view>

namespace uvsqlite::detail {

/// The leading keyword of a statement, as far as the transaction rules care.
enum class StatementKind { Other, Insert, Update, Delete, Replace };

/// `sql` without leading white space and SQL comments (`-- ...` and `/* ... */`).
std::string_view skip_space_and_comments(std::string_view sql) noexcept;

/// The kind of a statement by its first keyword (after white space and comments).
StatementKind statement_kind(std::string_view sql) noexcept;

/// INSERT, UPDATE, DELETE or REPLACE: the statements before which a BEGIN is issued implicitly.
inline bool is_dml(StatementKind kind) noexcept { return kind != StatementKind::Other; }

/// The canonical form of an isolation level ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE", compared
/// case-insensitively), or std::nullopt for autocommit. @throws ProgrammingError otherwise.
std::optional<std::string> checked_isolation_level(const std::optional<std::string>& level);

/// The statement that opens a transaction at `level` ("BEGIN ", "BEGIN IMMEDIATE", ...).
std::string begin_statement(const std::string& level);

}  // namespace uvsqlite::detail

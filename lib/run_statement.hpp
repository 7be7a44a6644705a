#pragma once
// Starting a statement, and running one to its end inside a single job. A cursor starts its
// statement and then steps it across jobs; execute_fetchall and execute_insert need no cursor at
// all, and run theirs to the end here without one (no cursor state, no tracking, no locks).
// Worker thread only.

#include <memory>
#include <string_view>
#include <vector>

#include "row_block.hpp"
#include "session.hpp"
#include "statement.hpp"
#include "uvsqlite/params.hpp"
#include "uvsqlite/row.hpp"

namespace uvsqlite::detail {

/// A statement after its first step: `rc` is SQLITE_ROW or SQLITE_DONE.
struct StartedStatement {
  std::unique_ptr<Statement> stmt;
  int rc;
};

/// Prepares `sql` (from the cache), binds `params` (which must outlive the statement's use),
/// opens the implicit transaction the isolation level asks for, and steps once. On failure the
/// statement goes back to the cache and the mapped error is thrown.
StartedStatement start_statement(Session& s, std::string_view sql, const Params& params);

/// Runs `sql` to its end and returns the statement to the cache: every result row when
/// `collect_rows` (made with the connection's text factory, in `storage` first), none otherwise.
/// `kind`, when given, receives the statement's kind (known to the cached statement already).
std::vector<Row> run_to_end(Session& s, std::string_view sql, const Params& params, bool collect_rows,
                            RowStorage storage = {}, StatementKind* kind = nullptr);

}  // namespace uvsqlite::detail

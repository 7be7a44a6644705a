#include "run_statement.hpp"

#include <exception>
#include <utility>

namespace uvsqlite::detail {

StartedStatement start_statement(Session& s, std::string_view sql, const Params& params) {
  auto stmt = s.prepare(sql);
  try {
    stmt->bind(params);
    s.begin_if_needed(*stmt);
  } catch (...) {
    s.release(std::move(stmt));
    throw;
  }
  const int rc = stmt->step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    std::exception_ptr error = s.error();
    s.release(std::move(stmt));
    std::rethrow_exception(error);
  }
  return {std::move(stmt), rc};
}

std::vector<Row> run_to_end(Session& s, std::string_view sql, const Params& params, bool collect_rows,
                            RowStorage storage, StatementKind* kind) {
  auto [stmt, rc] = start_statement(s, sql, params);
  if (kind != nullptr) *kind = stmt->kind();
  std::vector<Row> rows;
  std::exception_ptr error;
  try {
    if (collect_rows && rc == SQLITE_ROW) {
      // After the first step: a schema change re-prepares the statement inside sqlite3_step.
      RowBuilder builder(stmt->describe(s.options().detect_types), std::move(storage));
      const TextFactory* factory = &s.text_factory();
      while (rc == SQLITE_ROW) {
        stmt->read_row(factory, builder.next_row(static_cast<std::size_t>(stmt->width())));
        rc = stmt->step();
      }
      rows = builder.take();
    } else {
      while (rc == SQLITE_ROW) rc = stmt->step();  // RETURNING rows nobody asked for
    }
    if (rc != SQLITE_DONE) error = s.error();
  } catch (...) {
    error = std::current_exception();
  }
  s.release(std::move(stmt));
  if (error) std::rethrow_exception(error);
  return rows;
}

}  // namespace uvsqlite::detail

#pragma once
// One prepared statement (sqlite3_stmt), owned and finalized by this object. Worker thread only.

#include <sqlite3.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters.hpp"
#include "transactions.hpp"
#include "uvsqlite/factories.hpp"
#include "uvsqlite/params.hpp"
#include "uvsqlite/row.hpp"

namespace uvsqlite::detail {

class Statement {
 public:
  /// Prepares the single statement in `sql`. An empty or comment-only `sql` gives an empty
  /// statement (no sqlite3_stmt) that runs as a no-op, as in Python.
  /// @throws ProgrammingError for a NUL byte or a second statement; the mapped SQLite error for
  ///         invalid SQL.
  static std::unique_ptr<Statement> prepare(sqlite3* db, std::string sql, bool persistent);

  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() = default;

  [[nodiscard]] const std::string& sql() const noexcept { return sql_; }
  [[nodiscard]] bool empty() const noexcept { return stmt_ == nullptr; }
  [[nodiscard]] StatementKind kind() const noexcept { return kind_; }
  [[nodiscard]] bool is_dml() const noexcept { return detail::is_dml(kind_); }
  /// sqlite3_stmt_readonly: true for statements that cannot change the database.
  [[nodiscard]] bool readonly() const noexcept;

  /// Binds `params` (which must outlive the statement's next reset, and stay where it is: text
  /// and blobs are bound without copies, and up to three values live inside the Params). @throws
  /// ProgrammingError for a wrong count or a missing name.
  void bind(const Params& params);
  /// sqlite3_step: SQLITE_ROW, SQLITE_DONE, or an error code (the statement is then reset).
  int step() noexcept {
    if (!stmt_) return SQLITE_DONE;
    const int rc = sqlite3_step(stmt_.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) sqlite3_reset(stmt_.get());
    return rc;
  }
  /// The number of values of the current row (sqlite3_data_count).
  [[nodiscard]] int width() const noexcept;
  /// Reads the current row into `values` (width() of them). `text_factory`, when set, makes the
  /// Value of each TEXT column; converters (see describe()) apply to non-NULL values.
  void read_row(const TextFactory* text_factory, std::span<Value> values) const;
  /// The columns as the last describe() found them.
  [[nodiscard]] const std::shared_ptr<const Columns>& columns() const noexcept { return columns_; }
  /// The result columns, refreshed after a schema change, and the converters for them that
  /// `detect_types` (PARSE_DECLTYPES | PARSE_COLNAMES) selects. With PARSE_COLNAMES the names
  /// lose their " [type]" suffix, as in Python.
  const std::shared_ptr<const Columns>& describe(int detect_types);
  /// The underlying handle (null for an empty statement), for reading columns directly.
  [[nodiscard]] sqlite3_stmt* raw() const noexcept { return stmt_.get(); }
  /// Resets the statement and clears its bindings, ready for the cache.
  void reset() noexcept;
  /// Resets the statement for another run with new bindings (every parameter is bound again).
  void rewind() noexcept {
    if (stmt_) sqlite3_reset(stmt_.get());
  }

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
  };
  Statement(std::string sql, sqlite3_stmt* stmt);
  // Defined (and used) in statement.cpp only, inlined into bind()'s loop.
  inline void bind_value(int index, const Value& value, sqlite3_destructor_type lifetime);
  void bind_adapted(int index, const Value& value);

  std::string sql_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  StatementKind kind_;
  std::shared_ptr<const Columns> columns_;
  int detect_types_ = 0;
  int reprepares_ = -1;                      // SQLITE_STMTSTATUS_REPREPARE when columns_ was last checked
  std::vector<ErasedConverter> converters_;  // per column; empty when none applies
};

}  // namespace uvsqlite::detail

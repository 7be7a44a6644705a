#pragma once
// iterdump(): the SQL text dump of a database, line for line what Python 3.11's
// sqlite3.Connection.iterdump() produces, made a chunk at a time so that a large database never
// sits whole in memory. Worker thread only.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cursor_work.hpp"
#include "session.hpp"
#include "statement.hpp"

namespace uvsqlite::detail {

class Dump {
 public:
  Dump() = default;
  Dump(const Dump&) = delete;
  Dump& operator=(const Dump&) = delete;
  ~Dump() = default;

  /// Appends up to `max` further lines to `out`. Returns false once the last line (COMMIT;) was
  /// produced. @throws the mapped SQLite error of a failing query.
  bool next(Session& s, std::vector<std::string>& out, std::size_t max);
  /// Stops the dump, finalizing its open statement. Worker thread; before the Dump is destroyed
  /// unless it completed (a connection's close finalizes the statement itself).
  void abandon(Session& s) noexcept {
    s.release(std::move(rows_.stmt));
    s.untrack(rows_);
    phase_ = Phase::Done;
  }

 private:
  struct Table {
    std::string name;
    std::string sql;
  };
  enum class Phase { Begin, Table, Rows, Others, Done };

  void load_tables(Session& s);
  void start_table(Session& s, std::vector<std::string>& out);
  void load_others(Session& s, std::vector<std::string>& out);

  Phase phase_ = Phase::Begin;
  std::vector<Table> tables_;
  std::size_t next_table_ = 0;
  CursorWork rows_;                // the INSERT-building query of the current table, tracked by the session
  std::vector<std::string> tail_;  // the lines after the rows and the schema objects
  std::size_t next_tail_ = 0;
  bool writable_schema_ = false;
  std::vector<std::string> sequence_;
};

}  // namespace uvsqlite::detail

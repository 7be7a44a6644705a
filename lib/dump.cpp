#include "dump.hpp"

#include <string_view>

#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

namespace {

std::string replace_all(std::string_view s, char from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == from) {
      out += to;
    } else {
      out += c;
    }
  }
  return out;
}

std::string column_text(sqlite3_stmt* stmt, int i) {
  // Read before the text: a conversion that fails for want of memory may turn the value NULL.
  const bool is_null = sqlite3_column_type(stmt, i) == SQLITE_NULL;
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  if (p == nullptr) {
    // No text for a value: SQLite could not allocate its conversion (a number, or the text of a
    // UTF-16 database). Fail here rather than hand over a line cut short.
    if (!is_null) throw_sqlite_error(SQLITE_NOMEM, sqlite3_errstr(SQLITE_NOMEM));
    return {};
  }
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
}

// Python formats the sqlite_sequence values with str(): None for NULL.
std::string python_str(sqlite3_stmt* stmt, int i) {
  return sqlite3_column_type(stmt, i) == SQLITE_NULL ? std::string("None") : column_text(stmt, i);
}

// Runs `sql` to completion, handing each row to `on_row`.
template <class OnRow>
void for_each_row(Session& s, const std::string& sql, OnRow on_row) {
  auto stmt = Statement::prepare(s.db(), sql, false);
  for (;;) {
    const int rc = stmt->step();
    if (rc == SQLITE_DONE) return;
    if (rc != SQLITE_ROW) s.raise();
    on_row(stmt->raw());
  }
}

}  // namespace

bool Dump::next(Session& s, std::vector<std::string>& out, std::size_t max) {
  const std::size_t limit = out.size() + max;
  while (out.size() < limit) {
    switch (phase_) {
      case Phase::Begin:
        out.emplace_back("BEGIN TRANSACTION;");
        load_tables(s);
        phase_ = Phase::Table;
        break;
      case Phase::Table:
        if (next_table_ == tables_.size()) {
          load_others(s, tail_);
          phase_ = Phase::Others;
        } else {
          start_table(s, out);
        }
        break;
      case Phase::Rows: {
        const int rc = rows_.stmt->step();
        if (rc == SQLITE_ROW) {
          out.push_back(column_text(rows_.stmt->raw(), 0) + ";");
        } else if (rc == SQLITE_DONE) {
          rows_.stmt.reset();
          s.untrack(rows_);
          phase_ = Phase::Table;
        } else {
          s.raise();
        }
        break;
      }
      case Phase::Others:
        if (next_tail_ == tail_.size()) {
          tail_.clear();
          phase_ = Phase::Done;
          return false;
        }
        out.push_back(std::move(tail_[next_tail_++]));
        break;
      case Phase::Done:
        return false;
    }
  }
  return phase_ != Phase::Done;
}

void Dump::load_tables(Session& s) {
  for_each_row(s,
               "SELECT \"name\", \"type\", \"sql\" FROM \"sqlite_master\" WHERE \"sql\" NOT NULL AND "
               "\"type\" == 'table' ORDER BY \"name\"",
               [&](sqlite3_stmt* stmt) {
                 tables_.push_back(Table{column_text(stmt, 0), column_text(stmt, 2)});
               });
}

void Dump::start_table(Session& s, std::vector<std::string>& out) {
  const Table& table = tables_[next_table_++];
  const std::string_view name = table.name;
  if (name == "sqlite_sequence") {
    sequence_.emplace_back("DELETE FROM \"sqlite_sequence\";");
    for_each_row(s, "SELECT * FROM \"sqlite_sequence\";", [&](sqlite3_stmt* stmt) {
      sequence_.push_back("INSERT INTO \"sqlite_sequence\" VALUES('" + python_str(stmt, 0) + "'," +
                          python_str(stmt, 1) + ");");
    });
    return;
  }
  if (name == "sqlite_stat1") {
    out.emplace_back("ANALYZE \"sqlite_master\";");
  } else if (name.starts_with("sqlite_")) {
    return;
  } else if (std::string_view(table.sql).starts_with("CREATE VIRTUAL TABLE")) {
    if (!writable_schema_) {
      writable_schema_ = true;
      out.emplace_back("PRAGMA writable_schema=ON;");
    }
    out.push_back("INSERT INTO sqlite_master(type,name,tbl_name,rootpage,sql)VALUES('table','" +
                  replace_all(name, '\'', "''") + "','" + replace_all(name, '\'', "''") + "',0,'" +
                  replace_all(table.sql, '\'', "''") + "');");
  } else {
    out.push_back(table.sql + ";");
  }

  // The rows, as INSERT statements that SQLite's quote() builds.
  const std::string ident = replace_all(name, '"', "\"\"");
  std::string values;
  for_each_row(s, "PRAGMA table_info(\"" + ident + "\")", [&](sqlite3_stmt* stmt) {
    if (!values.empty()) values += ",";
    values += "'||quote(\"" + replace_all(column_text(stmt, 1), '"', "\"\"") + "\")||'";
  });
  rows_.stmt = Statement::prepare(
      s.db(), "SELECT 'INSERT INTO \"" + ident + "\" VALUES(" + values + ")' FROM \"" + ident + "\";", false);
  phase_ = Phase::Rows;
}

void Dump::load_others(Session& s, std::vector<std::string>& out) {
  for_each_row(s,
               "SELECT \"name\", \"type\", \"sql\" FROM \"sqlite_master\" WHERE \"sql\" NOT NULL AND "
               "\"type\" IN ('index', 'trigger', 'view')",
               [&](sqlite3_stmt* stmt) { out.push_back(column_text(stmt, 2) + ";"); });
  if (writable_schema_) out.emplace_back("PRAGMA writable_schema=OFF;");
  for (auto& line : sequence_) out.push_back(std::move(line));
  sequence_.clear();
  out.emplace_back("COMMIT;");
}

}  // namespace uvsqlite::detail

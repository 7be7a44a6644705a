#include "sandbox.hpp"

#include <sqlite3.h>
#include <strings.h>

#include <optional>
#include <string_view>
#include <utility>

namespace uvsqlite::fuzz {

void limit_sqlite_heap() noexcept { sqlite3_hard_heap_limit64(std::int64_t{64} << 20); }

namespace {

int authorize(int action, std::optional<std::string_view> arg1, std::optional<std::string_view> /*arg2*/,
              std::optional<std::string_view> /*database*/, std::optional<std::string_view> /*trigger*/) {
  if (action == SQLITE_ATTACH) {
    // A file name would create a file (ATTACH 'x', VACUUM INTO 'x'), outside the sandbox.
    return arg1 && (arg1->empty() || *arg1 == ":memory:") ? SQLITE_OK : SQLITE_DENY;
  }
  if (action == SQLITE_PRAGMA && arg1 &&
      (*arg1 == "temp_store_directory" || *arg1 == "data_store_directory")) {
    // Process-wide settings: they would outlive this input and change later ones.
    return SQLITE_DENY;
  }
  return SQLITE_OK;
}

void confine(sqlite3* db, bool defensive) {
  // Small values bound the memory of the rows a statement can return within the budget
  // (each row costs a few instructions, and uvsqlite copies every value).
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 8192);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 65536);
  sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 64);
  sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 64);
  sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 32);
  sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 25000);
  sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 16);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 2);
  sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 256);
  sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 256);
  sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 8);
  sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, 0);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, defensive ? 1 : 0, nullptr);
}

}  // namespace

bool may_call_printf(std::string_view sql) noexcept {
  // A function's name cannot be computed, so every call (in a statement, or in a view, trigger,
  // default or check that the statement creates) spells it out.
  auto contains = [sql](std::string_view word) {
    for (std::size_t i = 0; i + word.size() <= sql.size(); ++i) {
      if (::strncasecmp(sql.data() + i, word.data(), word.size()) == 0) return true;
    }
    return false;
  };
  return contains("printf") || contains("format");
}

Connection open_sandbox(uv_loop_t* loop, Options options, std::shared_ptr<Budget> budget, bool defensive) {
  Connection db = connect(loop, ":memory:", std::move(options)).get();
  db.call([defensive](sqlite3* raw) { confine(raw, defensive); }).get();
  db.set_authorizer(&authorize).get();
  db.set_progress_handler([budget = std::move(budget)] { return budget->spend() ? 1 : 0; },
                          Budget::kProgressStep)
      .get();
  return db;
}

}  // namespace uvsqlite::fuzz

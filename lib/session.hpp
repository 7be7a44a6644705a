#pragma once
// The worker side of a connection: it owns the sqlite3* and everything prepared on it.
// Worker thread only, except where noted.

#include <sqlite3.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "cursor_work.hpp"
#include "hooks.hpp"
#include "shared_state.hpp"
#include "statement.hpp"
#include "statement_cache.hpp"
#include "uvsqlite/factories.hpp"
#include "uvsqlite/options.hpp"

namespace uvsqlite::detail {

class Session {
 public:
  Session(std::string path, Options options, std::shared_ptr<SharedState> shared);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  /// Opens the database. @throws OperationalError; the session is then closed.
  void open();
  /// Finalizes every statement (cached and those held by cursors), closes the database (an open
  /// transaction rolls back) and makes interrupt() a no-op. Idempotent.
  void close() noexcept;
  [[nodiscard]] bool is_open() const noexcept { return db_ != nullptr; }
  /// True once the session was opened and closed again, or failed to open.
  [[nodiscard]] bool is_closed() const noexcept { return closed_; }
  [[nodiscard]] sqlite3* db() const noexcept { return db_.get(); }
  [[nodiscard]] const Options& options() const noexcept { return options_; }

  /// A prepared statement for `sql`, from the cache when possible.
  std::unique_ptr<Statement> prepare(std::string_view sql);
  /// Gives a statement back to the cache.
  void release(std::unique_ptr<Statement> stmt) noexcept { cache_.put(std::move(stmt)); }

  /// Python's legacy rule: BEGIN before a DML statement when an isolation level is set and no
  /// transaction is open.
  void begin_if_needed(const Statement& stmt);
  /// COMMIT if a transaction is open.
  void commit();
  /// ROLLBACK if a transaction is open.
  void rollback();
  /// Validates and sets the isolation level; nullopt (autocommit) commits first.
  void set_isolation_level(const std::optional<std::string>& level);

  /// Registers a cursor whose statement close() must finalize.
  void track(CursorWork& cursor);
  /// Unregisters a cursor (after it released its statement).
  void untrack(CursorWork& cursor) noexcept;

  /// The connection's text factory (empty: TEXT as std::string).
  [[nodiscard]] TextFactory& text_factory() noexcept { return text_factory_; }

  /// The progress handler, trace callback and authorizer of this connection.
  [[nodiscard]] Hooks& hooks() noexcept { return hooks_; }

  /// Copies in_transaction / total_changes to the shared state, after every job.
  void publish() noexcept;
  /// The exception mapped from the connection's current error (sqlite3_extended_errcode/errmsg).
  [[nodiscard]] std::exception_ptr error() const;
  /// Throws error().
  [[noreturn]] void raise() const;
  /// Throws for `rc` unless it is SQLITE_OK / SQLITE_ROW / SQLITE_DONE.
  void check(int rc) const {
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) raise();
  }

 private:
  struct Closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  void run_simple(std::string_view sql);

  std::string path_;
  Options options_;
  std::shared_ptr<SharedState> shared_;
  std::unique_ptr<sqlite3, Closer> db_;
  StatementCache cache_;
  Hooks hooks_;
  TextFactory text_factory_;
  std::optional<std::string> isolation_level_;
  std::unordered_set<CursorWork*> cursors_;
  bool closed_ = false;
};

}  // namespace uvsqlite::detail

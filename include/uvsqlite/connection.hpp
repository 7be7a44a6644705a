#pragma once
/// @file connection.hpp
/// A connection: one SQLite database handle owned by a private worker thread.
///
/// Threads, for every member below:
/// - Asynchronous operations may be called from any thread. They are queued FIFO on the
///   connection's worker thread, which alone calls into SQLite for them.
/// - Future forms are fulfilled on the worker; callback and awaitable forms run on the thread of
///   the loop the connection was opened with, in submission order, never inside the call.
/// - interrupt(), in_transaction(), isolation_level(), total_changes() are immediate and safe
///   from any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "uvsqlite/completion.hpp"
#include "uvsqlite/cursor.hpp"
#include "uvsqlite/options.hpp"
#include "uvsqlite/params.hpp"
#include "uvsqlite/row.hpp"

struct uv_loop_s;

namespace uvsqlite {

class Connection;

namespace detail {
/// Opens `path` on a new worker thread; the completion receives the Connection. A loop form
/// needs `loop`, and must be started on the loop's thread (it initializes a uv_async_t there).
void start_connect(uv_loop_s* loop, std::string path, Options options, CompletionPtr<Connection> c);
}  // namespace detail

/// A handle to an open database (aiosqlite.Connection). Copies share one connection.
///
/// close() completes every job queued before it, closes the database, ends the worker thread
/// and closes the loop handle. Dropping the last handle (and the last Cursor) without close()
/// closes the same way in the background: nothing blocks, nothing leaks.
class Connection {
 public:
  /// A handle to no connection: every operation fails with ProgrammingError.
  Connection() = default;

  /// Cursor::execute on a new cursor.
  template <class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto execute(std::string sql, Params params = {}, Token&& token = {}) const {
    return detail::initiate<Cursor>(std::forward<Token>(token),
                                    [self = *this, sql = std::move(sql),
                                     params = std::move(params)](detail::CompletionPtr<Cursor> c) mutable {
                                      self.start_execute(std::move(sql), std::move(params), std::move(c));
                                    });
  }
  /// execute() without parameters.
  template <class Token>
  requires CompletionToken<Token, Cursor>
  auto execute(std::string sql, Token&& token) const {
    return execute(std::move(sql), Params{}, std::forward<Token>(token));
  }

  /// Cursor::executemany on a new cursor.
  template <class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto executemany(std::string sql, std::vector<Params> seq, Token&& token = {}) const {
    return detail::initiate<Cursor>(
        std::forward<Token>(token),
        [self = *this, sql = std::move(sql), seq = std::move(seq)](detail::CompletionPtr<Cursor> c) mutable {
          self.start_executemany(std::move(sql), std::move(seq), std::move(c));
        });
  }

  /// Cursor::executescript on a new cursor.
  template <class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto executescript(std::string script, Token&& token = {}) const {
    return detail::initiate<Cursor>(std::forward<Token>(token), [self = *this, script = std::move(script)](
                                                                    detail::CompletionPtr<Cursor> c) mutable {
      self.start_executescript(std::move(script), std::move(c));
    });
  }

  /// Executes and fetches every row in one worker hop.
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::vector<Row>>
  auto execute_fetchall(std::string sql, Params params = {}, Token&& token = {}) const {
    return detail::initiate<std::vector<Row>>(
        std::forward<Token>(token), [self = *this, sql = std::move(sql), params = std::move(params)](
                                        detail::CompletionPtr<std::vector<Row>> c) mutable {
          self.start_execute_fetchall(std::move(sql), std::move(params), std::move(c));
        });
  }
  /// execute_fetchall() without parameters.
  template <class Token>
  requires CompletionToken<Token, std::vector<Row>>
  auto execute_fetchall(std::string sql, Token&& token) const {
    return execute_fetchall(std::move(sql), Params{}, std::forward<Token>(token));
  }

  /// Executes an INSERT/REPLACE and completes with the rowid of the row it inserted
  /// (sqlite3_last_insert_rowid), or std::nullopt when the statement inserted no row.
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::optional<std::int64_t>>
  auto execute_insert(std::string sql, Params params = {}, Token&& token = {}) const {
    return detail::initiate<std::optional<std::int64_t>>(
        std::forward<Token>(token), [self = *this, sql = std::move(sql), params = std::move(params)](
                                        detail::CompletionPtr<std::optional<std::int64_t>> c) mutable {
          self.start_execute_insert(std::move(sql), std::move(params), std::move(c));
        });
  }
  /// execute_insert() without parameters.
  template <class Token>
  requires CompletionToken<Token, std::optional<std::int64_t>>
  auto execute_insert(std::string sql, Token&& token) const {
    return execute_insert(std::move(sql), Params{}, std::forward<Token>(token));
  }

  /// Commits the open transaction, if any.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto commit(Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this](detail::CompletionPtr<void> c) {
      self.start_commit(std::move(c));
    });
  }

  /// Rolls back the open transaction, if any.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto rollback(Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this](detail::CompletionPtr<void> c) {
      self.start_rollback(std::move(c));
    });
  }

  /// Completes every job queued before it, finalizes open cursors' statements, closes the
  /// database (an open transaction is rolled back, as sqlite3 does) and ends the worker thread.
  /// Closing twice is fine. Jobs submitted afterwards fail with ProgrammingError.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto close(Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this](detail::CompletionPtr<void> c) {
      self.start_close(std::move(c));
    });
  }

  /// A new cursor on this connection.
  template <class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto cursor(Token&& token = {}) const {
    return detail::initiate<Cursor>(
        std::forward<Token>(token),
        [self = *this](detail::CompletionPtr<Cursor> c) { self.start_cursor(std::move(c)); });
  }

  /// Sets the isolation level ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE", or std::nullopt for
  /// autocommit, which commits an open transaction first). Queued like any job; another value is
  /// a ProgrammingError.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto set_isolation_level(std::optional<std::string> level, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, level = std::move(level)](
                                                                  detail::CompletionPtr<void> c) mutable {
      self.start_set_isolation_level(std::move(level), std::move(c));
    });
  }

  /// Aborts the statement running now (sqlite3_interrupt), at once and from any thread: it fails
  /// with OperationalError("interrupted"). Not queued; a no-op when nothing runs or when closed.
  void interrupt() const;

  /// Whether a transaction is open, as of the last completed job.
  [[nodiscard]] bool in_transaction() const;
  /// The isolation level, as of the last completed job (std::nullopt: autocommit).
  [[nodiscard]] std::optional<std::string> isolation_level() const;
  /// sqlite3_total_changes(), as of the last completed job.
  [[nodiscard]] std::int64_t total_changes() const;
  /// The loop this connection completes on, or nullptr for a future-only connection.
  [[nodiscard]] uv_loop_s* loop() const noexcept;
  /// Replaces the handler for exceptions escaping this connection's callbacks on the loop
  /// thread (default: print and std::terminate). An empty function restores the default.
  void set_error_handler(ErrorHandler handler) const;

  /// Same connection.
  bool operator==(const Connection&) const = default;

 private:
  friend class Cursor;
  friend class detail::ConnectionCore;
  explicit Connection(std::shared_ptr<detail::ConnectionCore> core) noexcept : core_(std::move(core)) {}

  void start_execute(std::string sql, Params params, detail::CompletionPtr<Cursor> c) const;
  void start_executemany(std::string sql, std::vector<Params> seq, detail::CompletionPtr<Cursor> c) const;
  void start_executescript(std::string script, detail::CompletionPtr<Cursor> c) const;
  void start_execute_fetchall(std::string sql, Params params,
                              detail::CompletionPtr<std::vector<Row>> c) const;
  void start_execute_insert(std::string sql, Params params,
                            detail::CompletionPtr<std::optional<std::int64_t>> c) const;
  void start_commit(detail::CompletionPtr<void> c) const;
  void start_rollback(detail::CompletionPtr<void> c) const;
  void start_close(detail::CompletionPtr<void> c) const;
  void start_cursor(detail::CompletionPtr<Cursor> c) const;
  void start_set_isolation_level(std::optional<std::string> level, detail::CompletionPtr<void> c) const;

  friend void detail::start_connect(uv_loop_s* loop, std::string path, Options options,
                                    detail::CompletionPtr<Connection> c);

  std::shared_ptr<detail::ConnectionCore> core_;
};

/// Opens `path` (":memory:" works) on a new worker thread, completing on `loop` in any of the
/// three forms. Must be called on the loop's thread (it initializes a uv_async_t there). Failure:
/// OperationalError ("unable to open database file"), and the worker thread is gone.
template <class Token = use_future_t>
requires CompletionToken<Token, Connection>
auto connect(uv_loop_s* loop, std::string path, Options options = {}, Token&& token = {}) {
  return detail::initiate<Connection>(
      std::forward<Token>(token), [loop, path = std::move(path), options = std::move(options)](
                                      detail::CompletionPtr<Connection> c) mutable {
        detail::start_connect(loop, std::move(path), std::move(options), std::move(c));
      });
}

/// Opens a connection with no loop: only the future form exists for it and its cursors.
inline std::future<Connection> connect(std::string path, Options options = {}) {
  return connect(nullptr, std::move(path), std::move(options), use_future);
}

}  // namespace uvsqlite

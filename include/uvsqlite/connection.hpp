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
#include <type_traits>
#include <utility>
#include <vector>

#include "uvsqlite/backup.hpp"
#include "uvsqlite/completion.hpp"
#include "uvsqlite/cursor.hpp"
#include "uvsqlite/executes.hpp"
#include "uvsqlite/functions.hpp"
#include "uvsqlite/hooks.hpp"
#include "uvsqlite/options.hpp"
#include "uvsqlite/params.hpp"
#include "uvsqlite/row.hpp"
#include "uvsqlite/sql_text.hpp"

struct uv_loop_s;
struct sqlite3;

namespace uvsqlite {

class Connection;

namespace detail {
class Dump;
/// Opens `path` on a new worker thread; the completion receives the Connection. A loop form
/// needs `loop`, and must be started on the loop's thread (it initializes a uv_async_t there).
void start_connect(uv_loop_s* loop, std::string path, Options options, PendingCompletion<Connection> c);
}  // namespace detail

/// A handle to an open database (aiosqlite.Connection). Copies share one connection.
///
/// close() completes every job queued before it, closes the database, ends the worker thread
/// and closes the loop handle. Dropping the last handle (and the last Cursor) without close()
/// closes the same way in the background: nothing blocks, nothing leaks.
class Connection : public detail::Executes<Connection> {
 public:
  /// A handle to no connection: every operation fails with ProgrammingError.
  Connection() = default;

  // execute(sql, params), executemany(sql, seq), executescript(script): see detail::Executes.
  // On a Connection each runs on a new cursor, which it completes with.

  /// Executes and fetches every row in one worker hop.
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::vector<Row>>
  auto execute_fetchall(SqlText sql, Params params = {}, Token&& token = {}) const {
    return detail::initiate<std::vector<Row>>(
        std::forward<Token>(token), [self = *this, sql = std::move(sql), params = std::move(params)](
                                        detail::PendingCompletion<std::vector<Row>> c) mutable {
          self.start_execute_fetchall(std::move(sql), std::move(params), std::move(c));
        });
  }
  /// execute_fetchall() without parameters.
  template <class Token>
  requires CompletionToken<Token, std::vector<Row>>
  auto execute_fetchall(SqlText sql, Token&& token) const {
    return execute_fetchall(std::move(sql), Params{}, std::forward<Token>(token));
  }

  /// Executes an INSERT/REPLACE and completes with the rowid of the row it inserted
  /// (sqlite3_last_insert_rowid), or std::nullopt when the statement inserted no row.
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::optional<std::int64_t>>
  auto execute_insert(SqlText sql, Params params = {}, Token&& token = {}) const {
    return detail::initiate<std::optional<std::int64_t>>(
        std::forward<Token>(token), [self = *this, sql = std::move(sql), params = std::move(params)](
                                        detail::PendingCompletion<std::optional<std::int64_t>> c) mutable {
          self.start_execute_insert(std::move(sql), std::move(params), std::move(c));
        });
  }
  /// execute_insert() without parameters.
  template <class Token>
  requires CompletionToken<Token, std::optional<std::int64_t>>
  auto execute_insert(SqlText sql, Token&& token) const {
    return execute_insert(std::move(sql), Params{}, std::forward<Token>(token));
  }

  /// Commits the open transaction, if any.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto commit(Token&& token = {}) const {
    return detail::initiate<void>(
        std::forward<Token>(token),
        [self = *this](detail::PendingCompletion<void> c) { self.start_commit(std::move(c)); });
  }

  /// Rolls back the open transaction, if any.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto rollback(Token&& token = {}) const {
    return detail::initiate<void>(
        std::forward<Token>(token),
        [self = *this](detail::PendingCompletion<void> c) { self.start_rollback(std::move(c)); });
  }

  /// Completes every job queued before it, finalizes open cursors' statements, closes the
  /// database (an open transaction is rolled back, as sqlite3 does) and ends the worker thread.
  /// Closing twice is fine. Jobs submitted afterwards fail with ProgrammingError.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto close(Token&& token = {}) const {
    return detail::initiate<void>(
        std::forward<Token>(token),
        [self = *this](detail::PendingCompletion<void> c) { self.start_close(std::move(c)); });
  }

  /// A new cursor on this connection.
  template <class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto cursor(Token&& token = {}) const {
    return detail::initiate<Cursor>(
        std::forward<Token>(token),
        [self = *this](detail::PendingCompletion<Cursor> c) { self.start_cursor(std::move(c)); });
  }

  /// Sets the isolation level ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE", or std::nullopt for
  /// autocommit, which commits an open transaction first). Queued like any job; another value is
  /// a ProgrammingError.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto set_isolation_level(std::optional<std::string> level, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, level = std::move(level)](
                                                                  detail::PendingCompletion<void> c) mutable {
      self.start_set_isolation_level(std::move(level), std::move(c));
    });
  }

  /// Registers (or, with an empty `fn`, removes) the scalar SQL function `name` taking
  /// `num_params` arguments (-1: any number). `deterministic` lets SQLite use it in indexes
  /// and constant-fold it. `fn` runs on the worker thread.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto create_function(std::string name, int num_params, ScalarFunction fn, bool deterministic = false,
                       Token&& token = {}) const {
    return detail::initiate<void>(
        std::forward<Token>(token), [self = *this, name = std::move(name), num_params, fn = std::move(fn),
                                     deterministic](detail::PendingCompletion<void> c) mutable {
          self.start_create_function(std::move(name), num_params, std::move(fn), deterministic, std::move(c));
        });
  }

  /// Registers (or, with an empty `factory`, removes) the aggregate SQL function `name`.
  /// `factory` makes one Aggregate per group; everything runs on the worker thread.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto create_aggregate(std::string name, int num_params, AggregateFactory factory,
                        Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, name = std::move(name),
                                                               num_params, factory = std::move(factory)](
                                                                  detail::PendingCompletion<void> c) mutable {
      self.start_create_aggregate(std::move(name), num_params, std::move(factory), std::move(c));
    });
  }

  /// Registers (or, with an empty `fn`, removes) the collation `name` (`COLLATE name`).
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto create_collation(std::string name, Collation fn, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token),
                                  [self = *this, name = std::move(name),
                                   fn = std::move(fn)](detail::PendingCompletion<void> c) mutable {
                                    self.start_create_collation(std::move(name), std::move(fn), std::move(c));
                                  });
  }

  /// Installs `fn` to be called every `n` virtual-machine instructions (non-zero aborts the
  /// statement); an empty `fn` or `n` <= 0 removes it.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto set_progress_handler(ProgressHandler fn, int n, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, fn = std::move(fn),
                                                               n](detail::PendingCompletion<void> c) mutable {
      self.start_set_progress_handler(std::move(fn), n, std::move(c));
    });
  }

  /// Installs `fn` to receive each statement's expanded SQL; an empty `fn` removes it.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto set_trace_callback(TraceCallback fn, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, fn = std::move(fn)](
                                                                  detail::PendingCompletion<void> c) mutable {
      self.start_set_trace_callback(std::move(fn), std::move(c));
    });
  }

  /// Installs the authorizer, which allows, denies or ignores each action of statements as they
  /// are prepared (confine untrusted SQL with it); an empty `fn` removes it.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto set_authorizer(Authorizer fn, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, fn = std::move(fn)](
                                                                  detail::PendingCompletion<void> c) mutable {
      self.start_set_authorizer(std::move(fn), std::move(c));
    });
  }

  /// Allows or forbids loading SQLite extensions (off by default), through load_extension() and
  /// the SQL function load_extension().
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto enable_load_extension(bool enabled, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token),
                                  [self = *this, enabled](detail::PendingCompletion<void> c) {
                                    self.start_enable_load_extension(enabled, std::move(c));
                                  });
  }

  /// Loads the SQLite extension in the shared library `path`, calling `entry_point` (empty: the
  /// default sqlite3_extension_init / sqlite3_<name>_init). Fails with OperationalError
  /// ("not authorized") unless enable_load_extension(true) ran first.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto load_extension(std::string path, std::string entry_point = {}, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, path = std::move(path),
                                                               entry_point = std::move(entry_point)](
                                                                  detail::PendingCompletion<void> c) mutable {
      self.start_load_extension(std::move(path), std::move(entry_point), std::move(c));
    });
  }
  /// load_extension() with the default entry point.
  template <class Token>
  requires CompletionToken<Token, void>
  auto load_extension(std::string path, Token&& token) const {
    return load_extension(std::move(path), std::string{}, std::forward<Token>(token));
  }

  /// Copies this database (BackupOptions::name) into the main database of `target`, online:
  /// one step of `options.pages` pages per job on this connection's queue, so other work runs
  /// between the steps; `target` is held (its own queue waits) until the copy is finished.
  /// Fails with OperationalError when `target` is in a transaction, ProgrammingError when it is
  /// this connection. Do not back up two connections into each other at the same time.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto backup(Connection target, BackupOptions options = {}, Token&& token = {}) const {
    return detail::initiate<void>(
        std::forward<Token>(token), [self = *this, target = std::move(target), options = std::move(options)](
                                        detail::PendingCompletion<void> c) mutable {
          self.start_backup(std::move(target), nullptr, std::move(options), std::move(c));
        });
  }
  /// backup() into a raw SQLite handle, which the caller must leave idle until completion.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto backup(sqlite3* target, BackupOptions options = {}, Token&& token = {}) const {
    return detail::initiate<void>(
        std::forward<Token>(token),
        [self = *this, target, options = std::move(options)](detail::PendingCompletion<void> c) mutable {
          self.start_backup(Connection{}, target, std::move(options), std::move(c));
        });
  }

  /// The database as SQL text lines, exactly the lines of Python 3.11's Connection.iterdump():
  /// BEGIN TRANSACTION;, the tables and their rows as INSERT statements, then indexes,
  /// triggers and views, the sqlite_sequence rows, and COMMIT;.
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::vector<std::string>>
  auto iterdump(Token&& token = {}) const {
    return detail::initiate<std::vector<std::string>>(
        std::forward<Token>(token), [self = *this](detail::PendingCompletion<std::vector<std::string>> c) {
          self.start_iterdump(std::move(c));
        });
  }

  /// iterdump() as a stream: `on_lines(std::vector<std::string>)` receives the lines on the loop
  /// thread, `chunk_lines` at a time, each chunk made by the worker only after the previous one
  /// was handed over (memory stays bounded whatever the database size); then
  /// `on_done(std::exception_ptr)` once. Needs a loop. @throws ProgrammingError without a loop.
  template <class OnLines, class OnDone>
  requires std::is_invocable_v<OnLines&, std::vector<std::string>> &&
      std::is_invocable_v<OnDone&, std::exception_ptr>
  void iterdump(OnLines on_lines, OnDone on_done, std::size_t chunk_lines = 256) const;

  /// Runs `fn(sqlite3*)` on the worker with the raw database handle and completes with what it
  /// returns (or throws): the escape hatch for what this API lacks. The handle is valid only
  /// inside `fn`; do not keep it, and do not close it.
  template <class Fn, class Token = use_future_t>
  requires std::is_invocable_v<Fn&, sqlite3*> && CompletionToken<Token, std::invoke_result_t<Fn&, sqlite3*>>
  auto call(Fn fn, Token&& token = {}) const {
    using T = std::invoke_result_t<Fn&, sqlite3*>;
    return detail::initiate<T>(std::forward<Token>(token), [self = *this, fn = std::move(fn)](
                                                               detail::PendingCompletion<T> c) mutable {
      self.start_call(std::make_unique<detail::UserWork<sqlite3*, T, Fn>>(std::move(fn), std::move(c)));
    });
  }

  /// Sets the text factory of this connection's cursors (text_factory_str by default,
  /// text_factory_bytes for blobs, or any function). Queued like any operation.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto set_text_factory(TextFactory factory, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, factory = std::move(factory)](
                                                                  detail::PendingCompletion<void> c) mutable {
      self.start_set_text_factory(std::move(factory), std::move(c));
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
  /// thread (default: print and std::terminate). An empty function restores the default. The
  /// handler is destroyed on the loop thread when the connection goes while its loop handle is
  /// open (dropped with callbacks just delivered, or never closed); otherwise with the
  /// connection's last handle.
  void set_error_handler(ErrorHandler handler) const;

  /// Same connection.
  bool operator==(const Connection&) const = default;

 private:
  friend class Cursor;
  friend class detail::Executes<Connection>;
  friend class detail::ConnectionCore;
  explicit Connection(std::shared_ptr<detail::ConnectionCore> core) noexcept : core_(std::move(core)) {}

  void start_execute(SqlText sql, Params params, detail::PendingCompletion<Cursor> c) const;
  void start_executemany(SqlText sql, std::vector<Params> seq, detail::PendingCompletion<Cursor> c) const;
  void start_executemany(SqlText sql, ParamsSource next, detail::PendingCompletion<Cursor> c) const;
  void start_executescript(std::string script, detail::PendingCompletion<Cursor> c) const;
  void start_execute_fetchall(SqlText sql, Params params,
                              detail::PendingCompletion<std::vector<Row>> c) const;
  void start_execute_insert(SqlText sql, Params params,
                            detail::PendingCompletion<std::optional<std::int64_t>> c) const;
  void start_commit(detail::PendingCompletion<void> c) const;
  void start_rollback(detail::PendingCompletion<void> c) const;
  void start_close(detail::PendingCompletion<void> c) const;
  void start_cursor(detail::PendingCompletion<Cursor> c) const;
  void start_set_isolation_level(std::optional<std::string> level, detail::PendingCompletion<void> c) const;
  void start_call(std::unique_ptr<detail::WorkCompletion<sqlite3*>> work) const;
  void start_iterdump(detail::PendingCompletion<std::vector<std::string>> c) const;
  void start_set_text_factory(TextFactory factory, detail::PendingCompletion<void> c) const;
  void start_backup(Connection target, sqlite3* raw_target, BackupOptions options,
                    detail::PendingCompletion<void> c) const;
  void start_dump_chunk(std::shared_ptr<detail::Dump> dump, std::size_t max_lines,
                        detail::PendingCompletion<std::vector<std::string>> c) const;
  [[nodiscard]] std::shared_ptr<detail::Dump> new_dump() const;
  void start_create_function(std::string name, int num_params, ScalarFunction fn, bool deterministic,
                             detail::PendingCompletion<void> c) const;
  void start_create_aggregate(std::string name, int num_params, AggregateFactory factory,
                              detail::PendingCompletion<void> c) const;
  void start_create_collation(std::string name, Collation fn, detail::PendingCompletion<void> c) const;
  void start_set_progress_handler(ProgressHandler fn, int n, detail::PendingCompletion<void> c) const;
  void start_set_trace_callback(TraceCallback fn, detail::PendingCompletion<void> c) const;
  void start_set_authorizer(Authorizer fn, detail::PendingCompletion<void> c) const;
  void start_enable_load_extension(bool enabled, detail::PendingCompletion<void> c) const;
  void start_load_extension(std::string path, std::string entry_point,
                            detail::PendingCompletion<void> c) const;

  friend void detail::start_connect(uv_loop_s* loop, std::string path, Options options,
                                    detail::PendingCompletion<Connection> c);

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
                                      detail::PendingCompletion<Connection> c) mutable {
        detail::start_connect(loop, std::move(path), std::move(options), std::move(c));
      });
}

template <class OnLines, class OnDone>
requires std::is_invocable_v<OnLines&, std::vector<std::string>> &&
    std::is_invocable_v<OnDone&, std::exception_ptr>
void Connection::iterdump(OnLines on_lines, OnDone on_done, std::size_t chunk_lines) const {
  struct Stream : std::enable_shared_from_this<Stream> {
    Stream(Connection c, OnLines l, OnDone d, std::size_t n)
        : db(std::move(c)), on_lines(std::move(l)), on_done(std::move(d)), chunk(n == 0 ? 1 : n) {}
    void pull() {
      auto completion = [self = this->shared_from_this()](std::exception_ptr error,
                                                          std::vector<std::string> lines) {
        if (error) {
          self->on_done(std::move(error));
          return;
        }
        const bool last = lines.size() < self->chunk;
        if (!lines.empty()) self->on_lines(std::move(lines));
        if (last) {
          self->on_done(std::exception_ptr{});
        } else {
          self->pull();
        }
      };
      detail::initiate<std::vector<std::string>>(
          std::move(completion), [this](detail::PendingCompletion<std::vector<std::string>> c) {
            db.start_dump_chunk(dump, chunk, std::move(c));
          });
    }
    Connection db;
    OnLines on_lines;
    OnDone on_done;
    std::size_t chunk;
    std::shared_ptr<detail::Dump> dump = db.new_dump();
  };
  std::make_shared<Stream>(*this, std::move(on_lines), std::move(on_done), chunk_lines)->pull();
}

/// Opens a connection with no loop: only the future form exists for it and its cursors.
inline std::future<Connection> connect(std::string path, Options options = {}) {
  return connect(nullptr, std::move(path), std::move(options), use_future);
}

}  // namespace uvsqlite

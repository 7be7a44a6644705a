// Connection: each operation written once, as work for the worker; the completion form comes
// from the caller's token (see completion.hpp).

#include "uvsqlite/connection.hpp"

#include "backup.hpp"
#include "connection_core.hpp"
#include "cursor_core.hpp"
#include "dump.hpp"
#include "functions.hpp"
#include "run_statement.hpp"
#include "transactions.hpp"

namespace uvsqlite {

using detail::ConnectionCore;
using detail::CursorCore;
using detail::ParamsSequence;
using detail::PendingCompletion;
using detail::Session;

namespace {
constexpr const char* kNoConnection = "Cannot operate on a closed database.";
}

void detail::start_connect(uv_loop_s* loop, std::string path, Options options,
                           PendingCompletion<Connection> c) {
  if (c->on_loop() && loop == nullptr) {
    throw ProgrammingError("connect without a loop: only the future form is available");
  }
  auto core = std::make_shared<ConnectionCore>(loop, std::move(path), std::move(options));
  // With a loop, even the future form passes through the bridge (its promise is still fulfilled
  // on the worker): if the open fails, the loop then runs once more and closes the handle.
  if (loop != nullptr && !c->on_loop()) {
    c = PendingCompletion<Connection>(
        std::make_unique<detail::ThroughLoop<Connection>>(std::move(c).to_heap()));
  }
  core->submit<Connection>(std::move(c), [core](Session& s) {
    try {
      s.open();
    } catch (...) {
      // No handle will ever exist to retire the bridge: do it before the failure is posted, so
      // the loop closes its uv_async_t once it delivered it.
      if (core->bridge() != nullptr) core->bridge()->retire();
      throw;
    }
    return Connection(core->front());
  });
}

void Connection::start_execute(SqlText sql, Params params, PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<Cursor>(std::move(c), [core = core_->shared_from_this(), sql = std::move(sql),
                                       params = std::move(params)](Session& s) mutable {
    auto cursor = std::make_shared<CursorCore>(core);
    cursor->execute(s, sql, std::move(params));
    return Cursor(std::move(cursor));
  });
}

namespace {

// Both executemany() forms: a new cursor runs the rows.
void submit_executemany(ConnectionCore& core, SqlText sql, ParamsSequence rows, PendingCompletion<Cursor> c) {
  core.submit<Cursor>(std::move(c), [core = core.shared_from_this(), sql = std::move(sql),
                                     rows = std::move(rows)](Session& s) mutable {
    auto cursor = std::make_shared<CursorCore>(core);
    cursor->executemany(s, sql, rows);
    return CursorCore::handle(std::move(cursor));
  });
}

}  // namespace

void Connection::start_executemany(SqlText sql, std::vector<Params> seq, PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  submit_executemany(*core_, std::move(sql), ParamsSequence(std::move(seq)), std::move(c));
}

void Connection::start_executemany(SqlText sql, ParamsSource next, PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  submit_executemany(*core_, std::move(sql), ParamsSequence(std::move(next)), std::move(c));
}

void Connection::start_executescript(std::string script, PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<Cursor>(std::move(c),
                        [core = core_->shared_from_this(), script = std::move(script)](Session& s) {
                          auto cursor = std::make_shared<CursorCore>(core);
                          cursor->executescript(s, script);
                          return Cursor(std::move(cursor));
                        });
}

void Connection::start_execute_fetchall(SqlText sql, Params params,
                                        PendingCompletion<std::vector<Row>> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<std::vector<Row>>(
      std::move(c),
      [sql = std::move(sql), params = std::move(params), storage = detail::RowStorage::prepare()](
          Session& s) mutable { return detail::run_to_end(s, sql, params, true, std::move(storage)); });
}

void Connection::start_execute_insert(SqlText sql, Params params,
                                      PendingCompletion<std::optional<std::int64_t>> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<std::optional<std::int64_t>>(std::move(c), [sql = std::move(sql),
                                                            params = std::move(params)](Session& s) {
    auto kind = detail::StatementKind::Other;
    detail::run_to_end(s, sql, params, false, {}, &kind);  // an INSERT ... RETURNING runs to its end
    const bool inserted = (kind == detail::StatementKind::Insert || kind == detail::StatementKind::Replace) &&
                          sqlite3_changes64(s.db()) > 0;
    return inserted ? std::optional<std::int64_t>(sqlite3_last_insert_rowid(s.db())) : std::nullopt;
  });
}

void Connection::start_commit(PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [](Session& s) { s.commit(); });
}

void Connection::start_rollback(PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [](Session& s) { s.rollback(); });
}

void Connection::start_close(PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit_close(std::move(c));
}

void Connection::start_cursor(PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<Cursor>(std::move(c), [core = core_->shared_from_this()](Session& /*s*/) {
    return Cursor(std::make_shared<CursorCore>(core));
  });
}

void Connection::start_set_isolation_level(std::optional<std::string> level,
                                           PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [level = std::move(level)](Session& s) { s.set_isolation_level(level); });
}

void Connection::start_call(std::unique_ptr<detail::WorkCompletion<sqlite3*>> work) const {
  PendingCompletion<void> c(std::move(work));
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  // The work lives in the completion, which the job owns while the work runs.
  auto* user = static_cast<detail::WorkCompletion<sqlite3*>*>(c.get());
  core_->submit<void>(std::move(c), [user](Session& s) { user->invoke(s.db()); });
}

void Connection::start_create_function(std::string name, int num_params, ScalarFunction fn,
                                       bool deterministic, PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [name = std::move(name), num_params, fn = std::move(fn),
                                     deterministic](Session& s) mutable {
    detail::create_function(s, name, num_params, std::move(fn), deterministic);
  });
}

void Connection::start_create_aggregate(std::string name, int num_params, AggregateFactory factory,
                                        PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c),
                      [name = std::move(name), num_params, factory = std::move(factory)](Session& s) mutable {
                        detail::create_aggregate(s, name, num_params, std::move(factory));
                      });
}

void Connection::start_create_collation(std::string name, Collation fn, PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [name = std::move(name), fn = std::move(fn)](Session& s) mutable {
    detail::create_collation(s, name, std::move(fn));
  });
}

void Connection::start_set_progress_handler(ProgressHandler fn, int n, PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [fn = std::move(fn), n](Session& s) mutable {
    s.hooks().set_progress_handler(s.db(), std::move(fn), n);
  });
}

void Connection::start_set_trace_callback(TraceCallback fn, PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [fn = std::move(fn)](Session& s) mutable {
    s.hooks().set_trace_callback(s.db(), std::move(fn));
  });
}

void Connection::start_set_authorizer(Authorizer fn, PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [fn = std::move(fn)](Session& s) mutable {
    s.hooks().set_authorizer(s.db(), std::move(fn));
  });
}

void Connection::start_enable_load_extension(bool enabled, PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [enabled](Session& s) {
    s.check(sqlite3_enable_load_extension(s.db(), enabled ? 1 : 0));
  });
}

void Connection::start_load_extension(std::string path, std::string entry_point,
                                      PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(
      std::move(c), [path = std::move(path), entry_point = std::move(entry_point)](Session& s) {
        char* message = nullptr;
        const int rc = sqlite3_load_extension(s.db(), path.c_str(),
                                              entry_point.empty() ? nullptr : entry_point.c_str(), &message);
        if (rc == SQLITE_OK) return;
        const std::string text = message != nullptr ? message : sqlite3_errstr(rc);
        sqlite3_free(message);
        throw_sqlite_error(rc, text);
      });
}

void Connection::start_iterdump(PendingCompletion<std::vector<std::string>> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<std::vector<std::string>>(std::move(c), [](Session& s) {
    detail::Dump dump;
    std::vector<std::string> lines;
    try {
      while (dump.next(s, lines, 4096)) {
      }
    } catch (...) {
      dump.abandon(s);
      throw;
    }
    return lines;
  });
}

namespace {
// Destroys a streamed dump on the worker: its statement belongs to the worker's connection.
class DestroyDumpJob final : public detail::Job {
 public:
  explicit DestroyDumpJob(detail::Dump* dump) noexcept : dump_(dump) {}
  void run(Session& s) noexcept override { dump_->abandon(s); }
  // The connection is closed: its close finalized the statement already.
  void fail(std::exception_ptr /*error*/) noexcept override {}

 private:
  std::unique_ptr<detail::Dump> dump_;
};
}  // namespace

std::shared_ptr<detail::Dump> Connection::new_dump() const {
  if (!core_) return nullptr;
  return {new detail::Dump, [core = core_->shared_from_this()](detail::Dump* dump) {
            std::unique_ptr<detail::Job> job;
            try {
              job = std::make_unique<DestroyDumpJob>(dump);
            } catch (...) {
              return;  // out of memory: leak the dump rather than touch the connection here
            }
            core->submit_internal(std::move(job));
          }};
}

void Connection::start_dump_chunk(std::shared_ptr<detail::Dump> dump, std::size_t max_lines,
                                  PendingCompletion<std::vector<std::string>> c) const {
  if (!core_ || !dump) return detail::fail_unbound(c, kNoConnection);
  core_->submit<std::vector<std::string>>(std::move(c), [dump = std::move(dump), max_lines](Session& s) {
    std::vector<std::string> lines;
    try {
      dump->next(s, lines, max_lines);
    } catch (...) {
      dump->abandon(s);
      throw;
    }
    return lines;
  });
}

void Connection::start_backup(Connection target, sqlite3* raw_target, BackupOptions options,
                              PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  std::shared_ptr<ConnectionCore> target_core;
  if (raw_target == nullptr) {
    if (!target.core_) return detail::fail_unbound(c, "backup target is not a connection");
    // The core itself, not the front handle: the target's jobs must not count as a user's handle.
    target_core = target.core_->shared_from_this();
  }
  detail::start_backup(core_->shared_from_this(), target_core, raw_target, std::move(options), std::move(c));
}

void Connection::start_set_text_factory(TextFactory factory, PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [factory = std::move(factory)](Session& s) mutable {
    s.text_factory() = std::move(factory);
  });
}

void Connection::interrupt() const {
  if (core_) core_->interrupt();
}

bool Connection::in_transaction() const {
  return core_ && core_->shared().in_transaction.load(std::memory_order_relaxed);
}

std::optional<std::string> Connection::isolation_level() const {
  if (!core_) return std::nullopt;
  std::lock_guard lock(core_->shared().mutex);
  return core_->shared().isolation_level;
}

std::int64_t Connection::total_changes() const {
  return core_ ? core_->shared().total_changes.load(std::memory_order_relaxed) : 0;
}

uv_loop_s* Connection::loop() const noexcept { return core_ ? core_->loop() : nullptr; }

void Connection::set_error_handler(ErrorHandler handler) const {
  if (core_ && core_->bridge() != nullptr) core_->bridge()->set_error_handler(std::move(handler));
}

}  // namespace uvsqlite

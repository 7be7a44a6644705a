// Connection: each operation written once, as work for the worker; the completion form comes
// from the caller's token (see completion.hpp).

#include "uvsqlite/connection.hpp"

#include "connection_core.hpp"
#include "cursor_core.hpp"
#include "transactions.hpp"

namespace uvsqlite {

using detail::CompletionPtr;
using detail::ConnectionCore;
using detail::CursorCore;
using detail::Session;

namespace {
constexpr const char* kNoConnection = "Cannot operate on a closed database.";
}

void detail::start_connect(uv_loop_s* loop, std::string path, Options options, CompletionPtr<Connection> c) {
  if (c->on_loop() && loop == nullptr) {
    throw ProgrammingError("connect without a loop: only the future form is available");
  }
  auto core = std::make_shared<ConnectionCore>(loop, std::move(path), std::move(options));
  // With a loop, even the future form passes through the bridge (its promise is still fulfilled
  // on the worker): if the open fails, the loop then runs once more and closes the handle,
  // which no front handle will ever retire.
  if (loop != nullptr && !c->on_loop()) c = std::make_unique<detail::ThroughLoop<Connection>>(std::move(c));
  core->submit<Connection>(std::move(c), [core](Session& s) {
    s.open();
    return Connection(core->front());
  });
}

void Connection::start_execute(std::string sql, Params params, CompletionPtr<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<Cursor>(std::move(c), [core = core_->shared_from_this(), sql = std::move(sql),
                                       params = std::move(params)](Session& s) mutable {
    auto cursor = std::make_shared<CursorCore>(core);
    cursor->execute(s, sql, std::move(params));
    return Cursor(std::move(cursor));
  });
}

void Connection::start_executemany(std::string sql, std::vector<Params> seq, CompletionPtr<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<Cursor>(std::move(c), [core = core_->shared_from_this(), sql = std::move(sql),
                                       seq = std::move(seq)](Session& s) {
    auto cursor = std::make_shared<CursorCore>(core);
    cursor->executemany(s, sql, seq);
    return Cursor(std::move(cursor));
  });
}

void Connection::start_executescript(std::string script, CompletionPtr<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<Cursor>(std::move(c),
                        [core = core_->shared_from_this(), script = std::move(script)](Session& s) {
                          auto cursor = std::make_shared<CursorCore>(core);
                          cursor->executescript(s, script);
                          return Cursor(std::move(cursor));
                        });
}

void Connection::start_execute_fetchall(std::string sql, Params params,
                                        CompletionPtr<std::vector<Row>> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<std::vector<Row>>(std::move(c), [core = core_->shared_from_this(), sql = std::move(sql),
                                                 params = std::move(params)](Session& s) mutable {
    CursorCore cursor(core);
    cursor.execute(s, sql, std::move(params));
    auto rows = cursor.fetchall(s);
    cursor.release(s);
    return rows;
  });
}

void Connection::start_execute_insert(std::string sql, Params params,
                                      CompletionPtr<std::optional<std::int64_t>> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<std::optional<std::int64_t>>(std::move(c), [core = core_->shared_from_this(),
                                                            sql = std::move(sql),
                                                            params = std::move(params)](Session& s) mutable {
    const auto kind = detail::statement_kind(sql);
    CursorCore cursor(core);
    cursor.execute(s, sql, std::move(params));
    cursor.fetchall(s);  // finish an INSERT ... RETURNING
    cursor.release(s);
    const bool inserted = (kind == detail::StatementKind::Insert || kind == detail::StatementKind::Replace) &&
                          sqlite3_changes64(s.db()) > 0;
    return inserted ? std::optional<std::int64_t>(sqlite3_last_insert_rowid(s.db())) : std::nullopt;
  });
}

void Connection::start_commit(CompletionPtr<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [](Session& s) { s.commit(); });
}

void Connection::start_rollback(CompletionPtr<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [](Session& s) { s.rollback(); });
}

void Connection::start_close(CompletionPtr<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit_close(std::move(c));
}

void Connection::start_cursor(CompletionPtr<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<Cursor>(std::move(c), [core = core_->shared_from_this()](Session& /*s*/) {
    return Cursor(std::make_shared<CursorCore>(core));
  });
}

void Connection::start_set_isolation_level(std::optional<std::string> level, CompletionPtr<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoConnection);
  core_->submit<void>(std::move(c), [level = std::move(level)](Session& s) { s.set_isolation_level(level); });
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

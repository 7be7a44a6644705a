#include "session.hpp"

#include <algorithm>
#include <cmath>

#include "transactions.hpp"
#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

Session::Session(std::string path, Options options, std::shared_ptr<SharedState> shared)
    : path_(std::move(path)),
      options_(std::move(options)),
      shared_(std::move(shared)),
      cache_(static_cast<std::size_t>(std::max(options_.cached_statements, 0))) {}

Session::~Session() { close(); }

void Session::open() {
  isolation_level_ = checked_isolation_level(options_.isolation_level);
  int flags = options_.read_only ? SQLITE_OPEN_READONLY
                                 : (SQLITE_OPEN_READWRITE | (options_.create ? SQLITE_OPEN_CREATE : 0));
  // The worker is the only thread using the handle (interrupt is documented thread-safe), so
  // SQLite's per-connection mutex is not needed.
  flags |= SQLITE_OPEN_NOMUTEX;
  if (options_.uri) flags |= SQLITE_OPEN_URI;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, nullptr);
  std::unique_ptr<sqlite3, Closer> db(raw);
  if (rc != SQLITE_OK) {
    closed_ = true;
    const int code = raw != nullptr ? sqlite3_extended_errcode(raw) : rc;
    throw_sqlite_error(code, raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  // Extension loading is off until enable_load_extension(true), whatever SQLite's build default
  // (Debian's enables it for the C API).
  sqlite3_enable_load_extension(raw, 0);
  const double ms = std::clamp(options_.timeout * 1000.0, 0.0, 2147483647.0);
  sqlite3_busy_timeout(raw, static_cast<int>(std::lround(ms)));
  db_ = std::move(db);
  {
    std::lock_guard lock(shared_->mutex);
    shared_->interruptible = raw;
    shared_->isolation_level = isolation_level_;
  }
  publish();
}

void Session::close() noexcept {
  if (db_) {
    {
      std::lock_guard lock(shared_->mutex);
      shared_->interruptible = nullptr;
    }
    for (CursorWork* c : cursors_) {
      c->stmt.reset();
      c->row_ready = false;
      c->tracked = false;
    }
    cursors_.clear();
    cache_.clear();
    hooks_.clear(db_.get());
    db_.reset();
    shared_->in_transaction.store(false, std::memory_order_relaxed);
  }
  closed_ = true;
}

std::unique_ptr<Statement> Session::prepare(std::string_view sql) {
  if (auto cached = cache_.take(sql)) return cached;
  return Statement::prepare(db_.get(), std::string(sql), cache_.capacity() > 0);
}

void Session::begin_if_needed(const Statement& stmt) {
  if (isolation_level_ && stmt.is_dml() && sqlite3_get_autocommit(db_.get()) != 0) {
    run_simple(begin_statement(*isolation_level_));
  }
}

void Session::commit() {
  if (sqlite3_get_autocommit(db_.get()) == 0) run_simple("COMMIT");
}

void Session::rollback() {
  if (sqlite3_get_autocommit(db_.get()) == 0) run_simple("ROLLBACK");
}

void Session::set_isolation_level(const std::optional<std::string>& level) {
  auto checked = checked_isolation_level(level);
  if (!checked) commit();
  isolation_level_ = std::move(checked);
  std::lock_guard lock(shared_->mutex);
  shared_->isolation_level = isolation_level_;
}

void Session::track(CursorWork& cursor) {
  if (cursor.tracked) return;
  cursors_.insert(&cursor);
  cursor.tracked = true;
}

void Session::untrack(CursorWork& cursor) noexcept {
  if (!cursor.tracked) return;
  cursors_.erase(&cursor);
  cursor.tracked = false;
}

void Session::publish() noexcept {
  if (!db_) return;
  shared_->in_transaction.store(sqlite3_get_autocommit(db_.get()) == 0, std::memory_order_relaxed);
  shared_->total_changes.store(sqlite3_total_changes64(db_.get()), std::memory_order_relaxed);
}

std::exception_ptr Session::error() const {
  return make_sqlite_error(sqlite3_extended_errcode(db_.get()), sqlite3_errmsg(db_.get()));
}

void Session::raise() const { std::rethrow_exception(error()); }

void Session::run_simple(std::string_view sql) {
  auto stmt = prepare(sql);
  const int rc = stmt->step();
  std::exception_ptr failure = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? nullptr : error();
  release(std::move(stmt));
  if (failure) std::rethrow_exception(failure);
}

}  // namespace uvsqlite::detail

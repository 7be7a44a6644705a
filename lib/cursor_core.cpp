#include "cursor_core.hpp"

#include <limits>
#include <utility>

#include "row_block.hpp"
#include "run_statement.hpp"
#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

namespace {

// Returns a dropped cursor's statement to the cache. If the connection is already closed, its
// close finalized the statement: nothing to do.
class ReleaseJob final : public Job {
 public:
  explicit ReleaseJob(std::shared_ptr<CursorWork> work) : work_(std::move(work)) {}
  void run(Session& s) noexcept override {
    s.release(std::move(work_->stmt));
    s.untrack(*work_);
  }
  void fail(std::exception_ptr /*error*/) noexcept override {}

 private:
  std::shared_ptr<CursorWork> work_;
};

}  // namespace

CursorCore::CursorCore(std::shared_ptr<ConnectionCore> connection)
    : connection_(std::move(connection)), work_(std::make_shared<CursorWork>()) {}

CursorCore::~CursorCore() {
  // No job of this cursor is queued (each holds a reference), so the flag is settled.
  if (!holds_statement_.load(std::memory_order_acquire)) return;
  try {
    connection_->submit_internal(std::make_unique<ReleaseJob>(std::move(work_)));
  } catch (...) {
    // Out of memory: the statement stays registered and is finalized by the connection's close.
  }
}

const TextFactory* CursorCore::text_factory(Session& s) const noexcept {
  return work_->text_factory ? &work_->text_factory : &s.text_factory();
}

void CursorCore::set_text_factory(TextFactory factory) { work_->text_factory = std::move(factory); }

void CursorCore::check_open() const {
  if (work_->closed) throw ProgrammingError("Cannot operate on a closed cursor.");
}

void CursorCore::release(Session& s) noexcept {
  work_->row_ready = false;
  s.release(std::move(work_->stmt));
  s.untrack(*work_);
  holds_statement_.store(false, std::memory_order_release);
}

void CursorCore::publish(std::shared_ptr<const Columns> description, std::int64_t rowcount,
                         std::optional<std::int64_t> lastrowid) {
  std::lock_guard lock(mutex_);
  description_ = std::move(description);
  rowcount_ = rowcount;
  lastrowid_ = lastrowid;
  buffer_.clear();
  exhausted_ = false;
}

void CursorCore::execute(Session& s, std::string_view sql, Params params) {
  check_open();
  release(s);
  try {
    run(s, sql, std::move(params));
  } catch (...) {
    // As Python 3.11: a failed execute leaves no description, rowcount -1, lastrowid as it was.
    std::lock_guard lock(mutex_);
    description_.reset();
    rowcount_ = -1;
    buffer_.clear();
    exhausted_ = false;
    throw;
  }
}

void CursorCore::run(Session& s, std::string_view sql, Params params) {
  work_->params = std::move(params);
  auto [stmt, rc] = start_statement(s, sql, work_->params);
  // After the first step: a schema change re-prepares the statement inside sqlite3_step.
  std::shared_ptr<const Columns> columns = stmt->describe(s.options().detect_types);
  sqlite3* db = s.db();
  // A DML statement's changes count once it is done (an INSERT ... RETURNING: at the last row).
  const std::int64_t rowcount = !stmt->is_dml() ? -1 : (rc == SQLITE_DONE ? sqlite3_changes64(db) : 0);
  publish(std::move(columns), rowcount, sqlite3_last_insert_rowid(db));
  if (rc == SQLITE_ROW) {
    work_->stmt = std::move(stmt);
    work_->row_ready = true;
    s.track(*work_);
    holds_statement_.store(true, std::memory_order_release);
  } else {
    s.release(std::move(stmt));
  }
}

void CursorCore::executemany(Session& s, std::string_view sql, ParamsSequence& rows) {
  check_open();
  release(s);
  auto stmt = s.prepare(sql);
  std::int64_t total = 0;
  try {
    if (stmt->readonly()) throw ProgrammingError("executemany() can only execute DML statements.");
    bool begun = false;
    while (const Params* params = rows.next()) {
      stmt->bind(*params);
      if (!begun) {
        // Once per call: no row of a DML statement ends the transaction the first row opened
        // (one that fails raises). Python begins before it takes the first row; no row, no
        // transaction here.
        s.begin_if_needed(*stmt);
        begun = true;
      }
      int rc = stmt->step();
      while (rc == SQLITE_ROW) rc = stmt->step();  // RETURNING rows are not kept
      if (rc != SQLITE_DONE) s.raise();
      if (stmt->is_dml()) total += sqlite3_changes64(s.db());
      stmt->rewind();  // bind() sets every parameter again
    }
  } catch (...) {
    s.release(std::move(stmt));  // lets go of the rows it points into before they go
    rows.finish();
    throw;
  }
  std::shared_ptr<const Columns> columns = stmt->describe(s.options().detect_types);
  const bool dml = stmt->is_dml();
  s.release(std::move(stmt));
  rows.finish();
  std::optional<std::int64_t> lastrowid;
  {
    std::lock_guard lock(mutex_);
    lastrowid = lastrowid_;  // executemany leaves lastrowid alone, as in Python 3.11
  }
  publish(std::move(columns), dml ? total : -1, lastrowid);
}

void CursorCore::executescript(Session& s, const std::string& script) {
  check_open();
  release(s);
  if (script.find('\0') != std::string::npos) throw ProgrammingError("the script contains a null character");
  s.commit();
  sqlite3* db = s.db();
  const char* sql = script.c_str();
  while (*sql != '\0') {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, &tail) != SQLITE_OK) s.raise();
    if (stmt != nullptr) {
      int rc = SQLITE_ROW;
      while (rc == SQLITE_ROW) rc = sqlite3_step(stmt);
      std::exception_ptr error = rc == SQLITE_DONE ? nullptr : s.error();
      sqlite3_finalize(stmt);
      if (error) std::rethrow_exception(error);
    }
    sql = tail;
  }
}

void CursorCore::advance(Session& s) {
  const int rc = work_->stmt->step();
  if (rc == SQLITE_ROW) return;
  std::exception_ptr error = rc == SQLITE_DONE ? nullptr : s.error();
  if (rc == SQLITE_DONE && work_->stmt->is_dml()) {
    std::lock_guard lock(mutex_);
    rowcount_ = sqlite3_changes64(s.db());
  }
  release(s);
  if (error) std::rethrow_exception(error);
}

std::vector<Row> CursorCore::fetchmany(Session& s, std::size_t size, RowStorage storage) {
  check_open();
  if (!work_->row_ready || size == 0) return {};
  RowBuilder rows(work_->stmt->columns(), std::move(storage), size);
  const TextFactory* factory = text_factory(s);
  while (rows.size() < size && work_->row_ready) {
    work_->stmt->read_row(factory, rows.next_row(static_cast<std::size_t>(work_->stmt->width())));
    advance(s);
  }
  return rows.take();
}

std::vector<Row> CursorCore::fetchall(Session& s) {
  return fetchmany(s, std::numeric_limits<std::size_t>::max());
}

void CursorCore::close(Session& s) noexcept {
  release(s);
  work_->closed = true;
}

std::vector<Column> CursorCore::description() const {
  std::lock_guard lock(mutex_);
  return description_ ? *description_ : std::vector<Column>{};
}

std::size_t CursorCore::width() const {
  std::lock_guard lock(mutex_);
  return description_ ? description_->size() : 0;
}

std::int64_t CursorCore::rowcount() const {
  std::lock_guard lock(mutex_);
  return rowcount_;
}

std::optional<std::int64_t> CursorCore::lastrowid() const {
  std::lock_guard lock(mutex_);
  return lastrowid_;
}

bool CursorCore::take_buffered(std::optional<Row>& out) {
  std::lock_guard lock(mutex_);
  if (!buffer_.empty()) {
    out = std::move(buffer_.front());
    buffer_.pop_front();
    return true;
  }
  out.reset();
  return exhausted_;
}

void CursorCore::refill(std::vector<Row> rows) {
  std::lock_guard lock(mutex_);
  if (rows.empty()) exhausted_ = true;
  for (auto& r : rows) buffer_.push_back(std::move(r));
}

}  // namespace uvsqlite::detail

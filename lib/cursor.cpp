// Cursor: each operation written once, as work for the connection's worker.

#include "uvsqlite/cursor.hpp"

#include "connection_core.hpp"
#include "cursor_core.hpp"
#include "uvsqlite/connection.hpp"

namespace uvsqlite {

using detail::CursorCore;
using detail::ParamsSequence;
using detail::PendingCompletion;
using detail::Session;

namespace {
constexpr const char* kNoCursor = "Cannot operate on a closed cursor.";

// The work `fn(cursor, session)` on `cursor`, whose reference leaves the job when the work
// ends: a finished job may wait a while for its submitter to destroy it (see Worker), and must
// not keep the cursor alive meanwhile, since the cursor's end is what queues the release of its
// statement (and of the read lock it holds) before any later operation.
template <class Fn>
auto on_cursor(std::shared_ptr<CursorCore> cursor, Fn fn) {
  return [cursor = std::move(cursor), fn = std::move(fn)](Session& s) mutable {
    const std::shared_ptr<CursorCore> self = std::move(cursor);
    return fn(self, s);
  };
}
}  // namespace

Cursor::Cursor(std::shared_ptr<detail::CursorCore> core)
    : core_(std::move(core)), connection_(core_ ? core_->connection()->front() : nullptr) {}

void Cursor::start_execute(SqlText sql, Params params, PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  core_->connection()->submit<Cursor>(
      std::move(c), on_cursor(core_, [sql = std::move(sql), params = std::move(params)](
                                         const std::shared_ptr<CursorCore>& self, Session& s) mutable {
        self->execute(s, sql, std::move(params));
        return Cursor(self);
      }));
}

namespace {

// Both executemany() forms: the cursor runs the rows itself.
void submit_executemany(const std::shared_ptr<CursorCore>& cursor, SqlText sql, ParamsSequence rows,
                        PendingCompletion<Cursor> c) {
  // The rows stay in the job, to be freed by the submitter (where they were made).
  cursor->connection()->submit<Cursor>(
      std::move(c), on_cursor(cursor, [sql = std::move(sql), rows = std::move(rows)](
                                          const std::shared_ptr<CursorCore>& self, Session& s) mutable {
        self->executemany(s, sql, rows);
        return CursorCore::handle(self);
      }));
}

}  // namespace

void Cursor::start_executemany(SqlText sql, std::vector<Params> seq, PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  submit_executemany(core_, std::move(sql), ParamsSequence(std::move(seq)), std::move(c));
}

void Cursor::start_executemany(SqlText sql, ParamsSource next, PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  submit_executemany(core_, std::move(sql), ParamsSequence(std::move(next)), std::move(c));
}

void Cursor::start_executescript(std::string script, PendingCompletion<Cursor> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  core_->connection()->submit<Cursor>(
      std::move(c),
      on_cursor(core_, [script = std::move(script)](const std::shared_ptr<CursorCore>& self, Session& s) {
        self->executescript(s, script);
        return Cursor(self);
      }));
}

void Cursor::start_fetchone(PendingCompletion<std::optional<Row>> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  core_->connection()->submit<std::optional<Row>>(
      std::move(c), on_cursor(core_, [storage = detail::RowStorage::prepare()](
                                         const std::shared_ptr<CursorCore>& self, Session& s) mutable {
        auto rows = self->fetchmany(s, 1, std::move(storage));
        return rows.empty() ? std::nullopt : std::optional<Row>(std::move(rows.front()));
      }));
}

void Cursor::start_fetchmany(std::size_t size, PendingCompletion<std::vector<Row>> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  // The rows are made in memory allocated here, on the thread that will most likely free them.
  core_->connection()->submit<std::vector<Row>>(
      std::move(c), on_cursor(core_, [size, storage = detail::RowStorage::prepare(size, core_->width())](
                                         const std::shared_ptr<CursorCore>& self, Session& s) mutable {
        return self->fetchmany(s, size, std::move(storage));
      }));
}

void Cursor::start_fetchall(PendingCompletion<std::vector<Row>> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  core_->connection()->submit<std::vector<Row>>(
      std::move(c), on_cursor(core_, [](const std::shared_ptr<CursorCore>& self, Session& s) {
        return self->fetchall(s);
      }));
}

void Cursor::start_close(PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  core_->connection()->submit<void>(std::move(c), on_cursor(core_, [](const std::shared_ptr<CursorCore>& self,
                                                                      Session& s) { self->close(s); }));
}

void Cursor::start_set_text_factory(TextFactory factory, PendingCompletion<void> c) const {
  if (!core_) return detail::fail_unbound(c, kNoCursor);
  core_->connection()->submit<void>(
      std::move(c), on_cursor(core_, [factory = std::move(factory)](const std::shared_ptr<CursorCore>& self,
                                                                    Session& /*s*/) mutable {
        self->set_text_factory(std::move(factory));
      }));
}

std::size_t Cursor::arraysize() const noexcept { return core_ ? core_->arraysize.load() : 1; }

void Cursor::set_arraysize(std::size_t n) const noexcept {
  if (core_) core_->arraysize.store(n);
}

std::size_t Cursor::iter_chunk_size() const noexcept {
  return core_ ? core_->connection()->options().iter_chunk_size : 64;
}

Connection Cursor::connection() const { return Connection(connection_); }

std::vector<Column> Cursor::description() const {
  return core_ ? core_->description() : std::vector<Column>{};
}

std::optional<std::int64_t> Cursor::lastrowid() const { return core_ ? core_->lastrowid() : std::nullopt; }

std::int64_t Cursor::rowcount() const { return core_ ? core_->rowcount() : -1; }

bool Cursor::take_buffered(std::optional<Row>& out) const {
  if (!core_) {
    out.reset();
    return false;
  }
  return core_->take_buffered(out);
}

void Cursor::refill(std::vector<Row> rows) const {
  if (core_) core_->refill(std::move(rows));
}

}  // namespace uvsqlite

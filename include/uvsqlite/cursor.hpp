#pragma once
/// @file cursor.hpp
/// A cursor: a handle over one statement that runs on its connection's worker.
///
/// Threads: every asynchronous member is queued on the connection's worker in submission order
/// and may be called from any thread. The immediate members (description, rowcount, lastrowid,
/// arraysize) read the state as of the cursor's last completed operation and are safe from any
/// thread.

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "uvsqlite/completion.hpp"
#include "uvsqlite/executes.hpp"
#include "uvsqlite/factories.hpp"
#include "uvsqlite/params.hpp"
#include "uvsqlite/row.hpp"
#include "uvsqlite/sql_text.hpp"

namespace uvsqlite {

class Connection;
class Cursor;

namespace detail {
class CursorCore;
class ConnectionCore;
class NextAwaitable;
}  // namespace detail

/// A cursor (sqlite3.Cursor / aiosqlite.Cursor). Copies are handles to the same cursor; the
/// statement is released on the worker when the last handle goes, or at close().
class Cursor : public detail::Executes<Cursor> {
 public:
  /// A cursor that belongs to no connection; its operations fail with ProgrammingError.
  Cursor() = default;

  /// The next row, or std::nullopt when the result is exhausted (or nothing was executed).
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::optional<Row>>
  auto fetchone(Token&& token = {}) const {
    return detail::initiate<std::optional<Row>>(
        std::forward<Token>(token), [self = *this](detail::PendingCompletion<std::optional<Row>> c) {
          self.start_fetchone(std::move(c));
        });
  }

  /// Up to `size` next rows (fewer at the end of the result).
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::vector<Row>>
  auto fetchmany(std::size_t size, Token&& token = {}) const {
    return detail::initiate<std::vector<Row>>(
        std::forward<Token>(token), [self = *this, size](detail::PendingCompletion<std::vector<Row>> c) {
          self.start_fetchmany(size, std::move(c));
        });
  }
  /// Up to arraysize() next rows.
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::vector<Row>>
  auto fetchmany(Token&& token = {}) const { return fetchmany(arraysize(), std::forward<Token>(token)); }

  /// Every remaining row.
  template <class Token = use_future_t>
  requires CompletionToken<Token, std::vector<Row>>
  auto fetchall(Token&& token = {}) const {
    return detail::initiate<std::vector<Row>>(
        std::forward<Token>(token),
        [self = *this](detail::PendingCompletion<std::vector<Row>> c) { self.start_fetchall(std::move(c)); });
  }

  /// Every remaining row as T (see row_cast), converted on the worker: the C++ row_factory.
  template <class T, class Token = use_future_t>
  requires(!CompletionToken<T, std::vector<Row>>) && CompletionToken<Token, std::vector<T>> auto fetchall(
                                                         Token&& token = {}) const {
    return detail::initiate<std::vector<T>>(
        std::forward<Token>(token), [self = *this](detail::PendingCompletion<std::vector<T>> c) {
          auto convert = [](std::vector<Row> rows) {
            std::vector<T> out;
            out.reserve(rows.size());
            for (const Row& row : rows) out.push_back(row_cast<T>(row));
            return out;
          };
          self.start_fetchall(detail::PendingCompletion<std::vector<Row>>(
              std::make_unique<detail::MapCompletion<std::vector<Row>, std::vector<T>, decltype(convert)>>(
                  convert, std::move(c))));
        });
  }

  /// The next row as T (see row_cast), or std::nullopt at the end.
  template <class T, class Token = use_future_t>
  requires(!CompletionToken<T, std::optional<Row>>) && CompletionToken<Token, std::optional<T>> auto fetchone(
                                                           Token&& token = {}) const {
    return detail::initiate<
        std::optional<T>>(std::forward<Token>(token), [self = *this](
                                                          detail::PendingCompletion<std::optional<T>> c) {
      auto convert = [](std::optional<Row> row) {
        return row ? std::optional<T>(row_cast<T>(*row)) : std::nullopt;
      };
      self.start_fetchone(detail::PendingCompletion<std::optional<Row>>(
          std::make_unique<detail::MapCompletion<std::optional<Row>, std::optional<T>, decltype(convert)>>(
              convert, std::move(c))));
    });
  }

  /// Sets this cursor's text factory (overriding the connection's); an empty one restores the
  /// connection's. Queued like any operation.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto set_text_factory(TextFactory factory, Token&& token = {}) const {
    return detail::initiate<void>(std::forward<Token>(token), [self = *this, factory = std::move(factory)](
                                                                  detail::PendingCompletion<void> c) mutable {
      self.start_set_text_factory(std::move(factory), std::move(c));
    });
  }

  /// Releases the statement; later operations on this cursor fail with ProgrammingError.
  template <class Token = use_future_t>
  requires CompletionToken<Token, void>
  auto close(Token&& token = {}) const {
    return detail::initiate<void>(
        std::forward<Token>(token),
        [self = *this](detail::PendingCompletion<void> c) { self.start_close(std::move(c)); });
  }

  /// Streams every remaining row to `on_row(Row)` on the loop thread, iter_chunk_size() rows per
  /// worker hop; the next chunk is requested when the previous one is handed over (the worker
  /// makes it while on_row consumes that one), so memory stays bounded by two chunks. Then calls
  /// `on_done(std::exception_ptr)` once (null on success). Needs a connection with a loop. @throws
  /// ProgrammingError without a loop.
  template <class OnRow, class OnDone>
  void each(OnRow on_row, OnDone on_done) const;

  /// For coroutines: `while (auto row = co_await cursor.next()) { ... }`. Yields the next row, or
  /// std::nullopt at the end; fetches iter_chunk_size() rows per worker hop.
  [[nodiscard]] detail::NextAwaitable next() const;

  /// Rows per fetchmany() without a size (default 1).
  [[nodiscard]] std::size_t arraysize() const noexcept;
  /// Sets arraysize().
  void set_arraysize(std::size_t n) const noexcept;
  /// Rows per worker hop for each() and next() (the connection's Options::iter_chunk_size).
  [[nodiscard]] std::size_t iter_chunk_size() const noexcept;
  /// The connection this cursor belongs to.
  [[nodiscard]] Connection connection() const;
  /// Columns of the last executed statement; empty for a statement that returns no columns.
  [[nodiscard]] std::vector<Column> description() const;
  /// Python 3.11 rules: nullopt before any execute(); after each execute() the connection's
  /// sqlite3_last_insert_rowid(); unchanged by executemany() and executescript().
  [[nodiscard]] std::optional<std::int64_t> lastrowid() const;
  /// Python 3.11 rules: -1 before any execute and for statements other than
  /// INSERT/UPDATE/DELETE/REPLACE; for those, the rows changed (summed over executemany()).
  [[nodiscard]] std::int64_t rowcount() const;

  /// Same cursor.
  bool operator==(const Cursor&) const = default;

 private:
  friend class Connection;
  friend class detail::Executes<Cursor>;
  friend class detail::ConnectionCore;
  friend class detail::CursorCore;
  friend class detail::NextAwaitable;
  explicit Cursor(std::shared_ptr<detail::CursorCore> core);

  void start_execute(SqlText sql, Params params, detail::PendingCompletion<Cursor> c) const;
  void start_executemany(SqlText sql, std::vector<Params> seq, detail::PendingCompletion<Cursor> c) const;
  void start_executemany(SqlText sql, ParamsSource next, detail::PendingCompletion<Cursor> c) const;
  void start_executescript(std::string script, detail::PendingCompletion<Cursor> c) const;
  void start_fetchone(detail::PendingCompletion<std::optional<Row>> c) const;
  void start_fetchmany(std::size_t size, detail::PendingCompletion<std::vector<Row>> c) const;
  void start_fetchall(detail::PendingCompletion<std::vector<Row>> c) const;
  void start_close(detail::PendingCompletion<void> c) const;
  void start_set_text_factory(TextFactory factory, detail::PendingCompletion<void> c) const;

  // The coroutine iteration buffer (loop thread).
  [[nodiscard]] bool take_buffered(std::optional<Row>& out) const;
  void refill(std::vector<Row> rows) const;

  std::shared_ptr<detail::CursorCore> core_;
  // The connection's front handle: a cursor keeps its connection's loop handle in service, as a
  // Connection handle does.
  std::shared_ptr<detail::ConnectionCore> connection_;
};

namespace detail {

/// The awaitable returned by Cursor::next(): ready at once while a fetched chunk has rows left.
class NextAwaitable {
 public:
  explicit NextAwaitable(Cursor cursor) : cursor_(std::move(cursor)) {}
  bool await_ready() { return ready_ = cursor_.take_buffered(row_); }
  void await_suspend(std::coroutine_handle<> handle) {
    inner_.emplace(cursor_.fetchmany(cursor_.iter_chunk_size(), use_awaitable));
    inner_->await_suspend(handle);
  }
  std::optional<Row> await_resume() {
    if (!ready_) {
      cursor_.refill(inner_->await_resume());
      (void)cursor_.take_buffered(row_);
    }
    return std::move(row_);
  }

 private:
  using Fetch = decltype(std::declval<const Cursor&>().fetchmany(std::size_t{}, use_awaitable));
  Cursor cursor_;
  std::optional<Row> row_;
  std::optional<Fetch> inner_;
  bool ready_ = false;
};

}  // namespace detail

inline detail::NextAwaitable Cursor::next() const { return detail::NextAwaitable(*this); }

template <class OnRow, class OnDone>
void Cursor::each(OnRow on_row, OnDone on_done) const {
  struct Stream : std::enable_shared_from_this<Stream> {
    Stream(Cursor c, OnRow r, OnDone d) : cursor(std::move(c)), on_row(std::move(r)), on_done(std::move(d)) {}
    void pull() {
      const std::size_t chunk = cursor.iter_chunk_size();
      cursor.fetchmany(
          chunk, [self = this->shared_from_this(), chunk](std::exception_ptr error, std::vector<Row> rows) {
            if (error) {
              self->on_done(std::move(error));
              return;
            }
            // The consumer has taken this chunk: the worker makes the next one while these rows
            // are handed over, so at most two chunks exist at a time.
            const bool more = rows.size() == chunk;
            if (more) self->pull();
            for (auto& row : rows) self->on_row(std::move(row));
            if (!more) self->on_done(std::exception_ptr{});
          });
    }
    Cursor cursor;
    OnRow on_row;
    OnDone on_done;
  };
  std::make_shared<Stream>(*this, std::move(on_row), std::move(on_done))->pull();
}

}  // namespace uvsqlite

#pragma once
// What a Cursor handle points to. The worker-side state (CursorWork) is touched only inside jobs
// on the connection's worker; the published attributes are guarded by a mutex so that the
// immediate accessors may be called from any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connection_core.hpp"
#include "cursor_work.hpp"
#include "params_sequence.hpp"
#include "row_block.hpp"
#include "session.hpp"
#include "uvsqlite/cursor.hpp"
#include "uvsqlite/params.hpp"
#include "uvsqlite/row.hpp"

namespace uvsqlite::detail {

class CursorCore {
 public:
  explicit CursorCore(std::shared_ptr<ConnectionCore> connection);
  CursorCore(const CursorCore&) = delete;
  CursorCore& operator=(const CursorCore&) = delete;
  /// The last handle is gone: the statement goes back to the cache, on the worker.
  ~CursorCore();

  /// The public handle over `core` (Cursor's constructor is private to its friends).
  static Cursor handle(std::shared_ptr<CursorCore> core) { return Cursor(std::move(core)); }

  // Worker thread, inside a job.
  void execute(Session& s, std::string_view sql, Params params);
  void executemany(Session& s, std::string_view sql, ParamsSequence& rows);
  void executescript(Session& s, const std::string& script);
  /// Up to `size` rows, made in `storage` first (see RowStorage).
  std::vector<Row> fetchmany(Session& s, std::size_t size, RowStorage storage = {});
  std::vector<Row> fetchall(Session& s);
  /// Any thread: the number of result columns of the last execute (0 before any).
  [[nodiscard]] std::size_t width() const;
  void close(Session& s) noexcept;
  void set_text_factory(TextFactory factory);
  /// Gives the statement back to the session's cache and unregisters from the session.
  void release(Session& s) noexcept;

  // Any thread.
  [[nodiscard]] const std::shared_ptr<ConnectionCore>& connection() const noexcept { return connection_; }
  [[nodiscard]] std::vector<Column> description() const;
  [[nodiscard]] std::int64_t rowcount() const;
  [[nodiscard]] std::optional<std::int64_t> lastrowid() const;
  std::atomic<std::size_t> arraysize{1};

  // Loop thread: the rows fetched ahead for Cursor::next().
  bool take_buffered(std::optional<Row>& out);
  void refill(std::vector<Row> rows);

 private:
  void check_open() const;
  void run(Session& s, std::string_view sql, Params params);
  [[nodiscard]] const TextFactory* text_factory(Session& s) const noexcept;
  void advance(Session& s);
  void publish(std::shared_ptr<const Columns> description, std::int64_t rowcount,
               std::optional<std::int64_t> lastrowid);

  std::shared_ptr<ConnectionCore> connection_;
  std::shared_ptr<CursorWork> work_;  // worker thread only; shared with the release job
  std::atomic<bool> holds_statement_{false};

  mutable std::mutex mutex_;
  std::shared_ptr<const Columns> description_;  // guarded
  std::int64_t rowcount_ = -1;                  // guarded
  std::optional<std::int64_t> lastrowid_;       // guarded
  std::deque<Row> buffer_;                      // guarded
  bool exhausted_ = false;                      // guarded
};

}  // namespace uvsqlite::detail

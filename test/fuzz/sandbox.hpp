#pragma once
// A connection that fuzzed SQL cannot escape from or exhaust: an in-memory database whose
// statements abort once the input has spent its budget, that can open no file, and whose
// values, statements and expressions are kept small.

#include <uv.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string_view>

#include "uvsqlite/uvsqlite.hpp"

namespace uvsqlite::fuzz {

/// What one input may spend: progress-handler calls (each is kProgressStep SQLite
/// virtual-machine instructions) and wall time. Spent across every statement of the input, so
/// that an input of many statements is bounded as one of a single statement is. Once spent,
/// every running statement fails with OperationalError("interrupted"), an ordinary outcome.
class Budget {
 public:
  static constexpr int kProgressStep = 100;
  using Clock = std::chrono::steady_clock;

  Budget(long calls, std::chrono::milliseconds wall) noexcept { refill(calls, wall); }

  /// Sets what is left. Called between statements by the thread that waits for them.
  void refill(long calls, std::chrono::milliseconds wall) noexcept {
    calls_left_.store(calls, std::memory_order_relaxed);
    deadline_.store((Clock::now() + wall).time_since_epoch().count(), std::memory_order_relaxed);
  }
  /// Worker thread (the progress handler): spends one call; true once the budget is spent.
  bool spend() noexcept { return calls_left_.fetch_sub(1, std::memory_order_relaxed) <= 0 || late(); }
  /// True once spent.
  [[nodiscard]] bool spent() const noexcept {
    return calls_left_.load(std::memory_order_relaxed) <= 0 || late();
  }

 private:
  [[nodiscard]] bool late() const noexcept {
    return Clock::now().time_since_epoch().count() > deadline_.load(std::memory_order_relaxed);
  }

  std::atomic<long> calls_left_{0};
  std::atomic<Clock::rep> deadline_{0};
};

/// Once per process: caps the heap SQLite may use (sqlite3_hard_heap_limit64), process-wide.
void limit_sqlite_heap() noexcept;

/// True when `sql` may call printf() or format(). SQLite 3.40's printf() repeats a %c up to
/// its precision even past the length limit, inside one function call that no progress handler
/// can stop: printf('%.*c', 2e9, 'x') runs for seconds, and libFuzzer would report a hang of
/// SQLite's. The authorizer cannot refuse the function: ALTER TABLE ADD COLUMN calls it
/// internally. So the fuzz targets skip SQL that names it.
bool may_call_printf(std::string_view sql) noexcept;

/// Opens ":memory:" on `loop` (future form; call on the loop's thread) with `options`, then
/// confines it: the progress handler spends `budget`; the authorizer lets ATTACH (and VACUUM,
/// VACUUM INTO, which attach) name only "" or ":memory:", and refuses the PRAGMAs that change
/// process-wide directories; sqlite3_limit keeps values, SQL, columns, expressions and
/// programs small. With `defensive`, SQLITE_DBCONFIG_DEFENSIVE forbids corrupting the schema
/// on purpose (and writable_schema, which a dump of a virtual table needs to be replayed).
/// @throws uvsqlite::Error when the database cannot be opened or configured.
Connection open_sandbox(uv_loop_t* loop, Options options, std::shared_ptr<Budget> budget,
                        bool defensive = true);

}  // namespace uvsqlite::fuzz

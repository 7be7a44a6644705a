#pragma once
// Shared pieces of the out-of-memory tests: the sweep over N, the outcome of one operation, the
// check that a failure is the one SQLite's allocator caused, and a ledger of written batches that
// the database file is checked against once the faults are off.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <future>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "failing_allocator.hpp"
#include "support/test_support.hpp"
#include "uvsqlite/uvsqlite.hpp"

namespace uvsqlite::test::oom {

/// Arms the allocator for its lifetime, so that a failed assertion never leaves it armed.
class Armed {
 public:
  Armed(std::int64_t n, FailMode mode) { arm(n, mode); }
  ~Armed() { disarm(); }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;
};

/// What one operation completed with.
template <class T>
struct Outcome {
  std::optional<T> value;
  std::exception_ptr error;
};

/// Waits for `future` (a hang aborts the process, so that a test can never hang) and returns
/// its value or the exception it failed with.
template <class T>
Outcome<T> settle(std::future<T> future);
/// settle() for an operation that completes with no value: its exception, or null.
std::exception_ptr settle(std::future<void> future);
/// Reports a hang and aborts the process (a test must fail, never hang).
[[noreturn]] void abort_on_hang();
/// How long an operation may take before it counts as hung (ASan and a busy machine included).
inline constexpr std::chrono::seconds kHangLimit{30};

/// Waits for `future` up to kHangLimit; past it, abort_on_hang().
template <class F>
void wait_or_abort(const F& future) {
  if (future.wait_for(kHangLimit) != std::future_status::ready) abort_on_hang();
}

template <class T>
Outcome<T> settle(std::future<T> future) {
  wait_or_abort(future);
  Outcome<T> out;
  try {
    out.value.emplace(future.get());
  } catch (...) {
    out.error = std::current_exception();
  }
  return out;
}

/// Expects `error` to be what an injected allocation failure must turn into: an
/// OperationalError (lib/errors.cpp maps SQLITE_NOMEM there) with the code SQLITE_NOMEM, its
/// name and SQLite's message "out of memory". `operation` names the failed call in the message.
void expect_nomem(const std::exception_ptr& error, const std::string& operation);

/// Counts, per scenario, the operations that failed; in FailMode::Once a single failed
/// allocation may fail at most one operation (the connection works on afterwards).
class Failures {
 public:
  explicit Failures(FailMode mode) : mode_(mode) {}
  Failures(const Failures&) = delete;
  Failures& operator=(const Failures&) = delete;
  ~Failures();
  /// Checks the outcome of `operation`; @returns true when it succeeded.
  bool check(const std::exception_ptr& error, const std::string& operation);
  [[nodiscard]] int count() const noexcept { return count_; }

 private:
  FailMode mode_;
  int count_ = 0;
};

/// Operations that failed (and were checked by a Failures) in this process so far.
std::int64_t failed_operations();

/// Figures of one sweep, printed by sweep().
struct SweepReport {
  std::int64_t runs = 0;
  std::int64_t injected = 0;           // allocations failed on purpose, over all runs
  std::int64_t failed = 0;             // operations that failed for them (the rest were absorbed)
  std::int64_t clean_allocations = 0;  // allocations of the last run, which nothing failed
  bool complete = false;               // a run injected no failure: every N was covered
};

/// Runs `run(n)` for n = 1, 1 + stride, 1 + 2 * stride, ... until a run injects no failure (n is
/// then past the scenario's last allocation: with stride 1, every allocation has been failed
/// once) or a test assertion failed. `run` does its unarmed set-up, arms the allocator with
/// Armed(n, mode), runs the scenario, disarms and checks the result.
template <class Run>
SweepReport sweep(const char* scenario, FailMode mode, Run&& run, std::int64_t stride = 1) {
  SweepReport report;
  const std::int64_t failed_before = failed_operations();
  std::int64_t n = 1;
  for (;; n += stride) {
    SCOPED_TRACE(std::string(scenario) + ", N = " + std::to_string(n));
    run(n);
    ++report.runs;
    const std::int64_t failed = injected();
    report.injected += failed;
    if (failed == 0) {
      report.complete = true;
      report.clean_allocations = allocations();
      break;
    }
    if (::testing::Test::HasFailure()) break;
  }
  report.failed = failed_operations() - failed_before;
  std::printf(
      "[ oom      ] %s, %s: N = 1..%lld step %lld (%lld runs), %lld allocation failures injected, %lld "
      "operations failed with SQLITE_NOMEM, %lld allocations in the run that failed none%s\n",
      scenario, mode == FailMode::Once ? "once" : "persistent", static_cast<long long>(n),
      static_cast<long long>(stride), static_cast<long long>(report.runs),
      static_cast<long long>(report.injected), static_cast<long long>(report.failed),
      static_cast<long long>(report.clean_allocations), report.complete ? "" : " (stopped early)");
  ::testing::Test::RecordProperty("oom_runs", std::to_string(report.runs));
  ::testing::Test::RecordProperty("oom_injected", std::to_string(report.injected));
  EXPECT_TRUE(report.complete);
  return report;
}

/// The row with primary key `id` of write batch `batch`: every storage class, a NULL for each
/// fifth row.
struct Record {
  std::int64_t id;
  std::int64_t batch;
  std::string name;
  std::optional<double> score;
  Blob payload;
};
/// The table the records live in.
inline constexpr const char* kSchema =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, name TEXT NOT NULL, score REAL, "
    "payload BLOB)";
/// Inserts one record (positional parameters in Record order).
inline constexpr const char* kInsert =
    "INSERT INTO t(id, batch, name, score, payload) VALUES (?, ?, ?, ?, ?)";
/// Reads the records back, in id order.
inline constexpr const char* kSelect = "SELECT id, batch, name, score, payload FROM t ORDER BY id";

Record record(std::int64_t id, std::int64_t batch);
Params params_of(const Record& r);
/// True when `row` (from kSelect) holds `r`.
bool holds(const Row& row, const Record& r);
/// Expects `rows` (from kSelect) to be exactly `records`, in order.
void expect_rows(const std::vector<Row>& rows, const std::vector<Record>& records, const std::string& what);

/// Creates `path` with the table and `count` records of batch 0 (ids 1..count), through the
/// C API with the faults off, in text `encoding` ("UTF-8", "UTF-16le", ...). @returns the records.
std::vector<Record> seed(const std::string& path, int count, const std::string& encoding = "UTF-8");

/// What the file must hold of one batch of writes.
enum class Fate {
  Committed,  // commit() succeeded: every row is there
  Absent,     // never committed (rolled back, never run, or open at close): no row is there
  Either,     // commit() failed: all of its rows or none (a transaction is atomic)
};

/// The batches a scenario wrote and what became of each.
struct Ledger {
  struct Batch {
    std::vector<Record> records;
    Fate fate;
  };
  std::vector<Batch> batches;
};

/// With the faults off, opens `path` through the C API and checks it: PRAGMA integrity_check is
/// "ok", each batch of `ledger` is there as its fate says (with the right values), and no other
/// row is.
void verify_file(const std::string& path, const Ledger& ledger);

/// Runs one SQL statement through the C API with the faults off and returns its first column
/// as text (an empty string when it returns no row).
std::string query_text(const std::string& path, const std::string& sql);

/// How write_batch() writes its rows.
enum class WriteKind {
  Execute,        // one execute(kInsert, params) per row
  ExecuteMany,    // one executemany(kInsert, rows)
  ExecuteInsert,  // one execute_insert(kInsert, params) per row, checking the rowid
};

/// Writes `count` records of batch `batch` (ids first_id, first_id + 1, ...) in one transaction
/// (the implicit BEGIN) and commits; records the batch and its fate in `ledger`. After a failure
/// it rolls back, so the next batch starts clean. @returns false when the connection could not
/// be brought back (the rollback failed too): the caller then stops writing.
bool write_batch(const Connection& db, Ledger& ledger, std::int64_t batch, std::int64_t first_id, int count,
                 WriteKind kind, Failures& failures);

/// A LoopTest swept in each FailMode (the test parameter).
class OomTest : public LoopTest, public ::testing::WithParamInterface<FailMode> {
 protected:
  OomTest();
  void SetUp() override;
  void TearDown() override;
  [[nodiscard]] FailMode mode() const { return GetParam(); }
  /// The path of a database `name` in the test's directory, with any file of an earlier run
  /// (database, journal, WAL) removed.
  [[nodiscard]] std::string fresh(const std::string& name) const;
  /// Expects the process to be back to the threads it had before the test (every worker of
  /// the run gone), waiting a little for threads on their way out.
  void expect_no_worker_left() const;

  /// What iterating a cursor with each() to its end gave: the rows, the error it ended with.
  struct Iterated {
    bool finished = false;  // false: still running after kHangLimit
    std::vector<Row> rows;
    std::exception_ptr error;
  };
  /// Runs the loop while `cursor.each()` delivers every row.
  Iterated iterate(Cursor& cursor);

 private:
  std::size_t threads_before_ = 0;
  // The sweeps commit thousands of times: in memory (tmpfs) when the machine has it, since an
  // fsync there costs nothing and durability on power loss is not what these tests check.
  TempDir files_;
};

/// Prints "Once" / "Persistent" where GoogleTest shows a parameter (CTest's test names).
void PrintTo(FailMode mode, std::ostream* os);

/// "Once" / "Persistent", for the names of the instantiated tests.
std::string mode_name(const ::testing::TestParamInfo<FailMode>& info);

}  // namespace uvsqlite::test::oom

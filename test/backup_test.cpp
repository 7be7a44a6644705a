// backup: an online copy with sqlite3_backup, one step per job on the source's worker, into
// another Connection or a raw sqlite3*: the forms, steps and progress, the temp schema, errors,
// aborting from the progress callback, work between the steps, a source written meanwhile.

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::BackupOptions;
using uvsqlite::Connection;
using uvsqlite::Row;
using uvsqlite::test::describe;
using uvsqlite::test::error_of;
using uvsqlite::test::expect_error;
using namespace std::chrono_literals;

/// A std::runtime_error of the test's own, thrown by a progress callback.
class StopBackup : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One progress call.
struct Step {
  int status;
  int remaining;
  int total;
  std::thread::id thread;
  std::chrono::steady_clock::time_point at;
};

/// Records the progress calls (they come from the source's worker thread). Shared with the
/// callback, so that a test that fails early leaves nothing dangling.
class Recorder {
 public:
  std::function<void(int, int, int)> callback() const {
    return [state = state_](int status, int remaining, int total) {
      std::lock_guard lock(state->mutex);
      state->steps.push_back(
          {status, remaining, total, std::this_thread::get_id(), std::chrono::steady_clock::now()});
    };
  }
  [[nodiscard]] std::vector<Step> get() const {
    std::lock_guard lock(state_->mutex);
    return state_->steps;
  }

 private:
  struct State {
    std::mutex mutex;
    std::vector<Step> steps;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

/// A test coroutine: an exception escaping it ends the program.
using Task = uvsqlite::test::BasicTask<&uvsqlite::test::terminate_on_escape>;

constexpr int kRows = 3000;

class Backup : public uvsqlite::test::LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    src_ = open(dir_.file("src.db"));
    fill(src_, kRows);
  }
  void TearDown() override {
    close(src_);
    LoopTest::TearDown();
  }

  /// Table t: `rows` rows of an id and a 100-character text.
  static void fill(const Connection& db, int rows) {
    db.executescript(
          "CREATE TABLE t(i INTEGER PRIMARY KEY, s TEXT);"
          "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < " +
          std::to_string(rows) + ") INSERT INTO t SELECT i, printf('%0100d', i) FROM c;")
        .get();
  }
  /// count, sum of ids, total text length, first and last text of t.
  static std::string summary(const Connection& db) {
    auto row =
        db.execute_fetchall("SELECT count(*), sum(i), sum(length(s)), min(s), max(s) FROM t").get().at(0);
    return std::to_string(row.get<std::int64_t>(0)) + " " + std::to_string(row.get<std::int64_t>(1)) + " " +
           std::to_string(row.get<std::int64_t>(2)) + " " + row.get<std::string>(3) + " " +
           row.get<std::string>(4);
  }
  static std::string expected_summary(int rows) {
    char first[128];
    char last[128];
    std::snprintf(first, sizeof first, "%0100d", 1);
    std::snprintf(last, sizeof last, "%0100d", rows);
    return std::to_string(rows) + " " + std::to_string(std::int64_t{rows} * (rows + 1) / 2) + " " +
           std::to_string(rows * 100) + " " + first + " " + last;
  }
  static std::vector<std::string> tables(const Connection& db) {
    std::vector<std::string> out;
    for (const auto& row :
         db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").get()) {
      out.push_back(row.get<std::string>(0));
    }
    return out;
  }
  static int page_count(const Connection& db) {
    return db.execute_fetchall("PRAGMA page_count").get().at(0).get<int>(0);
  }
  static std::thread::id worker_of(const Connection& db) {
    return db.call([](sqlite3*) { return std::this_thread::get_id(); }).get();
  }

  Connection src_;
};

// ---------------------------------------------------------------------------------------------
// Copies, in each form

TEST_F(Backup, CopiesIntoAnotherConnection) {
  Connection dst = open();
  dst.executescript("CREATE TABLE old(x); INSERT INTO old VALUES (1);").get();
  src_.backup(dst).get();
  EXPECT_EQ(summary(dst), expected_summary(kRows));
  EXPECT_EQ(tables(dst), (std::vector<std::string>{"t"})) << "the copy replaces the target's content";
  // Both keep working, independently.
  dst.execute("INSERT INTO t(s) VALUES ('new')").get();
  dst.commit().get();
  EXPECT_EQ(dst.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), kRows + 1);
  EXPECT_EQ(summary(src_), expected_summary(kRows));
  close(dst);
}

TEST_F(Backup, CallbackForm) {
  Connection dst = open();
  int calls = 0;
  bool wrong_thread = false;
  const auto loop_thread = std::this_thread::get_id();
  src_.backup(dst, BackupOptions{}, [&](std::exception_ptr e) {
    EXPECT_FALSE(e) << describe(e);
    if (std::this_thread::get_id() != loop_thread) wrong_thread = true;
    ++calls;
  });
  EXPECT_EQ(calls, 0) << "never inline inside the call";
  ASSERT_TRUE(run_until([&] { return calls != 0; }));
  run();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(wrong_thread);
  EXPECT_EQ(summary(dst), expected_summary(kRows));
  close(dst);
}

TEST_F(Backup, AwaitableForm) {
  Connection dst = open();
  bool done = false;
  auto body = [&]() -> Task {
    BackupOptions options;
    options.pages = 16;
    co_await src_.backup(dst, options, uvsqlite::use_awaitable);
    done = true;
  };
  body();
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(summary(dst), expected_summary(kRows));
  close(dst);
}

TEST_F(Backup, IntoAFileThatPersists) {
  const auto path = dir_.file("copy.db");
  Connection dst = open(path);
  src_.backup(dst).get();
  close(dst);
  Connection again = uvsqlite::connect(path).get();
  EXPECT_EQ(summary(again), expected_summary(kRows));
  EXPECT_EQ(again.execute_fetchall("PRAGMA integrity_check").get().at(0).get<std::string>(0), "ok");
  again.close().get();
}

TEST_F(Backup, IntoARawHandle) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  BackupOptions options;
  options.pages = 7;
  src_.backup(raw, options).get();
  // And the callback form, over the copy it just made.
  bool done = false;
  src_.backup(raw, BackupOptions{}, [&](std::exception_ptr e) {
    EXPECT_FALSE(e) << describe(e);
    done = true;
  });
  ASSERT_TRUE(run_until([&] { return done; }));

  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*), sum(i), max(s) FROM t", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), kRows);
  EXPECT_EQ(sqlite3_column_int64(stmt, 1), std::int64_t{kRows} * (kRows + 1) / 2);
  char last[128];
  std::snprintf(last, sizeof last, "%0100d", kRows);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2)), last);
  sqlite3_finalize(stmt);
  EXPECT_EQ(sqlite3_close(raw), SQLITE_OK);
}

// ---------------------------------------------------------------------------------------------
// Steps and progress

TEST_F(Backup, StepsOfTenPagesReportProgressOnTheSourceWorker) {
  Connection dst = open();
  const int pages = page_count(src_);
  ASSERT_GT(pages, 30);
  const auto src_worker = worker_of(src_);
  const auto dst_worker = worker_of(dst);
  Recorder rec;
  BackupOptions options;
  options.pages = 10;
  options.progress = rec.callback();
  src_.backup(dst, options).get();

  const auto steps = rec.get();
  ASSERT_EQ(steps.size(), static_cast<std::size_t>((pages + 9) / 10)) << "once per step";
  for (std::size_t k = 0; k < steps.size(); ++k) {
    SCOPED_TRACE("step " + std::to_string(k));
    EXPECT_EQ(steps[k].status, k + 1 < steps.size() ? SQLITE_OK : SQLITE_DONE);
    EXPECT_EQ(steps[k].total, pages);
    EXPECT_EQ(steps[k].remaining, std::max(pages - 10 * static_cast<int>(k + 1), 0));
    EXPECT_EQ(steps[k].thread, src_worker) << "on the source's worker";
    EXPECT_NE(steps[k].thread, std::this_thread::get_id()) << "not on the caller's (and loop's) thread";
    EXPECT_NE(steps[k].thread, dst_worker) << "not on the target's worker";
  }
  EXPECT_EQ(steps.back().status, 101);
  EXPECT_EQ(steps.back().remaining, 0);
  EXPECT_EQ(summary(dst), expected_summary(kRows));
  close(dst);
}

TEST_F(Backup, NonPositivePagesCopyEverythingInOneStep) {
  Connection dst = open();
  const int pages = page_count(src_);
  for (int p : {0, -1, -100}) {
    SCOPED_TRACE("pages " + std::to_string(p));
    Recorder rec;
    BackupOptions options;
    options.pages = p;
    options.progress = rec.callback();
    src_.backup(dst, options).get();
    const auto steps = rec.get();
    ASSERT_EQ(steps.size(), 1U);
    EXPECT_EQ(steps[0].status, SQLITE_DONE);
    EXPECT_EQ(steps[0].remaining, 0);
    EXPECT_EQ(steps[0].total, pages);
    EXPECT_EQ(summary(dst), expected_summary(kRows));
  }
  close(dst);
}

TEST_F(Backup, NoSleepAfterASuccessfulStep) {
  // `sleep` applies only after a BUSY or LOCKED step: ~100 one-page steps with a 1 s sleep finish
  // at once.
  Connection dst = open();
  BackupOptions options;
  options.pages = 1;
  options.sleep = 1.0;
  const auto start = std::chrono::steady_clock::now();
  src_.backup(dst, options).get();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(summary(dst), expected_summary(kRows));
  close(dst);
}

TEST_F(Backup, BusyTargetStepsAreRetriedAfterTheSleep) {
  // The target file is locked by another connection: steps report SQLITE_BUSY and are retried,
  // `sleep` apart, until the lock goes away.
  const auto path = dir_.file("busy.db");
  sqlite3* locker = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &locker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(locker, "CREATE TABLE z(a); BEGIN EXCLUSIVE;", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3* raw = nullptr;  // no busy timeout: a locked file is SQLITE_BUSY at once
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);

  auto busy = std::make_shared<std::atomic<int>>(0);
  Recorder rec;
  BackupOptions options;
  options.sleep = 0.02;
  options.progress = [busy, record = rec.callback()](int status, int remaining, int total) {
    record(status, remaining, total);
    if (status == SQLITE_BUSY) ++*busy;
  };
  bool done = false;
  std::exception_ptr error;
  src_.backup(raw, options, [&](std::exception_ptr e) {
    error = std::move(e);
    done = true;
  });
  const bool saw_busy = run_until([&] { return busy->load() >= 3 || done; }, 10s);
  EXPECT_EQ(sqlite3_exec(locker, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_TRUE(saw_busy);
  EXPECT_FALSE(error) << describe(error);

  const auto steps = rec.get();
  ASSERT_GE(steps.size(), 4U);
  for (std::size_t k = 0; k + 1 < steps.size(); ++k) {
    SCOPED_TRACE("step " + std::to_string(k));
    EXPECT_EQ(steps[k].status, SQLITE_BUSY);
    EXPECT_GE(steps[k + 1].at - steps[k].at, 19ms) << "the sleep after a busy step";
  }
  EXPECT_EQ(steps.back().status, SQLITE_DONE);

  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*) FROM t", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), kRows);
  sqlite3_finalize(stmt);
  EXPECT_EQ(sqlite3_close(raw), SQLITE_OK);
  EXPECT_EQ(sqlite3_close(locker), SQLITE_OK);
}

// ---------------------------------------------------------------------------------------------
// Which database

TEST_F(Backup, TempSchema) {
  src_.executescript("CREATE TEMP TABLE tt(a, b); INSERT INTO tt VALUES (1, 'x'), (2, 'y');").get();
  Connection dst = open();
  BackupOptions options;
  options.name = "temp";
  src_.backup(dst, options).get();
  EXPECT_EQ(tables(dst), (std::vector<std::string>{"tt"})) << "the temp schema, not main";
  auto rows = dst.execute_fetchall("SELECT a, b FROM tt ORDER BY a").get();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].get<int>(0), 1);
  EXPECT_EQ(rows[0].get<std::string>(1), "x");
  EXPECT_EQ(rows[1].get<int>(0), 2);
  EXPECT_EQ(rows[1].get<std::string>(1), "y");
  close(dst);
}

TEST_F(Backup, UnknownSchemaIsAnOperationalError) {
  Connection dst = open();
  dst.executescript("CREATE TABLE mine(a); INSERT INTO mine VALUES (1);").get();
  BackupOptions options;
  options.name = "nosuch";
  expect_error<uvsqlite::OperationalError>(error_of(src_.backup(dst, options)), "unknown database nosuch");
  // The target was released and is untouched.
  EXPECT_EQ(dst.execute_fetchall("SELECT count(*) FROM mine").get().at(0).get<int>(0), 1);
  EXPECT_EQ(tables(dst), (std::vector<std::string>{"mine"}));
  close(dst);
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_F(Backup, TargetInATransactionIsAnOperationalError) {
  Connection dst = open();
  dst.execute("CREATE TABLE x(a)").get();
  dst.execute("INSERT INTO x VALUES (1)").get();
  ASSERT_TRUE(dst.in_transaction());
  expect_error<uvsqlite::OperationalError>(error_of(src_.backup(dst)), "target is in transaction");
  // Nothing happened to the target's transaction; once it is over, a backup works.
  EXPECT_TRUE(dst.in_transaction());
  dst.commit().get();
  EXPECT_EQ(dst.execute_fetchall("SELECT count(*) FROM x").get().at(0).get<int>(0), 1);
  src_.backup(dst).get();
  EXPECT_EQ(summary(dst), expected_summary(kRows));
  close(dst);
}

TEST_F(Backup, TargetInATransactionCallbackForm) {
  Connection dst = open();
  dst.execute("CREATE TABLE x(a)").get();
  dst.execute("INSERT INTO x VALUES (1)").get();
  std::exception_ptr error;
  bool done = false;
  src_.backup(dst, BackupOptions{}, [&](std::exception_ptr e) {
    error = std::move(e);
    done = true;
  });
  ASSERT_TRUE(run_until([&] { return done; }));
  expect_error<uvsqlite::OperationalError>(error, "target is in transaction");
  dst.rollback().get();
  close(dst);
}

TEST_F(Backup, TargetIsTheSourceIsAProgrammingError) {
  expect_error<uvsqlite::ProgrammingError>(error_of(src_.backup(src_)),
                                           "target cannot be the same connection instance");
  const Connection same = src_;  // a copy of the handle is the same connection
  EXPECT_THROW(src_.backup(same).get(), uvsqlite::ProgrammingError);
  // The source keeps working.
  EXPECT_EQ(summary(src_), expected_summary(kRows));
}

TEST_F(Backup, NoTargetIsAProgrammingError) {
  EXPECT_THROW(src_.backup(Connection{}).get(), uvsqlite::ProgrammingError);
  EXPECT_THROW(src_.backup(static_cast<sqlite3*>(nullptr)).get(), uvsqlite::ProgrammingError);
  EXPECT_EQ(summary(src_), expected_summary(kRows));
}

TEST_F(Backup, AfterCloseIsAProgrammingError) {
  Connection dst = open();
  close(src_);
  expect_error<uvsqlite::ProgrammingError>(error_of(src_.backup(dst)),
                                           "Cannot operate on a closed database.");

  std::exception_ptr error;
  bool done = false;
  src_.backup(dst, BackupOptions{}, [&](std::exception_ptr err) {
    error = std::move(err);
    done = true;
  });
  ASSERT_TRUE(run_until([&] { return done; }));
  expect_error<uvsqlite::ProgrammingError>(error, "Cannot operate on a closed database.");

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  EXPECT_THROW(src_.backup(raw).get(), uvsqlite::ProgrammingError);
  EXPECT_EQ(sqlite3_close(raw), SQLITE_OK);
  // The target is not held by the failed backups.
  EXPECT_EQ(dst.execute_fetchall("SELECT 1").get().at(0).get<int>(0), 1);
  close(dst);
}

TEST_F(Backup, IntoAClosedTargetIsAProgrammingError) {
  Connection dst = open();
  close(dst);
  expect_error<uvsqlite::ProgrammingError>(error_of(src_.backup(dst)),
                                           "Cannot operate on a closed database.");
  EXPECT_EQ(summary(src_), expected_summary(kRows));
}

// ---------------------------------------------------------------------------------------------
// A throwing progress callback

TEST_F(Backup, ThrowingProgressAbortsTheBackupWithThatException) {
  Connection dst = open();
  dst.executescript("CREATE TABLE before(a); INSERT INTO before VALUES (1);").get();
  auto calls = std::make_shared<std::atomic<int>>(0);
  BackupOptions options;
  options.pages = 1;
  options.progress = [calls](int, int, int) {
    if (++*calls == 2) throw StopBackup("stop at step 2");
  };
  // The exception arrives as itself (caught as StopBackup, not as a wrapper).
  expect_error<StopBackup>(error_of(src_.backup(dst, options)), "stop at step 2");
  EXPECT_EQ(calls->load(), 2) << "no step after the throw";

  // The target was released and rolled back to what it was.
  EXPECT_EQ(tables(dst), (std::vector<std::string>{"before"}));
  dst.executescript("CREATE TABLE mine(a); INSERT INTO mine VALUES (1);").get();
  EXPECT_EQ(dst.execute_fetchall("SELECT count(*) FROM mine").get().at(0).get<int>(0), 1);
  // The source reads and writes.
  src_.execute("INSERT INTO t(i, s) VALUES (?, ?)", {kRows + 1, "after"}).get();
  src_.commit().get();
  EXPECT_EQ(src_.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), kRows + 1);
  // And a new backup between them works.
  src_.backup(dst).get();
  EXPECT_EQ(dst.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), kRows + 1);
  close(dst);
}

// ---------------------------------------------------------------------------------------------
// interrupt() during a backup (sqlite3_interrupt alone does not reach sqlite3_backup_step)

TEST_F(Backup, InterruptStopsABackupInProgressWithInterruptedAndTheTargetKeepsItsContent) {
  Connection dst = open();
  dst.executescript("CREATE TABLE before(a); INSERT INTO before VALUES (1);").get();
  auto calls = std::make_shared<std::atomic<int>>(0);
  BackupOptions options;
  options.pages = 1;
  options.progress = [calls, src = src_](int, int remaining, int) {
    if (++*calls == 3) {
      EXPECT_GT(remaining, 0);
      src.interrupt();  // from the worker here; any thread may call it
    }
  };
  auto error = uvsqlite::test::error_as<uvsqlite::OperationalError>(error_of(src_.backup(dst, options)));
  ASSERT_TRUE(error);
  EXPECT_STREQ(error->what(), "interrupted");
  EXPECT_EQ(error->sqlite_errorcode(), SQLITE_INTERRUPT);
  EXPECT_EQ(calls->load(), 3) << "no step after the interrupt";
  EXPECT_EQ(tables(dst), (std::vector<std::string>{"before"}));
  // Both connections work, and the next backup (with no interrupt) copies everything.
  src_.backup(dst).get();
  EXPECT_EQ(dst.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), kRows);
  close(dst);
}

TEST_F(Backup, AnInterruptRightAfterBackupIsCalledStopsIt) {
  Connection dst = open();
  BackupOptions options;
  options.pages = 1;
  // The source's worker waits until the interrupt was made, so that it surely comes after
  // backup() and before the first step.
  std::promise<void> go;
  auto blocker = src_.call([ready = go.get_future().share()](sqlite3*) {
    ready.wait();
    return 0;
  });
  auto copy = src_.backup(dst, options);
  src_.interrupt();
  go.set_value();
  EXPECT_EQ(blocker.get(), 0);
  auto error = uvsqlite::test::error_as<uvsqlite::OperationalError>(error_of(std::move(copy)));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->sqlite_errorcode(), SQLITE_INTERRUPT);
  EXPECT_TRUE(tables(dst).empty());
  close(dst);
}

TEST_F(Backup, AnInterruptBeforeTheBackupStartsDoesNotStopIt) {
  Connection dst = open();
  src_.interrupt();  // nothing runs: harmless, as for a statement
  src_.backup(dst).get();
  EXPECT_EQ(dst.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), kRows);
  close(dst);
}

TEST_F(Backup, ThrowingProgressInTheCallbackFormAndIntoARawHandle) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  BackupOptions options;
  options.pages = 5;
  options.progress = [](int, int, int) { throw 42; };  // not even a std::exception
  std::exception_ptr error;
  bool done = false;
  src_.backup(raw, options, [&](std::exception_ptr e) {
    error = std::move(e);
    done = true;
  });
  ASSERT_TRUE(run_until([&] { return done; }));
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (int value) {
    EXPECT_EQ(value, 42);
  } catch (...) {
    ADD_FAILURE() << "not the int that was thrown: " << describe(error);
  }
  // The raw handle is free again (its write transaction rolled back) and the source works.
  EXPECT_EQ(sqlite3_get_autocommit(raw), 1);
  EXPECT_EQ(sqlite3_exec(raw, "CREATE TABLE free(a)", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_close(raw), SQLITE_OK);
  EXPECT_EQ(summary(src_), expected_summary(kRows));
}

// ---------------------------------------------------------------------------------------------
// Concurrency

TEST_F(Backup, OtherJobsOnTheSourceRunBetweenSteps) {
  Connection dst = open();
  const int pages = page_count(src_);
  ASSERT_GT(pages, 10);
  auto steps = std::make_shared<std::atomic<int>>(0);
  std::promise<void> go;
  std::shared_future<void> go_signal = go.get_future().share();
  src_.create_function("steps_so_far", 0,
                       [steps](std::span<const uvsqlite::Value>) -> uvsqlite::Value { return steps->load(); })
      .get();
  BackupOptions options;
  options.pages = 1;
  options.progress = [steps, go_signal](int, int, int) {
    // Hold the source's worker in step 2 until the test has queued its jobs.
    if (++*steps == 2) go_signal.wait_for(10s);
  };
  std::vector<std::string> order;
  std::optional<std::int64_t> steps_at_select;
  std::optional<std::int64_t> target_rows;
  src_.backup(dst, options, [&](std::exception_ptr e) {
    EXPECT_FALSE(e) << describe(e);
    order.emplace_back("backup");
  });
  // No ASSERT until every callback came: they refer to this frame.
  EXPECT_TRUE(run_until([&] { return steps->load() >= 2; }));
  src_.execute_fetchall("SELECT steps_so_far(), count(*) FROM t",
                        [&](std::exception_ptr e, std::vector<Row> rows) {
                          EXPECT_FALSE(e) << describe(e);
                          if (!rows.empty()) steps_at_select = rows[0].get<std::int64_t>(0);
                          order.emplace_back("select");
                        });
  // The target's own queue waits until the copy is finished.
  dst.execute_fetchall("SELECT count(*) FROM t", [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e) << describe(e);
    if (!rows.empty()) target_rows = rows[0].get<std::int64_t>(0);
    order.emplace_back("target");
  });
  go.set_value();
  EXPECT_TRUE(run_until([&] { return order.size() == 3; }));
  close(dst);
  run();
  ASSERT_EQ(order.size(), 3U);
  const auto at = [&](const char* what) {
    return std::find(order.begin(), order.end(), what) - order.begin();
  };
  EXPECT_LT(at("select"), at("backup")) << "the SELECT completed before the backup did";
  EXPECT_EQ(steps_at_select, std::optional<std::int64_t>(2)) << "it ran between step 2 and step 3";
  EXPECT_EQ(steps->load(), pages) << "one page per step";
  EXPECT_EQ(target_rows, std::optional<std::int64_t>(kRows)) << "the target's query saw the whole copy";
}

TEST_F(Backup, WhileAnotherConnectionWritesTheSource) {
  const auto path = dir_.file("wal.db");
  Connection src = open(path);
  ASSERT_EQ(src.execute_fetchall("PRAGMA journal_mode=WAL").get().at(0).get<std::string>(0), "wal");
  fill(src, 20000);

  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::exception_ptr writer_error;
  std::thread writer([&] {
    try {
      Connection w = uvsqlite::connect(path).get();
      while (!stop.load()) {
        w.execute("INSERT INTO t(s) VALUES (printf('%0100d', random()))").get();
        w.commit().get();
        ++commits;
      }
      w.close().get();
    } catch (...) {
      writer_error = std::current_exception();
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (commits.load() < 5 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  const int before = commits.load();

  Connection dst = open(dir_.file("copy.db"));
  std::exception_ptr error;
  try {
    src.backup(dst).get();
  } catch (...) {
    error = std::current_exception();
  }
  stop = true;
  writer.join();
  EXPECT_FALSE(error) << describe(error);
  EXPECT_FALSE(writer_error) << describe(writer_error);
  EXPECT_GE(before, 5);

  EXPECT_EQ(dst.execute_fetchall("PRAGMA integrity_check").get().at(0).get<std::string>(0), "ok");
  const auto copied = dst.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<std::int64_t>(0);
  EXPECT_GE(copied, 20000 + before);
  EXPECT_LE(copied, 20000 + commits.load());
  close(dst);
  close(src);
}

}  // namespace

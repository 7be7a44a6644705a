// close(): drains the queue, then fails later jobs with ProgrammingError in every form; double
// close; close from a callback; dropping the last handle; thread cleanup; durability.
#include <uv.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kClosedMessage = "closed database";

/// A fire-and-forget coroutine: an exception escaping it is a test failure.
using Task = BasicTask<&fail_on_escape>;

/// The exception a future completes with (null on success).
void expect_closed(const std::exception_ptr& error) { expect_error<ProgrammingError>(error, kClosedMessage); }

bool wait_for_threads(std::size_t at_most, std::chrono::milliseconds timeout = 5s) {
  auto deadline = Clock::now() + timeout;
  while (thread_count() > at_most) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// 4M rows of a recursive CTE: most of a second of work on the worker.
constexpr const char* kSlowQuery =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000) SELECT count(*) FROM "
    "c";

class ConnectionCloseTest : public LoopTest {
 protected:
  /// run_until(pred) while a timer of ours keeps the loop alive, then a few more turns so that
  /// anything the library posted meanwhile is processed; the timer is closed again.
  bool run_alive_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    uv_timer_t keeper{};
    uv_timer_init(&loop_, &keeper);
    uv_timer_start(
        &keeper, [](uv_timer_t*) {}, 1, 1);
    bool ok = run_until(pred, timeout);
    for (int i = 0; i < 20; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    uv_close(reinterpret_cast<uv_handle_t*>(&keeper), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return ok;
  }
};

TEST_F(ConnectionCloseTest, CloseCompletesTenThousandQueuedJobs) {
  const auto path = dir_.file("drain.db");
  auto db = open(path);
  db.execute("CREATE TABLE t(x)").get();
  constexpr int kJobs = 10000;
  int callbacks_ok = 0;
  int callbacks_failed = 0;
  std::vector<std::future<Cursor>> futures;
  futures.reserve(kJobs / 2);
  for (int i = 0; i < kJobs; ++i) {
    if (i % 2 == 0) {
      db.execute("INSERT INTO t VALUES (?)", {i}, [&](std::exception_ptr e, Cursor) {
        if (e) {
          ++callbacks_failed;
        } else {
          ++callbacks_ok;
        }
      });
    } else {
      futures.push_back(db.execute("INSERT INTO t VALUES (?)", {i}));
    }
  }
  bool committed = false;
  db.commit([&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    committed = true;
  });
  bool closed = false;
  int callbacks_before_close = -1;
  db.close([&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    callbacks_before_close = callbacks_ok + callbacks_failed;
    closed = true;
  });
  ASSERT_TRUE(run_until([&] { return closed; }));
  EXPECT_TRUE(committed);
  EXPECT_EQ(callbacks_ok, kJobs / 2);
  EXPECT_EQ(callbacks_failed, 0);
  EXPECT_EQ(callbacks_before_close, kJobs / 2) << "close completed before the callbacks queued ahead of it";
  int futures_ok = 0;
  for (auto& f : futures) {
    if (!error_of(f)) ++futures_ok;
  }
  EXPECT_EQ(futures_ok, kJobs / 2);

  auto again = open(path);
  EXPECT_EQ(again.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), kJobs);
  close(again);
}

TEST_F(ConnectionCloseTest, JobsAfterCloseFailInTheFutureForm) {
  auto db = connect(":memory:").get();
  db.close().get();
  expect_closed(error_of(db.execute("SELECT 1")));
  expect_closed(error_of(db.execute_fetchall("SELECT 1")));
  expect_closed(error_of(db.execute_insert("INSERT INTO t VALUES (1)")));
  expect_closed(error_of(db.executemany("INSERT INTO t VALUES (?)", {Params{1}, Params{2}})));
  expect_closed(error_of(db.executescript("SELECT 1;")));
  expect_closed(error_of(db.commit()));
  expect_closed(error_of(db.rollback()));
  expect_closed(error_of(db.cursor()));
}

TEST_F(ConnectionCloseTest, JobsAfterCloseFailInTheCallbackForm) {
  auto db = open();
  close(db);
  std::vector<std::exception_ptr> errors;
  db.execute("SELECT 1", [&](std::exception_ptr e, Cursor) { errors.push_back(e); });
  db.execute_fetchall("SELECT 1", [&](std::exception_ptr e, std::vector<Row>) { errors.push_back(e); });
  db.execute_insert("INSERT INTO t VALUES (1)",
                    [&](std::exception_ptr e, std::optional<std::int64_t>) { errors.push_back(e); });
  db.commit([&](std::exception_ptr e) { errors.push_back(e); });
  ASSERT_TRUE(run_until([&] { return errors.size() == 4; }));
  for (const auto& e : errors) expect_closed(e);
}

// Once close() completed, the connection's uv_async_t is closed; a callback form submitted from
// another thread cannot wake the loop any more, so it fails at once (documented), while one
// submitted on the loop thread is still called back (the previous test).
TEST_F(ConnectionCloseTest, CallbackJobsAfterCloseFromAnotherThreadThrowProgrammingErrorAtOnce) {
  auto db = open();
  close(db);
  std::atomic<bool> threw_programming_error{false};
  std::atomic<bool> called{false};
  std::thread submitter([&] {
    try {
      db.execute("SELECT 1", [&](std::exception_ptr, Cursor) { called = true; });
    } catch (const ProgrammingError&) {
      threw_programming_error = true;
    }
  });
  submitter.join();
  EXPECT_TRUE(threw_programming_error.load());
  run();
  EXPECT_FALSE(called.load());
}

TEST_F(ConnectionCloseTest, JobsAfterCloseFailInTheAwaitableForm) {
  auto db = open();
  close(db);
  int failures = 0;
  bool finished = false;
  auto body = [&]() -> Task {
    try {
      co_await db.execute("SELECT 1", use_awaitable);
      ADD_FAILURE() << "execute after close succeeded";
    } catch (const ProgrammingError& e) {
      EXPECT_NE(std::string_view(e.what()).find(kClosedMessage), std::string_view::npos) << e.what();
      ++failures;
    }
    try {
      co_await db.commit(use_awaitable);
      ADD_FAILURE() << "commit after close succeeded";
    } catch (const ProgrammingError&) {
      ++failures;
    }
    try {
      co_await db.execute_fetchall("SELECT 1", use_awaitable);
      ADD_FAILURE() << "execute_fetchall after close succeeded";
    } catch (const ProgrammingError&) {
      ++failures;
    }
    finished = true;
  };
  body();
  ASSERT_TRUE(run_until([&] { return finished; }));
  EXPECT_EQ(failures, 3);
}

TEST_F(ConnectionCloseTest, JobsQueuedRightBehindCloseFail) {
  auto db = open();
  std::vector<std::string> order;
  std::exception_ptr after_error;
  db.execute("SELECT 1", [&](std::exception_ptr e, Cursor) {
    EXPECT_FALSE(e);
    order.emplace_back("before");
  });
  db.close([&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    order.emplace_back("close");
  });
  db.execute("SELECT 1", [&](std::exception_ptr e, Cursor) {
    after_error = e;
    order.emplace_back("after");
  });
  auto future_after = db.execute_fetchall("SELECT 1");
  ASSERT_TRUE(run_until([&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<std::string>{"before", "close", "after"}));
  expect_closed(after_error);
  expect_closed(error_of(future_after));
}

TEST_F(ConnectionCloseTest, DoubleCloseIsFine) {
  auto db = open();
  close(db);
  close(db);  // the helper expects no error
  EXPECT_NO_THROW(db.close().get());

  auto other = open();
  int closes = 0;
  other.close([&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    ++closes;
  });
  other.close([&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    ++closes;
  });
  ASSERT_TRUE(run_until([&] { return closes == 2; }));

  auto loopless = connect(":memory:").get();
  EXPECT_NO_THROW(loopless.close().get());
  EXPECT_NO_THROW(loopless.close().get());
}

TEST_F(ConnectionCloseTest, CloseFromInsideACallback) {
  auto db = open();
  bool closed = false;
  db.execute("SELECT 1", [&](std::exception_ptr e, Cursor) {
    EXPECT_FALSE(e);
    db.close([&](std::exception_ptr e2) {
      EXPECT_FALSE(e2);
      closed = true;
    });
  });
  ASSERT_TRUE(run_until([&] { return closed; }));
  expect_closed(error_of(db.execute("SELECT 1")));
  run();
}

TEST_F(ConnectionCloseTest, DropLastHandleOnTheLoopThread) {
  const auto baseline = thread_count();
  {
    auto db = open();
    db.execute("CREATE TABLE t(x)").get();
    db.execute("INSERT INTO t VALUES (1)").get();
  }  // dropped without close()
  EXPECT_TRUE(run_until([&] { return thread_count() <= baseline; }, 5s)) << "the worker thread did not end";
  run();  // returns; TearDown checks that the async handle was closed
}

TEST_F(ConnectionCloseTest, DropLastHandleStillDeliversPendingCallbacks) {
  const auto baseline = thread_count();
  bool delivered = false;
  {
    auto db = open();
    db.execute_fetchall("SELECT 1", [&](std::exception_ptr e, std::vector<Row> rows) {
      EXPECT_FALSE(e);
      EXPECT_EQ(rows.size(), 1u);
      delivered = true;
    });
  }  // dropped with a callback outstanding
  EXPECT_TRUE(run_until([&] { return delivered; }, 5s));
  EXPECT_TRUE(run_until([&] { return thread_count() <= baseline; }, 5s)) << "the worker thread did not end";
  run();
}

TEST_F(ConnectionCloseTest, DropLastHandleOnAnotherThread) {
  const auto baseline = thread_count();
  auto loopless = connect(":memory:").get();
  loopless.execute("CREATE TABLE t(x)").get();
  auto with_loop = open();
  with_loop.execute("CREATE TABLE t(x)").get();
  std::thread dropper([a = std::move(loopless), b = std::move(with_loop)]() mutable {
    a = Connection{};
    b = Connection{};
  });
  dropper.join();
  EXPECT_TRUE(run_alive_until([&] { return thread_count() <= baseline; })) << "a worker thread did not end";
  run();  // TearDown then checks that the async handle was closed
}

TEST_F(ConnectionCloseTest, DropDuringALongQueryDoesNotBlock) {
  const auto baseline = thread_count();
  auto db = open();
  auto started = db.execute_fetchall("SELECT 1");
  (void)db.execute(kSlowQuery);
  started.get();  // the worker has moved on to the slow query
  const auto t0 = Clock::now();
  db = Connection{};  // the last handle
  const auto drop_time = Clock::now() - t0;
  EXPECT_LT(drop_time, 200ms) << "dropping the last handle blocked for "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(drop_time).count()
                              << " ms";
  EXPECT_TRUE(run_until([&] { return thread_count() <= baseline; }, 10s)) << "the worker thread did not end";
  run();
}

TEST_F(ConnectionCloseTest, DropDuringALongQueryOnAnotherThreadDoesNotBlock) {
  const auto baseline = thread_count();
  auto db = connect(":memory:").get();
  auto started = db.execute_fetchall("SELECT 1");
  (void)db.execute(kSlowQuery);
  started.get();
  Clock::duration drop_time{};
  std::thread dropper([&drop_time, d = std::move(db)]() mutable {
    const auto t0 = Clock::now();
    d = Connection{};
    drop_time = Clock::now() - t0;
  });
  dropper.join();
  EXPECT_LT(drop_time, 200ms) << "dropping the last handle blocked for "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(drop_time).count()
                              << " ms";
  // The query runs to its end first: seconds under ThreadSanitizer on a loaded machine.
  EXPECT_TRUE(wait_for_threads(baseline, 60s)) << "the worker thread did not end";
}

TEST_F(ConnectionCloseTest, FailedConnectRaisesOperationalErrorAndLeavesNoThread) {
  const auto baseline = thread_count();
  auto error = error_of(connect("/nonexistent/dir/x.db"));
  expect_error<OperationalError>(error, "unable to open database file");
  EXPECT_TRUE(wait_for_threads(baseline)) << thread_count() << " threads, baseline " << baseline;
}

TEST_F(ConnectionCloseTest, FailedLoopConnectInFutureFormLeavesNoThreadNorHandle) {
  const auto baseline = thread_count();
  expect_error<OperationalError>(error_of(connect(&loop_, "/nonexistent/dir/x.db")),
                                 "unable to open database file");
  EXPECT_TRUE(run_until([&] { return thread_count() <= baseline; }, 5s))
      << thread_count() << " threads, baseline " << baseline;
  run();  // TearDown checks that the async handle was closed
}

TEST_F(ConnectionCloseTest, FailedLoopConnectInCallbackFormLeavesNoThreadNorHandle) {
  const auto baseline = thread_count();
  std::exception_ptr cb_error;
  bool called = false;
  connect(&loop_, "/nonexistent/dir/x.db", {}, [&](std::exception_ptr e, Connection) {
    cb_error = e;
    called = true;
  });
  ASSERT_TRUE(run_until([&] { return called; }));
  expect_error<OperationalError>(cb_error, "unable to open database file");
  EXPECT_TRUE(run_until([&] { return thread_count() <= baseline; }, 5s))
      << thread_count() << " threads, baseline " << baseline;
  run();
}

TEST_F(ConnectionCloseTest, CloseReturnsTheThreadCountToBaseline) {
  const auto baseline = thread_count();
  auto loopless = connect(":memory:").get();
  auto with_loop = open();
  EXPECT_GE(thread_count(), baseline + 2) << "each connection owns a worker thread";
  loopless.close().get();
  close(with_loop);
  EXPECT_TRUE(run_until([&] { return thread_count() <= baseline; }, 5s))
      << thread_count() << " threads, baseline " << baseline;
}

TEST_F(ConnectionCloseTest, CommittedRowsSurviveReopening) {
  const auto path = dir_.file("durable.db");
  {
    auto db = connect(path).get();
    db.execute("CREATE TABLE t(x)").get();
    db.executemany("INSERT INTO t VALUES (?)", {Params{1}, Params{2}, Params{3}}).get();
    db.commit().get();
    db.execute("INSERT INTO t VALUES (4)").get();  // never committed: rolled back by close
    db.close().get();
  }
  auto db = open(path);
  auto rows = db.execute_fetchall("SELECT x FROM t ORDER BY x").get();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].get<int>(0), 1);
  EXPECT_EQ(rows[2].get<int>(0), 3);
  close(db);
}

TEST_F(ConnectionCloseTest, CursorAfterItsConnectionClosedFails) {
  auto db = open();
  auto cur = db.execute("SELECT 1 UNION ALL SELECT 2").get();
  close(db);
  expect_closed(error_of(cur.fetchall()));
  expect_closed(error_of(cur.fetchone()));
  expect_closed(error_of(cur.fetchmany(2)));
  expect_closed(error_of(cur.execute("SELECT 3")));
  std::exception_ptr cb_error;
  bool called = false;
  cur.fetchall([&](std::exception_ptr e, std::vector<Row>) {
    cb_error = e;
    called = true;
  });
  ASSERT_TRUE(run_until([&] { return called; }));
  expect_closed(cb_error);
}

// close() with cursors still open mid-result finalizes their statements itself: the database
// really closes (in WAL mode the last connection's close checkpoints and removes the -wal file,
// which a connection left a zombie by an unfinalized statement would not do).
TEST_F(ConnectionCloseTest, CloseWithCursorsOpenMidResultFinalizesThemAndClosesTheFile) {
  const auto path = dir_.file("cursors.db");
  auto db = open(path);
  db.executescript(
        "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500) INSERT INTO t SELECT "
        "x FROM c;")
      .get();
  auto a = db.execute("SELECT x FROM t ORDER BY x").get();
  auto b = db.execute("SELECT x FROM t WHERE x > 100").get();
  ASSERT_TRUE(a.fetchone().get().has_value());
  ASSERT_EQ(b.fetchmany(10).get().size(), 10U);
  ASSERT_TRUE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(wait_void([&](auto cb) { db.close(cb); }));
  EXPECT_FALSE(std::filesystem::exists(path + "-wal")) << "the database did not really close";
  expect_closed(error_of(a.fetchone()));
  // The file is whole and unlocked: another connection writes at once.
  auto again = open(path);
  again.execute("INSERT INTO t VALUES (501)").get();
  again.commit().get();
  EXPECT_EQ(again.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 501);
  close(again);
}

}  // namespace
}  // namespace uvsqlite::test

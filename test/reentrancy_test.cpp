// Reentrancy: user code that SQLite runs on the worker (SQL functions, hooks) waiting on its own
// connection gets ProgrammingError instead of a deadlock, close() from there is refused, an
// exception in any hook leaves the worker alive, and another connection may be waited on.
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <future>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

using namespace std::chrono_literals;

/// What a nested operation ended with, as seen from inside a SQL function.
enum class Seen { Nothing, Success, ProgrammingError, OtherError };

const char* name(Seen s) {
  switch (s) {
    case Seen::Nothing:
      return "nothing (the function did not run)";
    case Seen::Success:
      return "success";
    case Seen::ProgrammingError:
      return "ProgrammingError";
    case Seen::OtherError:
      return "another error";
  }
  return "?";
}

/// Runs `f` (which waits on something) and classifies how it ended; rethrows nothing.
template <class F>
Seen outcome_of(F&& f) {
  try {
    std::forward<F>(f)();
    return Seen::Success;
  } catch (const ProgrammingError&) {
    return Seen::ProgrammingError;
  } catch (...) {
    return Seen::OtherError;
  }
}

/// get() with a deadline, so that a deadlock fails the test instead of hanging it.
template <class T>
T get_within(std::future<T>& future, std::chrono::milliseconds timeout = 5s) {
  if (future.wait_for(timeout) != std::future_status::ready) {
    ADD_FAILURE() << "no result after " << timeout.count() << " ms: deadlock";
    std::abort();  // the worker is stuck; nothing can be cleaned up
  }
  return future.get();
}

/// The connection answers a query.
void expect_serves(const Connection& db) {
  auto rows = db.execute_fetchall("SELECT 40 + 2");
  EXPECT_EQ(get_within(rows).at(0).get<int>(0), 42);
}

class ReentrancyTest : public ::testing::Test {
 protected:
  void TearDown() override { db_.close().get(); }
  Connection db_ = connect(":memory:").get();
};

// ---------------------------------------------------------------------------------------------
// Waiting on the same connection from inside a SQL function

TEST_F(ReentrancyTest, ExecuteGetInsideASqlFunctionIsAProgrammingError) {
  Seen seen = Seen::Nothing;
  // The function holds a handle to its own connection (released when the database closes).
  db_.create_function("nested", 0,
                      [db = db_, &seen](std::span<const Value>) -> Value {
                        seen = outcome_of([&] { db.execute("SELECT 1").get(); });
                        return "outer done";
                      })
      .get();
  auto outer = db_.execute_fetchall("SELECT nested()");
  auto rows = get_within(outer);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<std::string>(0), "outer done") << "the outer statement must complete";
  EXPECT_EQ(seen, Seen::ProgrammingError) << name(seen);
  expect_serves(db_);
}

TEST_F(ReentrancyTest, OtherFutureFormsInsideASqlFunctionAreProgrammingErrors) {
  std::vector<Seen> seen;
  db_.create_function("nested", 0,
                      [db = db_, &seen](std::span<const Value>) -> Value {
                        seen.push_back(outcome_of([&] { db.execute_fetchall("SELECT 1").get(); }));
                        seen.push_back(outcome_of([&] { db.call([](sqlite3*) { return 1; }).get(); }));
                        seen.push_back(outcome_of([&] { db.commit().get(); }));
                        seen.push_back(outcome_of([&] { db.cursor().get(); }));
                        return 1;
                      })
      .get();
  auto outer = db_.execute_fetchall("SELECT nested()");
  EXPECT_EQ(get_within(outer).size(), 1U);
  ASSERT_EQ(seen.size(), 4U);
  for (std::size_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i], Seen::ProgrammingError) << i << ": " << name(seen[i]);
  expect_serves(db_);
}

TEST_F(ReentrancyTest, ExecuteGetInsideAHookIsAProgrammingError) {
  Seen seen = Seen::Nothing;
  bool asked = false;
  db_.set_authorizer([db = db_, &seen, &asked](int, auto, auto, auto, auto) {
       if (!asked) {
         asked = true;
         seen = outcome_of([&] { db.execute_fetchall("SELECT 1").get(); });
       }
       return AUTH_OK;
     })
      .get();
  auto outer = db_.execute_fetchall("SELECT 7");
  EXPECT_EQ(get_within(outer).at(0).get<int>(0), 7);
  EXPECT_EQ(seen, Seen::ProgrammingError) << name(seen);
  db_.set_authorizer(Authorizer{}).get();
  expect_serves(db_);
}

// ---------------------------------------------------------------------------------------------
// close() from inside a SQL function

TEST_F(ReentrancyTest, CloseInsideASqlFunctionIsRefusedAndTheConnectionStaysOpen) {
  Seen seen = Seen::Nothing;
  db_.create_function("close_me", 0,
                      [db = db_, &seen](std::span<const Value>) -> Value {
                        auto closed = db.close();
                        seen = outcome_of([&] { closed.get(); });
                        return 1;
                      })
      .get();
  auto outer = db_.execute_fetchall("SELECT close_me()");
  EXPECT_EQ(get_within(outer).at(0).get<int>(0), 1);
  EXPECT_EQ(seen, Seen::ProgrammingError) << name(seen);
  expect_serves(db_);
  db_.execute("CREATE TABLE still_open(x)").get();
  EXPECT_NO_THROW(db_.execute("INSERT INTO still_open VALUES (1)").get());
}

// ---------------------------------------------------------------------------------------------
// Exceptions in hooks never kill the worker

TEST_F(ReentrancyTest, ThrowingScalarFunctionLeavesTheWorkerAlive) {
  db_.create_function("throws_std", 0, [](std::span<const Value>) -> Value { throw std::logic_error("x"); })
      .get();
  db_.create_function("throws_int", 0, [](std::span<const Value>) -> Value { throw 42; }).get();
  expect_error<OperationalError>(error_of(db_.execute("SELECT throws_std()")));
  expect_error<OperationalError>(error_of(db_.execute("SELECT throws_int()")));
  expect_serves(db_);
}

class ThrowsEverywhere : public Aggregate {
 public:
  void step(std::span<const Value>) override { throw 1; }
  Value finalize() override { throw std::runtime_error("finalize"); }
};

TEST_F(ReentrancyTest, ThrowingAggregateLeavesTheWorkerAlive) {
  db_.create_aggregate("agg", 1, [] { return std::make_unique<ThrowsEverywhere>(); }).get();
  db_.create_aggregate("factory_throws", 1, []() -> std::unique_ptr<Aggregate> { throw 3; }).get();
  db_.create_aggregate("factory_null", 1, [] { return std::unique_ptr<Aggregate>(); }).get();
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT agg(1)")));
  expect_error<OperationalError>(
      error_of(db_.execute_fetchall("SELECT agg(x) FROM (SELECT 1 AS x) WHERE 0")));
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT factory_throws(1)")));
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT factory_null(1)")));
  expect_serves(db_);
}

TEST_F(ReentrancyTest, ThrowingCollationLeavesTheWorkerAlive) {
  db_.create_collation("bad",
                       [](std::string_view, std::string_view) -> int { throw std::runtime_error("x"); })
      .get();
  auto rows =
      db_.execute_fetchall("SELECT v FROM (SELECT 'b' AS v UNION ALL SELECT 'a') ORDER BY v COLLATE bad");
  EXPECT_EQ(get_within(rows).size(), 2U);
  expect_serves(db_);
}

TEST_F(ReentrancyTest, ThrowingProgressHandlerLeavesTheWorkerAlive) {
  db_.set_progress_handler([]() -> int { throw 5; }, 10).get();
  expect_error<OperationalError>(
      error_of(db_.execute_fetchall("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x "
                                    "< 10000) SELECT count(*) FROM c")),
      "interrupted");
  db_.set_progress_handler(ProgressHandler{}, 0).get();
  expect_serves(db_);
}

TEST_F(ReentrancyTest, ThrowingTraceCallbackLeavesTheWorkerAlive) {
  db_.set_trace_callback([](std::string_view) { throw 6; }).get();
  expect_serves(db_);
}

TEST_F(ReentrancyTest, ThrowingAuthorizerLeavesTheWorkerAlive) {
  db_.set_authorizer([](int, auto, auto, auto, auto) -> int { throw 7; }).get();
  EXPECT_TRUE(error_of(db_.execute("SELECT 1")));
  db_.set_authorizer(Authorizer{}).get();
  expect_serves(db_);
}

// ---------------------------------------------------------------------------------------------
// Waiting on another connection from inside a SQL function

TEST_F(ReentrancyTest, AFutureOfAnotherConnectionCanBeWaitedOnInsideASqlFunction) {
  auto other = connect(":memory:").get();
  other.executescript("CREATE TABLE kv(k, v); INSERT INTO kv VALUES ('answer', 42);").get();
  db_.create_function(
         "lookup", 1,
         [&other](std::span<const Value> args) -> Value {
           return other.execute_fetchall("SELECT v FROM kv WHERE k = ?", {args[0]}).get().at(0)[0];
         })
      .get();
  auto outer = db_.execute_fetchall("SELECT lookup('answer')");
  auto rows = get_within(outer);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<int>(0), 42);
  other.close().get();
}

// ---------------------------------------------------------------------------------------------
// Callback form

class ReentrancyCallbackTest : public LoopTest {
 protected:
  std::vector<Row> fetch(const Connection& db, const std::string& sql) {
    bool done = false;
    std::vector<Row> rows;
    db.execute_fetchall(sql, [&](std::exception_ptr e, std::vector<Row> r) {
      EXPECT_FALSE(e);
      rows = std::move(r);
      done = true;
    });
    EXPECT_TRUE(run_until([&] { return done; }, 5s)) << "no result: deadlock?";
    return rows;
  }
};

TEST_F(ReentrancyCallbackTest, ExecuteGetInsideASqlFunctionIsAProgrammingError) {
  auto db = open();
  Seen seen = Seen::Nothing;
  db.create_function("nested", 0, [&db, &seen](std::span<const Value>) -> Value {
      seen = outcome_of([&] { db.execute("SELECT 1").get(); });
      return 1;
    }).get();
  auto rows = fetch(db, "SELECT nested()");
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(seen, Seen::ProgrammingError) << name(seen);
  EXPECT_EQ(fetch(db, "SELECT 2").at(0).get<int>(0), 2);
  close(db);
}

TEST_F(ReentrancyCallbackTest, ACallbackFormSubmittedInsideASqlFunctionRunsAfterTheStatement) {
  auto db = open();
  std::vector<std::string> order;
  db.create_function("queue_more", 0, [&db, &order](std::span<const Value>) -> Value {
      db.execute_fetchall("SELECT 'nested'", [&order](std::exception_ptr e, std::vector<Row> rows) {
        EXPECT_FALSE(e);
        if (!e) order.push_back(rows.at(0).get<std::string>(0));
      });
      return "outer";
    }).get();
  db.execute_fetchall("SELECT queue_more()", [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    if (!e) order.push_back(rows.at(0).get<std::string>(0));
  });
  ASSERT_TRUE(run_until([&] { return order.size() == 2; }, 5s)) << order.size();
  EXPECT_EQ(order, (std::vector<std::string>{"outer", "nested"}));
  close(db);
}

TEST_F(ReentrancyCallbackTest, CloseCallbackInsideASqlFunctionIsRefused) {
  auto db = open();
  bool close_done = false;
  std::exception_ptr close_error;
  db.create_function("close_me", 0, [&](std::span<const Value>) -> Value {
      db.close([&](std::exception_ptr e) {
        close_error = e;
        close_done = true;
      });
      return 1;
    }).get();
  EXPECT_EQ(fetch(db, "SELECT close_me()").at(0).get<int>(0), 1);
  ASSERT_TRUE(run_until([&] { return close_done; }, 5s));
  expect_error<ProgrammingError>(close_error);
  EXPECT_EQ(fetch(db, "SELECT 3").at(0).get<int>(0), 3);
  close(db);
}

TEST_F(ReentrancyCallbackTest, AnotherConnectionInsideASqlFunction) {
  auto db = open();
  auto other = connect(":memory:").get();
  db.create_function("other_value", 0, [&other](std::span<const Value>) -> Value {
      return other.execute_fetchall("SELECT 'from other'").get().at(0)[0];
    }).get();
  auto rows = fetch(db, "SELECT other_value()");
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<std::string>(0), "from other");
  other.close().get();
  close(db);
}

}  // namespace
}  // namespace uvsqlite::test

namespace uvsqlite::test {
namespace {

// The backup target's worker waits for the copy; a future of the target requested from the
// copying worker (in the progress callback) would wait behind that hold: it fails at once.
TEST_F(ReentrancyTest, AFutureOfTheBackupTargetInsideTheProgressCallbackIsAProgrammingError) {
  db_.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1);").get();
  Connection target = connect(":memory:").get();
  std::exception_ptr inner;
  BackupOptions options;
  options.progress = [&](int, int, int) {
    if (!inner) inner = error_of(target.execute("SELECT 1"));
  };
  auto done = db_.backup(target, options);
  ASSERT_EQ(done.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "the backup deadlocked";
  done.get();
  expect_error<ProgrammingError>(inner, "deadlock");
  EXPECT_EQ(target.execute_fetchall("SELECT x FROM t").get().size(), 1U);
  target.close().get();
}

}  // namespace
}  // namespace uvsqlite::test

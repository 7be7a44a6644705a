// Connection::call(fn): runs fn(sqlite3*) on the worker with the raw handle and completes with
// what fn returns or throws, in the future and the callback forms; fails after close().
#include <sqlite3.h>

#include <exception>
#include <future>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

/// A user exception type that must come back as itself, not as a uvsqlite Error.
class CustomError : public std::runtime_error {
 public:
  CustomError(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;
};

/// The thread a SQL function of `db` runs on.
std::thread::id sql_function_thread(const Connection& db) {
  std::thread::id seen;
  db.create_function("where_am_i", 0, [&seen](std::span<const Value>) -> Value {
      seen = std::this_thread::get_id();
      return 1;
    }).get();
  db.execute_fetchall("SELECT where_am_i()").get();
  db.create_function("where_am_i", 0, ScalarFunction{}).get();
  return seen;
}

// ---------------------------------------------------------------------------------------------
// Future form

class CallTest : public ::testing::Test {
 protected:
  void SetUp() override { db_.execute("CREATE TABLE t(x)").get(); }
  void TearDown() override { db_.close().get(); }
  Connection db_ = connect(":memory:").get();
};

TEST_F(CallTest, ReturnsWhatFnReturns) {
  db_.execute("INSERT INTO t VALUES (1), (2), (3)").get();
  std::future<int> changes = db_.call([](sqlite3* raw) { return sqlite3_changes(raw); });
  EXPECT_EQ(changes.get(), 3);
}

TEST_F(CallTest, ReturnsANonTrivialType) {
  db_.execute("INSERT INTO t VALUES (1)").get();
  auto name = db_.call([](sqlite3* raw) { return std::string(sqlite3_db_filename(raw, "main")); }).get();
  EXPECT_EQ(name, "");  // an in-memory database has no file name
  auto rowid = db_.call([](sqlite3* raw) { return sqlite3_last_insert_rowid(raw); }).get();
  EXPECT_EQ(rowid, 1);
}

TEST_F(CallTest, VoidFnRunsAndCompletes) {
  auto done = db_.call([](sqlite3* raw) {
    ASSERT_EQ(sqlite3_exec(raw, "INSERT INTO t VALUES (42)", nullptr, nullptr, nullptr), SQLITE_OK);
  });
  static_assert(std::is_same_v<decltype(done), std::future<void>>);
  EXPECT_NO_THROW(done.get());
  EXPECT_EQ(db_.execute_fetchall("SELECT x FROM t").get().at(0).get<int>(0), 42);
}

TEST_F(CallTest, AnExceptionArrivesAsThatException) {
  auto failed = db_.call([](sqlite3*) -> int { throw CustomError("custom failure", 7); });
  try {
    failed.get();
    ADD_FAILURE() << "no exception";
  } catch (const CustomError& e) {
    EXPECT_STREQ(e.what(), "custom failure");
    EXPECT_EQ(e.code, 7);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type " << typeid(e).name() << ": " << e.what();
  }
}

TEST_F(CallTest, AnExceptionFromAVoidFnArrivesAsThatException) {
  auto failed = db_.call([](sqlite3*) { throw CustomError("void failure", 3); });
  expect_error<CustomError>(error_of(failed), "void failure");
}

TEST_F(CallTest, TheConnectionWorksAfterFnThrew) {
  expect_error<CustomError>(error_of(db_.call([](sqlite3*) -> int { throw CustomError("x", 1); })));
  EXPECT_EQ(db_.call([](sqlite3* raw) { return sqlite3_get_autocommit(raw); }).get(), 1);
  EXPECT_EQ(db_.execute_fetchall("SELECT 5").get().at(0).get<int>(0), 5);
}

TEST_F(CallTest, RunsOnTheWorkerThread) {
  const std::thread::id in_call = db_.call([](sqlite3*) { return std::this_thread::get_id(); }).get();
  EXPECT_NE(in_call, std::this_thread::get_id());
  EXPECT_EQ(in_call, sql_function_thread(db_));
}

TEST_F(CallTest, RunsInSubmissionOrderWithOtherJobs) {
  auto insert = db_.execute("INSERT INTO t VALUES (1), (2)");
  auto count = db_.call([](sqlite3* raw) { return sqlite3_total_changes(raw); });
  insert.get();
  EXPECT_EQ(count.get(), 2);
}

TEST(CallAfterClose, FailsWithProgrammingError) {
  auto db = connect(":memory:").get();
  db.close().get();
  bool ran = false;
  expect_error<ProgrammingError>(error_of(db.call([&ran](sqlite3*) {
    ran = true;
    return 1;
  })));
  expect_error<ProgrammingError>(error_of(db.call([&ran](sqlite3*) { ran = true; })));
  EXPECT_FALSE(ran);
}

// ---------------------------------------------------------------------------------------------
// Callback form

using CallCallbackTest = LoopTest;

TEST_F(CallCallbackTest, ReturnsWhatFnReturnsOnTheLoopThread) {
  auto db = open();
  db.execute("CREATE TABLE t(x)").get();
  db.execute("INSERT INTO t VALUES (1), (2)").get();
  const auto loop_thread = std::this_thread::get_id();
  int changes = -1;
  bool done = false;
  db.call([](sqlite3* raw) { return sqlite3_changes(raw); },
          [&](std::exception_ptr e, int value) {
            EXPECT_FALSE(e);
            EXPECT_EQ(std::this_thread::get_id(), loop_thread);
            changes = value;
            done = true;
          });
  EXPECT_FALSE(done) << "the callback ran inside the call";
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(changes, 2);
  close(db);
}

TEST_F(CallCallbackTest, VoidFnCompletesWithNoError) {
  auto db = open();
  bool done = false;
  std::exception_ptr error;
  db.call([](sqlite3* raw) { sqlite3_exec(raw, "CREATE TABLE made(y)", nullptr, nullptr, nullptr); },
          [&](std::exception_ptr e) {
            error = e;
            done = true;
          });
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_FALSE(error);
  EXPECT_NO_THROW(db.execute("SELECT y FROM made").get());
  close(db);
}

TEST_F(CallCallbackTest, AnExceptionArrivesAsThatException) {
  auto db = open();
  std::exception_ptr error;
  bool done = false;
  db.call([](sqlite3*) -> int { throw CustomError("from the worker", 9); },
          [&](std::exception_ptr e, int) {
            error = e;
            done = true;
          });
  ASSERT_TRUE(run_until([&] { return done; }));
  expect_error<CustomError>(error, "from the worker");
  try {
    std::rethrow_exception(error);
  } catch (const CustomError& e) {
    EXPECT_EQ(e.code, 9);
  } catch (...) {
  }
  close(db);
}

TEST_F(CallCallbackTest, RunsOnTheWorkerThread) {
  auto db = open();
  std::thread::id in_call;
  bool done = false;
  db.call([](sqlite3*) { return std::this_thread::get_id(); },
          [&](std::exception_ptr e, std::thread::id id) {
            EXPECT_FALSE(e);
            in_call = id;
            done = true;
          });
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_NE(in_call, std::this_thread::get_id());
  EXPECT_EQ(in_call, sql_function_thread(db));
  close(db);
}

TEST_F(CallCallbackTest, AfterCloseFailsWithProgrammingError) {
  auto db = open();
  close(db);
  bool ran = false;
  std::exception_ptr error;
  bool done = false;
  db.call(
      [&ran](sqlite3*) {
        ran = true;
        return 1;
      },
      [&](std::exception_ptr e, int) {
        error = e;
        done = true;
      });
  ASSERT_TRUE(run_until([&] { return done; }));
  expect_error<ProgrammingError>(error);
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace uvsqlite::test

// interrupt(): immediate sqlite3_interrupt from any thread; the running statement fails with
// OperationalError("interrupted", SQLITE_INTERRUPT) and the connection keeps working.
#include <uv.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

using namespace std::chrono_literals;

/// Runs until interrupted.
constexpr const char* kEndlessQuery =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";

constexpr int kSqliteInterrupt = 9;

void expect_interrupted(const std::exception_ptr& error) {
  ASSERT_TRUE(error) << "the query was not interrupted";
  try {
    std::rethrow_exception(error);
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string_view(e.what()).find("interrupted"), std::string_view::npos) << e.what();
    EXPECT_EQ(e.sqlite_errorcode(), kSqliteInterrupt);
    EXPECT_EQ(e.sqlite_errorname(), "SQLITE_INTERRUPT");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type " << typeid(e).name() << ": " << e.what();
  }
}

/// Calls db.interrupt() from a separate thread every few milliseconds (an interrupt that lands
/// before the statement starts is lost, as in SQLite) until `future` is ready or 10 s pass.
template <class T>
std::exception_ptr interrupt_from_thread(const Connection& db, std::future<T>& future) {
  std::atomic<bool> stop{false};
  std::thread interrupter([&] {
    while (!stop.load()) {
      db.interrupt();
      std::this_thread::sleep_for(5ms);
    }
  });
  const bool ready = future.wait_for(10s) == std::future_status::ready;
  stop = true;
  interrupter.join();
  if (!ready) {
    ADD_FAILURE() << "the query was still running 10 s after interrupt()";
    return nullptr;
  }
  return error_of(future);
}

TEST(InterruptTest, FromAnotherThread) {
  auto db = connect(":memory:").get();
  auto query = db.execute_fetchall(kEndlessQuery);
  expect_interrupted(interrupt_from_thread(db, query));
  // The connection works afterwards, and the interrupt does not leak into the next statement.
  EXPECT_EQ(db.execute_fetchall("SELECT 42").get().at(0).get<int>(0), 42);
  auto counted = db.execute_fetchall(
                       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100000) "
                       "SELECT count(*) FROM c")
                     .get();
  EXPECT_EQ(counted.at(0).get<int>(0), 100000);
  db.close().get();
}

TEST(InterruptTest, CursorExecuteFailsWhenInterrupted) {
  auto db = connect(":memory:").get();
  auto cur = db.cursor().get();
  auto query = cur.execute(kEndlessQuery);
  expect_interrupted(interrupt_from_thread(db, query));
  auto again = cur.execute("SELECT 5").get();
  EXPECT_EQ(again.fetchone().get()->get<int>(0), 5);
  db.close().get();
}

using InterruptLoopTest = LoopTest;

TEST_F(InterruptLoopTest, FromAUvTimerOnTheLoop) {
  auto db = open();
  std::exception_ptr error;
  bool done = false;
  db.execute_fetchall(kEndlessQuery, [&](std::exception_ptr e, std::vector<Row>) {
    error = e;
    done = true;
  });

  struct Interrupter {
    uv_timer_t timer{};
    Connection db;
    bool* done;
  } interrupter{{}, db, &done};
  uv_timer_init(&loop_, &interrupter.timer);
  interrupter.timer.data = &interrupter;
  uv_timer_start(
      &interrupter.timer,
      [](uv_timer_t* t) {
        auto* self = static_cast<Interrupter*>(t->data);
        if (*self->done) {
          uv_timer_stop(t);
          return;
        }
        self->db.interrupt();
      },
      5, 5);
  const bool finished = run_until([&] { return done; }, 10s);
  uv_close(reinterpret_cast<uv_handle_t*>(&interrupter.timer), nullptr);
  ASSERT_TRUE(finished) << "the query was still running 10 s after interrupt()";
  expect_interrupted(error);

  std::int64_t value = 0;
  db.execute_fetchall("SELECT 42", [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    if (!e) value = rows.at(0).get<std::int64_t>(0);
  });
  ASSERT_TRUE(run_until([&] { return value == 42; }));
  interrupter.db = Connection{};
  close(db);
}

TEST(InterruptTest, WhenNothingRunsIsHarmless) {
  auto db = connect(":memory:").get();
  for (int i = 0; i < 10; ++i) db.interrupt();
  EXPECT_EQ(db.execute_fetchall("SELECT 1").get().at(0).get<int>(0), 1);
  auto counted = db.execute_fetchall(
                       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100000) "
                       "SELECT count(*) FROM c")
                     .get();
  EXPECT_EQ(counted.at(0).get<int>(0), 100000);
  db.close().get();
}

TEST(InterruptTest, AfterCloseIsHarmless) {
  auto db = connect(":memory:").get();
  db.close().get();
  for (int i = 0; i < 10; ++i) db.interrupt();
  SUCCEED();
}

TEST(InterruptTest, ConcurrentWithCloseIsHarmless) {
  auto db = connect(":memory:").get();
  db.execute("CREATE TABLE t(x)").get();
  std::atomic<bool> stop{false};
  std::thread interrupter([&] {
    while (!stop.load()) db.interrupt();
  });
  for (int i = 0; i < 100; ++i) (void)db.execute("INSERT INTO t VALUES (?)", {i});
  auto closed = db.close();
  EXPECT_EQ(closed.wait_for(10s), std::future_status::ready);
  stop = true;
  interrupter.join();
  EXPECT_NO_THROW(closed.get());
}

}  // namespace
}  // namespace uvsqlite::test

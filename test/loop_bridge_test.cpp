// The loop bridge: callback forms run on the loop thread, in submission order, never inline;
// an idle connection does not keep uv_run alive; exceptions escaping callbacks reach the
// connection's error handler.
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

using namespace std::chrono_literals;

// 0, 1, ..., n - 1: the order in which n operations submitted in turn must complete.
std::vector<int> first_n(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

/// uv_run(UV_RUN_DEFAULT) guarded by an unreferenced watchdog timer (which does not keep the loop
/// alive by itself). True when uv_run returned on its own before `limit`.
bool run_default_returns(uv_loop_t* loop, std::chrono::milliseconds limit) {
  struct Watchdog {
    uv_timer_t timer{};
    bool fired = false;
  } w;
  uv_timer_init(loop, &w.timer);
  w.timer.data = &w;
  uv_timer_start(
      &w.timer,
      [](uv_timer_t* t) {
        static_cast<Watchdog*>(t->data)->fired = true;
        uv_stop(t->loop);
      },
      static_cast<std::uint64_t>(limit.count()), 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&w.timer));
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&w.timer), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);  // runs the watchdog's close
  return !w.fired;
}

using LoopBridgeTest = LoopTest;

TEST_F(LoopBridgeTest, CallbacksRunOnTheLoopThread) {
  auto db = open();
  const auto loop_thread = std::this_thread::get_id();
  std::vector<std::thread::id> seen;
  auto record = [&] { seen.push_back(std::this_thread::get_id()); };

  db.execute("CREATE TABLE t(x)", [&](std::exception_ptr e, Cursor) {
    EXPECT_FALSE(e);
    record();
  });
  db.execute_insert("INSERT INTO t VALUES (1)", [&](std::exception_ptr e, std::optional<std::int64_t>) {
    EXPECT_FALSE(e);
    record();
  });
  db.execute_fetchall("SELECT x FROM t", [&](std::exception_ptr e, std::vector<Row>) {
    EXPECT_FALSE(e);
    record();
  });
  db.commit([&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    record();
  });
  db.execute("SELECT x FROM t", [&](std::exception_ptr e, Cursor cur) {
    EXPECT_FALSE(e);
    record();
    cur.fetchall([&](std::exception_ptr e2, std::vector<Row> rows) {
      EXPECT_FALSE(e2);
      EXPECT_EQ(rows.size(), 1u);
      record();
    });
  });
  db.execute("SELEC nonsense", [&](std::exception_ptr e, Cursor) {
    EXPECT_TRUE(e);
    record();
  });

  ASSERT_TRUE(run_until([&] { return seen.size() == 7; }));
  for (const auto& id : seen) EXPECT_EQ(id, loop_thread);
  close(db);
}

TEST_F(LoopBridgeTest, CallbacksRunInSubmissionOrder) {
  auto db = open();
  db.execute("CREATE TABLE t(x)").get();
  constexpr int kOps = 1000;
  std::vector<int> order;
  order.reserve(kOps);
  std::int64_t inserts = 0;
  for (int i = 0; i < kOps; ++i) {
    switch (i % 4) {
      case 0:
        db.execute("INSERT INTO t VALUES (?)", {i}, [&, i](std::exception_ptr e, Cursor) {
          EXPECT_FALSE(e);
          order.push_back(i);
        });
        ++inserts;
        break;
      case 1:
        db.execute_fetchall("SELECT count(*) FROM t",
                            [&, i, inserts](std::exception_ptr e, std::vector<Row> rows) {
                              EXPECT_FALSE(e);
                              // The query ran after exactly the inserts submitted before it.
                              if (!e) {
                                EXPECT_EQ(rows.at(0).get<std::int64_t>(0), inserts) << "op " << i;
                              }
                              order.push_back(i);
                            });
        break;
      case 2:
        db.execute_insert("INSERT INTO t VALUES (?)", {i},
                          [&, i](std::exception_ptr e, std::optional<std::int64_t>) {
                            EXPECT_FALSE(e);
                            order.push_back(i);
                          });
        ++inserts;
        break;
      default:
        db.commit([&, i](std::exception_ptr e) {
          EXPECT_FALSE(e);
          order.push_back(i);
        });
        break;
    }
  }
  ASSERT_TRUE(run_until([&] { return order.size() == static_cast<std::size_t>(kOps); }));
  EXPECT_EQ(order, first_n(kOps));
  close(db);
}

TEST_F(LoopBridgeTest, SuccessCallbackIsNeverInline) {
  auto db = open();
  bool returned = false;
  bool ran = false;
  db.execute_fetchall("SELECT 1", [&](std::exception_ptr e, std::vector<Row>) {
    EXPECT_FALSE(e);
    EXPECT_TRUE(returned) << "callback ran inside the initiating call";
    ran = true;
  });
  returned = true;
  ASSERT_TRUE(run_until([&] { return ran; }));
  close(db);
}

TEST_F(LoopBridgeTest, BadSqlCallbackIsNeverInline) {
  auto db = open();
  bool returned = false;
  bool ran = false;
  db.execute("SELEC nonsense", [&](std::exception_ptr e, Cursor) {
    expect_error<OperationalError>(e);
    EXPECT_TRUE(returned) << "callback ran inside the initiating call";
    ran = true;
  });
  returned = true;
  ASSERT_TRUE(run_until([&] { return ran; }));
  close(db);
}

TEST_F(LoopBridgeTest, ClosedConnectionCallbackIsNeverInline) {
  auto db = open();
  close(db);
  bool returned = false;
  int ran = 0;
  db.execute("SELECT 1", [&](std::exception_ptr e, Cursor) {
    expect_error<ProgrammingError>(e);
    EXPECT_TRUE(returned) << "execute callback ran inside the initiating call";
    ++ran;
  });
  db.commit([&](std::exception_ptr e) {
    expect_error<ProgrammingError>(e);
    EXPECT_TRUE(returned) << "commit callback ran inside the initiating call";
    ++ran;
  });
  returned = true;
  ASSERT_TRUE(run_until([&] { return ran == 2; }));
}

TEST_F(LoopBridgeTest, ConnectCallbackIsNeverInline) {
  bool returned = false;
  bool ran = false;
  Connection db;
  connect(&loop_, ":memory:", {}, [&](std::exception_ptr e, Connection c) {
    EXPECT_FALSE(e);
    EXPECT_TRUE(returned) << "connect callback ran inside the initiating call";
    db = std::move(c);
    ran = true;
  });
  returned = true;
  ASSERT_TRUE(run_until([&] { return ran; }));
  close(db);
}

TEST_F(LoopBridgeTest, RunReturnsWhenNoCallbackIsOutstanding) {
  auto db = open();
  EXPECT_TRUE(run_default_returns(&loop_, 3s)) << "an idle open connection kept uv_run alive";

  bool done = false;
  db.execute_fetchall("SELECT 1", [&](std::exception_ptr e, std::vector<Row>) {
    EXPECT_FALSE(e);
    done = true;
  });
  EXPECT_TRUE(run_default_returns(&loop_, 3s)) << "uv_run did not return after the last callback";
  EXPECT_TRUE(done) << "uv_run returned before the pending callback ran";

  // Still open and still working; idle again afterwards.
  done = false;
  db.execute("SELECT 2", [&](std::exception_ptr e, Cursor) {
    EXPECT_FALSE(e);
    done = true;
  });
  EXPECT_TRUE(run_default_returns(&loop_, 3s));
  EXPECT_TRUE(done);
  close(db);
}

TEST_F(LoopBridgeTest, CallbackCanSubmitAnotherOperation) {
  auto db = open();
  constexpr int kDepth = 100;
  int depth = 0;
  std::function<void()> step = [&] {
    db.execute_fetchall("SELECT ?", {depth}, [&](std::exception_ptr e, std::vector<Row> rows) {
      EXPECT_FALSE(e);
      if (!e) {
        EXPECT_EQ(rows.at(0).get<int>(0), depth);
      }
      if (++depth < kDepth) step();
    });
  };
  step();
  ASSERT_TRUE(run_until([&] { return depth == kDepth; }));
  close(db);
}

// While round trips chain (each callback submits the next), the loop thread waits for the next
// completion in a bounded spin; the loop must still go round to run timers and I/O.
TEST_F(LoopBridgeTest, TimersFireDuringAnUnbrokenChainOfRoundTrips) {
  auto db = open();
  struct Tick {
    uv_timer_t timer{};
    bool fired = false;
  } tick;
  uv_timer_init(&loop_, &tick.timer);
  tick.timer.data = &tick;
  uv_timer_start(
      &tick.timer, [](uv_timer_t* t) { static_cast<Tick*>(t->data)->fired = true; }, 1, 0);
  constexpr int kCap = 2'000'000;  // about 4 s of round trips: far beyond a 1 ms timer
  int trips = 0;
  bool chain_done = false;
  std::function<void()> next = [&] {
    db.call([](sqlite3*) { return 0; },
            [&](std::exception_ptr e, int) {
              EXPECT_FALSE(e);
              if (!tick.fired && ++trips < kCap) {
                next();
              } else {
                chain_done = true;
              }
            });
  };
  next();
  ASSERT_TRUE(run_until([&] { return chain_done; }, 60s));
  EXPECT_TRUE(tick.fired) << "the timer never ran during " << trips << " chained round trips";
  EXPECT_LT(trips, kCap);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick.timer), nullptr);
  close(db);
}

// A job that outlasts the loop's spin: the loop blocks in epoll and is woken by the uv_async_t.
TEST_F(LoopBridgeTest, JobLongerThanTheSpinStillWakesTheLoop) {
  auto db = open();
  int done = 0;
  for (int i = 0; i < 3; ++i) {
    db.call(
        [](sqlite3*) {
          std::this_thread::sleep_for(30ms);
          return 7;
        },
        [&](std::exception_ptr e, int v) {
          EXPECT_FALSE(e);
          EXPECT_EQ(v, 7);
          ++done;
        });
    // uv_run(DEFAULT) blocks in epoll once the spin gives up; only the async send returns it.
    EXPECT_TRUE(run_default_returns(&loop_, 10s));
    EXPECT_EQ(done, i + 1);
  }
  close(db);
}

// With many completions outstanding the loop looks for them less often; when the jobs then take
// longer than its spin, it still blocks and is woken for each, in order.
TEST_F(LoopBridgeTest, ABacklogOfSlowJobsStillWakesTheLoopInOrder) {
  auto db = open();
  constexpr int kJobs = 24;  // beyond the backlog at which the loop looks less often
  std::vector<int> order;
  for (int i = 0; i < kJobs; ++i) {
    db.call(
        [i](sqlite3*) {
          if (i % 4 == 0) std::this_thread::sleep_for(5ms);
          return i;
        },
        [&](std::exception_ptr e, int v) {
          EXPECT_FALSE(e);
          order.push_back(v);
        });
  }
  EXPECT_TRUE(run_default_returns(&loop_, 10s));
  EXPECT_EQ(order, first_n(kJobs));
  close(db);
}

// While a backlog is outstanding the loop thread naps between looks, but never holds the loop
// until a completion comes: a repeating 1 ms timer keeps firing while slow jobs run.
TEST_F(LoopBridgeTest, ALoopWaitingOnABacklogStillRunsItsTimers) {
  auto db = open();
  constexpr int kJobs = 24;  // the first 8 complete with more than 16 outstanding
  struct Ticks {
    uv_timer_t timer{};
    int fired = 0;
  } ticks;
  uv_timer_init(&loop_, &ticks.timer);
  ticks.timer.data = &ticks;
  uv_timer_start(
      &ticks.timer, [](uv_timer_t* t) { ++static_cast<Ticks*>(t->data)->fired; }, 1, 1);
  int delivered = 0;
  int fired_while_patient = -1;
  for (int i = 0; i < kJobs; ++i) {
    db.call(
        [](sqlite3*) {
          std::this_thread::sleep_for(20ms);
          return 0;
        },
        [&](std::exception_ptr e, int) {
          EXPECT_FALSE(e);
          if (++delivered == kJobs - 16) fired_while_patient = ticks.fired;
          if (delivered == kJobs) uv_close(reinterpret_cast<uv_handle_t*>(&ticks.timer), nullptr);
        });
  }
  EXPECT_TRUE(run_default_returns(&loop_, 30s));
  EXPECT_EQ(delivered, kJobs);
  // 8 jobs of 20 ms: about 160 ticks if the loop ran freely, at most 8 if it waited in the
  // bridge from one completion to the next.
  EXPECT_GE(fired_while_patient, 40);
  close(db);
}

// Several connections on one loop, each with its own chain of round trips: a bridge waiting for
// its completion never starves another's.
TEST_F(LoopBridgeTest, ChainsOnSeveralConnectionsAllFinish) {
  constexpr int kConnections = 4;
  constexpr int kTrips = 500;
  std::vector<Connection> dbs;
  for (int i = 0; i < kConnections; ++i) dbs.push_back(open());
  std::vector<int> trips(kConnections, 0);
  std::vector<std::function<void()>> next(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    next[i] = [&, i] {
      dbs[i].execute_fetchall("SELECT ?", {trips[i]}, [&, i](std::exception_ptr e, std::vector<Row> rows) {
        EXPECT_FALSE(e);
        if (!e) {
          EXPECT_EQ(rows.at(0).get<int>(0), trips[i]);
        }
        if (++trips[i] < kTrips) next[i]();
      });
    };
    next[i]();
  }
  EXPECT_TRUE(run_default_returns(&loop_, 30s));
  for (int i = 0; i < kConnections; ++i) EXPECT_EQ(trips[i], kTrips) << "connection " << i;
  for (auto& db : dbs) close(db);
}

TEST_F(LoopBridgeTest, CallbackExceptionReachesTheErrorHandler) {
  std::vector<std::string> handled;
  std::vector<std::thread::id> handler_threads;
  auto db = open();
  db.set_error_handler([&](std::exception_ptr e) {
    handler_threads.push_back(std::this_thread::get_id());
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      handled.emplace_back(x.what());
    } catch (...) {
      handled.emplace_back("?");
    }
  });

  bool second = false;
  db.execute("SELECT 1", [](std::exception_ptr, Cursor) { throw std::runtime_error("boom 1"); });
  db.execute("SELECT 2", [&](std::exception_ptr e, Cursor) {
    EXPECT_FALSE(e);
    second = true;
  });
  ASSERT_TRUE(run_until([&] { return second && handled.size() == 1; }));
  EXPECT_EQ(handled.at(0), "boom 1");

  // A void callback, and the callback of a failing operation.
  db.commit([](std::exception_ptr) { throw std::logic_error("boom 2"); });
  db.execute("SELEC", [](std::exception_ptr, Cursor) { throw std::runtime_error("boom 3"); });
  ASSERT_TRUE(run_until([&] { return handled.size() == 3; }));
  EXPECT_EQ(handled.at(1), "boom 2");
  EXPECT_EQ(handled.at(2), "boom 3");
  for (const auto& id : handler_threads) EXPECT_EQ(id, std::this_thread::get_id());

  // The loop and the connection keep working.
  std::int64_t value = 0;
  db.execute_fetchall("SELECT 42", [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    if (!e) value = rows.at(0).get<std::int64_t>(0);
  });
  ASSERT_TRUE(run_until([&] { return value == 42; }));
  EXPECT_TRUE(run_default_returns(&loop_, 3s));
  close(db);
}

// The error handler is a user object: a connection dropped while its loop handle is open (never
// closed, callbacks just delivered) has it destroyed on the loop thread, before uv_run returns,
// not later on whichever thread happens to release the bridge last (the exiting worker).
TEST_F(LoopBridgeTest, ADroppedConnectionsErrorHandlerDiesOnTheLoopThread) {
  struct Probe {
    std::thread::id* died_on;
    explicit Probe(std::thread::id* where) : died_on(where) {}
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;
    ~Probe() { *died_on = std::this_thread::get_id(); }
  };
  for (int round = 0; round < 5; ++round) {
    std::thread::id died_on;
    {
      auto db = open();
      auto probe = std::make_shared<Probe>(&died_on);
      db.set_error_handler([probe](std::exception_ptr) {});
      probe.reset();
      bool delivered = false;
      db.execute_fetchall("SELECT 1", [&](std::exception_ptr e, std::vector<Row>) {
        EXPECT_FALSE(e);
        delivered = true;
      });
      ASSERT_TRUE(run_until([&] { return delivered; }));
    }  // dropped, never closed
    EXPECT_TRUE(run_default_returns(&loop_, 10s));
    EXPECT_EQ(died_on, std::this_thread::get_id()) << "round " << round;
  }
}

TEST_F(LoopBridgeTest, DefaultErrorHandlerTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto db = open();
        db.execute("SELECT 1",
                   [](std::exception_ptr, Cursor) { throw std::runtime_error("boom from callback"); });
        run_until([] { return false; }, 5s);
        std::exit(0);  // not reached when the default handler terminates
      },
      "boom from callback");
}

TEST_F(LoopBridgeTest, EmptyErrorHandlerRestoresTheDefault) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto db = open();
        db.set_error_handler([](std::exception_ptr) {});
        db.set_error_handler({});
        db.execute("SELECT 1",
                   [](std::exception_ptr, Cursor) { throw std::runtime_error("boom after reset"); });
        run_until([] { return false; }, 5s);
        std::exit(0);
      },
      "boom after reset");
}

}  // namespace
}  // namespace uvsqlite::test

// Submitting from many threads at once: every job runs once, FIFO per submitting thread, and
// callbacks submitted from other threads are delivered on the loop thread.
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

TEST(ConcurrencyTest, EightThreadsInsertFiveHundredRowsEach) {
  auto db = connect(":memory:").get();
  db.execute("CREATE TABLE t(thread INTEGER, seq INTEGER)").get();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      std::vector<std::future<Cursor>> futures;
      futures.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i)
        futures.push_back(db.execute("INSERT INTO t VALUES (?, ?)", {t, i}));
      for (auto& f : futures) {
        try {
          f.get();
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  db.commit().get();

  EXPECT_EQ(db.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), kThreads * kPerThread);
  EXPECT_EQ(db.total_changes(), kThreads * kPerThread);
  auto groups = db.execute_fetchall(
                      "SELECT thread, count(*), count(DISTINCT seq), min(seq), max(seq) FROM t "
                      "GROUP BY thread ORDER BY thread")
                    .get();
  ASSERT_EQ(groups.size(), static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(groups[t].get<int>(0), t);
    EXPECT_EQ(groups[t].get<int>(1), kPerThread);
    EXPECT_EQ(groups[t].get<int>(2), kPerThread);
    EXPECT_EQ(groups[t].get<int>(3), 0);
    EXPECT_EQ(groups[t].get<int>(4), kPerThread - 1);
  }
  // Each thread's inserts ran in the order that thread submitted them.
  for (int t = 0; t < kThreads; ++t) {
    auto rows = db.execute_fetchall("SELECT seq FROM t WHERE thread = ? ORDER BY rowid", {t}).get();
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) {
      if (rows[i].get<int>(0) != i) {
        ADD_FAILURE() << "thread " << t << ": row " << i << " has seq " << rows[i].get<int>(0);
        break;
      }
    }
  }
  db.close().get();
}

// Submissions from several threads racing with close(): every job either runs (in submission
// order per thread) or fails with ProgrammingError; none is lost, none hangs, and the worker's
// queue refuses work once closed.
TEST(ConcurrencyTest, SubmissionsRacingWithCloseAllComplete) {
  for (int round = 0; round < 20; ++round) {
    auto db = connect(":memory:").get();
    constexpr int kThreads = 4;
    constexpr int kPerThread = 300;
    std::latch start(kThreads + 1);
    std::vector<std::vector<std::future<std::vector<Row>>>> futures(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int i = 0; i < kPerThread; ++i) futures[t].push_back(db.execute_fetchall("SELECT ?", {i}));
      });
    }
    start.arrive_and_wait();
    std::this_thread::sleep_for(std::chrono::microseconds(50 * (round % 5)));
    auto closed = db.close();
    for (auto& th : threads) th.join();
    ASSERT_EQ(closed.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    closed.get();
    for (int t = 0; t < kThreads; ++t) {
      bool failed_before = false;
      for (int i = 0; i < kPerThread; ++i) {
        auto& f = futures[t][static_cast<std::size_t>(i)];
        ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready)
            << "thread " << t << " job " << i;
        try {
          auto rows = f.get();
          // Once one job of a thread failed (closed), every later one of that thread fails too.
          EXPECT_FALSE(failed_before) << "thread " << t << " job " << i << " ran after a failed one";
          ASSERT_EQ(rows.size(), 1U);
          EXPECT_EQ(rows[0].get<int>(0), i);
        } catch (const ProgrammingError&) {
          failed_before = true;
        }
      }
    }
  }
}

using ConcurrencyLoopTest = LoopTest;

// The loop thread submits a stream of callback-form jobs while another thread closes the
// connection: whether a job ran, was failed by the worker, or was refused at once because the
// worker had exited, the callbacks still arrive in submission order.
TEST_F(ConcurrencyLoopTest, CallbacksRacingWithCloseArriveInSubmissionOrder) {
  int rounds_with_failures = 0;
  for (int round = 0; round < 30; ++round) {
    auto db = open();
    constexpr int kJobs = 2000;
    std::vector<int> order;
    order.reserve(kJobs);
    int failed = 0;
    std::thread closer([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(20 * (round % 10)));
      db.close().get();
    });
    for (int i = 0; i < kJobs; ++i) {
      db.call([](sqlite3*) { return 0; },
              [&, i](std::exception_ptr e, int) {
                if (e) ++failed;
                order.push_back(i);
              });
    }
    closer.join();
    ASSERT_TRUE(run_until([&] { return order.size() == static_cast<std::size_t>(kJobs); }));
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "round " << round;
    if (failed > 0) ++rounds_with_failures;
  }
  EXPECT_GT(rounds_with_failures, 0) << "no close landed among the jobs: the race was not exercised";
}

TEST_F(ConcurrencyLoopTest, CallbacksSubmittedFromOtherThreadsRunOnTheLoopThread) {
  auto db = open();
  const auto loop_thread = std::this_thread::get_id();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  constexpr int kTotal = kThreads * kPerThread;

  std::mutex mutex;
  std::vector<std::vector<int>> got(kThreads);
  std::atomic<int> delivered{0};
  std::atomic<int> wrong_thread{0};
  std::atomic<int> errors{0};
  std::atomic<bool> go{false};

  // Our own timer keeps the loop alive (and releases the submitters once the loop runs) until
  // every callback was delivered, or 10 s passed.
  struct Keeper {
    uv_timer_t timer{};
    std::atomic<int>* delivered;
    std::atomic<bool>* go;
    int ticks = 0;
    bool timed_out = false;
  } keeper{{}, &delivered, &go};
  uv_timer_init(&loop_, &keeper.timer);
  keeper.timer.data = &keeper;
  uv_timer_start(
      &keeper.timer,
      [](uv_timer_t* t) {
        auto* k = static_cast<Keeper*>(t->data);
        k->go->store(true);
        if (k->delivered->load() == kTotal || ++k->ticks > 2000) {
          k->timed_out = k->delivered->load() != kTotal;
          uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
        }
      },
      0, 5);

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) {
        db.execute_fetchall("SELECT ?, ?", {t, i}, [&, t](std::exception_ptr e, std::vector<Row> rows) {
          if (std::this_thread::get_id() != loop_thread) ++wrong_thread;
          if (e || rows.size() != 1) {
            ++errors;
          } else {
            std::lock_guard lock(mutex);
            got[t].push_back(rows[0].get<int>(1));
          }
          ++delivered;
        });
      }
    });
  }
  run();  // the loop runs in this thread while the others submit
  for (auto& th : threads) th.join();

  EXPECT_FALSE(keeper.timed_out) << "only " << delivered.load() << " of " << kTotal << " callbacks delivered";
  EXPECT_EQ(delivered.load(), kTotal);
  EXPECT_EQ(wrong_thread.load(), 0);
  EXPECT_EQ(errors.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    std::vector<int> expected(kPerThread);
    for (int i = 0; i < kPerThread; ++i) expected[i] = i;
    EXPECT_EQ(got[t], expected) << "thread " << t;
  }
  close(db);
}

}  // namespace
}  // namespace uvsqlite::test

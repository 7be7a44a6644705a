// The future form: fulfilled on the worker, so .get() works with no loop at all, and on the loop
// thread of a loop connection without running the loop. Callback forms need a loop.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <latch>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

TEST(FutureTest, WorksWithoutALoop) {
  auto db = connect(":memory:").get();
  EXPECT_EQ(db.loop(), nullptr);
  db.execute("CREATE TABLE t(x INTEGER, y TEXT)").get();
  db.execute("INSERT INTO t VALUES (?, ?)", {1, "one"}).get();
  EXPECT_EQ(db.execute_insert("INSERT INTO t VALUES (?, ?)", {2, "two"}).get(),
            std::optional<std::int64_t>(2));
  EXPECT_TRUE(db.in_transaction());
  db.commit().get();
  EXPECT_FALSE(db.in_transaction());

  auto rows = db.execute_fetchall("SELECT x, y FROM t ORDER BY x").get();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get<int>(0), 1);
  EXPECT_EQ(rows[0].get<std::string>(1), "one");
  EXPECT_EQ(rows[1].get<int>(0), 2);
  EXPECT_EQ(rows[1].get<std::string>(1), "two");

  auto cur = db.execute("SELECT x FROM t ORDER BY x").get();
  auto all = cur.fetchall().get();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].get<int>(0), 2);

  db.close().get();
}

TEST(FutureTest, ErrorArrivesThroughTheFuture) {
  auto db = connect(":memory:").get();
  auto f = db.execute("SELEC nonsense");
  EXPECT_THROW(f.get(), OperationalError);
  EXPECT_EQ(db.execute_fetchall("SELECT 3").get().at(0).get<int>(0), 3);
  db.close().get();
}

using FutureLoopTest = LoopTest;

TEST_F(FutureLoopTest, GetOnTheLoopThreadWithoutRunningTheLoop) {
  auto db = open();  // connect(&loop_, ...).get() on the loop thread
  EXPECT_EQ(db.loop(), &loop_);
  db.execute("CREATE TABLE t(x)").get();
  EXPECT_EQ(db.execute_insert("INSERT INTO t VALUES (7)").get(), std::optional<std::int64_t>(1));
  db.commit().get();
  auto rows = db.execute_fetchall("SELECT x FROM t").get();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].get<int>(0), 7);
  auto cur = db.execute("SELECT x FROM t").get();
  auto one = cur.fetchone().get();
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->get<int>(0), 7);
  db.close().get();  // TearDown runs the loop so the async handle can close
}

TEST_F(FutureLoopTest, GetInsideACallbackOnTheLoopThread) {
  auto db = open();
  std::int64_t value = 0;
  bool done = false;
  db.execute("SELECT 1", [&](std::exception_ptr e, Cursor) {
    EXPECT_FALSE(e);
    value = db.execute_fetchall("SELECT 7").get().at(0).get<std::int64_t>(0);
    done = true;
  });
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(value, 7);
  close(db);
}

TEST(FutureTest, CallbackFormWithoutALoopThrowsAtOnce) {
  auto db = connect(":memory:").get();
  bool called = false;
  EXPECT_THROW(db.execute("SELECT 1", [&](std::exception_ptr, Cursor) { called = true; }), ProgrammingError);
  EXPECT_THROW(db.execute_fetchall("SELECT 1", [&](std::exception_ptr, std::vector<Row>) { called = true; }),
               ProgrammingError);
  EXPECT_THROW(
      db.execute_insert("SELECT 1", [&](std::exception_ptr, std::optional<std::int64_t>) { called = true; }),
      ProgrammingError);
  EXPECT_THROW(db.commit([&](std::exception_ptr) { called = true; }), ProgrammingError);
  auto cur = db.execute("SELECT 1").get();
  EXPECT_THROW(cur.fetchall([&](std::exception_ptr, std::vector<Row>) { called = true; }), ProgrammingError);
  EXPECT_THROW(db.close([&](std::exception_ptr) { called = true; }), ProgrammingError);

  // Nothing was queued by the throwing calls: the connection is still open.
  EXPECT_EQ(db.execute_fetchall("SELECT 5").get().at(0).get<int>(0), 5);
  db.close().get();
  EXPECT_FALSE(called);
}

// The future form waits briefly for a short job before it returns, but never for a long one:
// the caller gets its future while the job still runs, and can do other work meanwhile.
TEST(FutureTest, ReturnsBeforeALongJobFinishes) {
  auto db = connect(":memory:").get();
  std::atomic<bool> release{false};
  auto long_job = db.call([&](sqlite3*) {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return 1;
  });
  // Returned while the job is still held on the worker.
  EXPECT_EQ(long_job.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  release.store(true);
  EXPECT_EQ(long_job.get(), 1);
  // And a short job's future is usable at once as well.
  EXPECT_EQ(db.execute_fetchall("SELECT 3").get().at(0).get<int>(0), 3);
  db.close().get();
}

TEST(FutureTest, FuturesFromEightThreadsAtOnce) {
  auto db = connect(":memory:").get();
  db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, thread INTEGER, seq INTEGER)").get();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::vector<std::vector<std::int64_t>> ids(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      std::vector<std::future<std::optional<std::int64_t>>> inserts;
      std::vector<std::future<std::vector<Row>>> reads;
      for (int i = 0; i < kPerThread; ++i) {
        inserts.push_back(db.execute_insert("INSERT INTO t(thread, seq) VALUES (?, ?)", {t, i}));
        reads.push_back(db.execute_fetchall("SELECT ?", {i}));
      }
      for (int i = 0; i < kPerThread; ++i) {
        try {
          auto id = inserts[i].get();
          EXPECT_TRUE(id.has_value());
          if (id) ids[t].push_back(*id);
          EXPECT_EQ(reads[i].get().at(0).get<int>(0), i);
        } catch (const std::exception& e) {
          ADD_FAILURE() << "thread " << t << " op " << i << ": " << e.what();
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  std::set<std::int64_t> distinct;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(ids[t].size(), static_cast<std::size_t>(kPerThread));
    for (std::size_t i = 1; i < ids[t].size(); ++i) EXPECT_LT(ids[t][i - 1], ids[t][i]) << "thread " << t;
    distinct.insert(ids[t].begin(), ids[t].end());
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(db.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), kThreads * kPerThread);
  db.close().get();
}

// Records the thread that destroys the copy captured by the work given to call(), which dies
// with the operation's job: once the caller holds the only other copy, arm() makes the next
// death the job's.
struct DeathWatch {
  struct State {
    std::atomic<int> alive{0};
    std::atomic<bool> armed{false};
    std::atomic<std::thread::id> died_on{};
  };
  std::shared_ptr<State> state = std::make_shared<State>();
  DeathWatch() { ++state->alive; }
  DeathWatch(const DeathWatch& other) : state(other.state) { ++state->alive; }
  DeathWatch& operator=(const DeathWatch&) = delete;
  ~DeathWatch() {
    if (state->armed.exchange(false)) state->died_on.store(std::this_thread::get_id());
    --state->alive;
  }
  /// False when the job's copy is gone already (its submitter's next push may destroy a job
  /// that finished at once).
  bool arm() {
    state->armed = true;
    if (state->alive.load() > 1) return true;
    state->armed = false;
    return false;
  }
  [[nodiscard]] std::thread::id died_on() const { return state->died_on.load(); }
};

// A finished job goes back to a submitting thread to be destroyed (its memory was allocated
// there): a caller coming back within a few milliseconds destroys it after queueing its next
// job, beside that job's run on the worker, so that freeing a large operation's rows (a
// millisecond for 100,000) never holds up the next operation. The caller here comes back after
// the worker stopped spinning for work (30 us) but well before its grace period ends (2 ms); a
// loaded machine (sanitizers, parallel tests) may stretch the pause past that, so one try in
// twenty suffices. Without the grace period the idle worker destroys it 30 us after the job.
TEST(FutureTest, AFinishedJobIsDestroyedByTheCallerComingBackNotTheIdleWorker) {
  auto db = connect(":memory:").get();
  int on_caller = 0;
  for (int attempt = 0; attempt < 20 && on_caller == 0; ++attempt) {
    DeathWatch watch;
    db.call([watch](sqlite3*) { return 1; }).get();
    if (!watch.arm()) continue;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    db.commit().get();
    if (watch.died_on() == std::this_thread::get_id()) ++on_caller;
  }
  EXPECT_GT(on_caller, 0) << "the idle worker destroyed the finished job before its caller came back";
  db.close().get();
}

// A finished job that no caller comes back for still dies, on the worker, once it is idle: it
// may hold the last reference to the connection.
TEST(FutureTest, AFinishedJobNoCallerComesBackForDiesOnTheWorker) {
  auto db = connect(":memory:").get();
  const std::thread::id worker = db.call([](sqlite3*) { return std::this_thread::get_id(); }).get();
  bool checked = false;
  for (int attempt = 0; attempt < 20 && !checked; ++attempt) {
    DeathWatch watch;
    db.call([watch](sqlite3*) { return 1; }).get();
    if (!watch.arm()) continue;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (watch.died_on() == std::thread::id{} && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(watch.died_on(), worker);
    checked = true;
  }
  EXPECT_TRUE(checked) << "every job was destroyed before the caller could watch it";
  db.close().get();
}

}  // namespace
}  // namespace uvsqlite::test

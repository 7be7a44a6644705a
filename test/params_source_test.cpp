// executemany() over a ParamsSource: rows made one at a time on the worker, as aiosqlite consumes
// an iterator on its thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::Connection;
using uvsqlite::Cursor;
using uvsqlite::Params;
using uvsqlite::test::catch_as;
using uvsqlite::test::expect_error;

// Yields {i, "row-i"} for i in [0, n), recording the thread of each call.
struct Counting {
  explicit Counting(int rows) : n(rows) {}
  int n;
  int calls = 0;
  std::vector<std::thread::id> threads;
  std::optional<Params> operator()() {
    threads.push_back(std::this_thread::get_id());
    if (calls == n) return std::nullopt;
    const int i = calls++;
    return Params{i, "row-" + std::to_string(i)};
  }
};

// A callable returning Params (never "no more rows") or a move-only one is refused at compile
// time, not run forever or failed deep inside std::function.
const auto kReturnsParams = [] { return Params{1}; };
const auto kReturnsOptional = []() -> std::optional<Params> { return std::nullopt; };
struct MoveOnlySource {
  MoveOnlySource() = default;
  MoveOnlySource(MoveOnlySource&&) = default;
  MoveOnlySource(const MoveOnlySource&) = delete;
  std::optional<Params> operator()() { return std::nullopt; }
};
static_assert(!uvsqlite::ParamsGenerator<decltype(kReturnsParams)>);
static_assert(uvsqlite::ParamsGenerator<decltype(kReturnsOptional)>);
static_assert(uvsqlite::ParamsGenerator<uvsqlite::ParamsSource>);
static_assert(!uvsqlite::ParamsGenerator<MoveOnlySource>);

class ParamsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { db_.execute("CREATE TABLE t(a INTEGER, b TEXT)").get(); }
  void TearDown() override { db_.close().get(); }

  std::int64_t count() {
    return db_.execute_fetchall("SELECT count(*) FROM t").get().at(0)[0].get<std::int64_t>();
  }

  Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST_F(ParamsSourceTest, RunsEveryRowTheSourceYieldsOnTheWorker) {
  Counting source(1000);
  Cursor c = db_.executemany("INSERT INTO t VALUES (?, ?)", std::ref(source)).get();
  EXPECT_EQ(c.rowcount(), 1000);
  EXPECT_EQ(source.calls, 1000);
  ASSERT_EQ(source.threads.size(), 1001U);  // the last call ends the sequence
  for (const auto& id : source.threads) EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_EQ(count(), 1000);
  auto rows = db_.execute_fetchall("SELECT a, b FROM t WHERE a = 999").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0][1].get<std::string>(), "row-999");
}

TEST_F(ParamsSourceTest, EmptySourceRunsNothing) {
  Cursor c = db_.executemany("INSERT INTO t VALUES (?, ?)", [] { return std::optional<Params>(); }).get();
  EXPECT_EQ(c.rowcount(), 0);
  EXPECT_EQ(count(), 0);
  // An empty std::function is an empty sequence too, not a crash.
  c = db_.executemany("INSERT INTO t VALUES (?, ?)", uvsqlite::ParamsSource{}).get();
  EXPECT_EQ(c.rowcount(), 0);
  // No row ran, so no transaction was opened for one.
  EXPECT_FALSE(db_.in_transaction());
}

TEST_F(ParamsSourceTest, ASourceThatFailsAtOnceOpensNoTransactionAndTheNextRunWorks) {
  int calls = 0;
  auto failing = [&calls]() -> std::optional<Params> {
    if (++calls == 1) throw std::runtime_error("no rows today");
    return std::nullopt;
  };
  auto error = catch_as<std::runtime_error>(
      [&] { (void)db_.executemany("INSERT INTO t VALUES (?, ?)", failing).get(); });
  ASSERT_TRUE(error);
  EXPECT_FALSE(db_.in_transaction());
  // A source failing after rows whose parameters were long texts: the row kept for binding is
  // replaced by nothing, and released once (the sanitizer builds see a double free or a leak).
  int made = 0;
  auto long_rows = [&made]() -> std::optional<Params> {
    if (++made == 3) throw std::runtime_error("broke");
    return Params{made, std::string(100, 'x')};
  };
  EXPECT_TRUE(catch_as<std::runtime_error>(
      [&] { (void)db_.executemany("INSERT INTO t VALUES (?, ?)", long_rows).get(); }));
  EXPECT_TRUE(db_.in_transaction());
  EXPECT_EQ(count(), 2);
  Counting again(2);
  EXPECT_EQ(db_.executemany("INSERT INTO t VALUES (?, ?)", std::ref(again)).get().rowcount(), 2);
  EXPECT_EQ(count(), 4);
}

TEST_F(ParamsSourceTest, TheSourcesExceptionEndsExecutemanyAndKeepsEarlierRowsInTheTransaction) {
  int calls = 0;
  auto failing = [&calls]() -> std::optional<Params> {
    if (++calls == 4) throw std::runtime_error("source broke");
    return Params{calls, "x"};
  };
  auto error = catch_as<std::runtime_error>(
      [&] { (void)db_.executemany("INSERT INTO t VALUES (?, ?)", failing).get(); });
  ASSERT_TRUE(error);
  EXPECT_STREQ(error->what(), "source broke");
  // As in Python, the rows run before the failure stay in the open transaction.
  EXPECT_TRUE(db_.in_transaction());
  EXPECT_EQ(count(), 3);
  db_.rollback().get();
  EXPECT_EQ(count(), 0);
  // The statement went back: the same SQL runs again.
  Counting again(2);
  EXPECT_EQ(db_.executemany("INSERT INTO t VALUES (?, ?)", std::ref(again)).get().rowcount(), 2);
}

TEST_F(ParamsSourceTest, AWrongRowIsTheSameErrorAsInAVector) {
  int calls = 0;
  auto short_rows = [&calls]() -> std::optional<Params> {
    if (calls++ == 2) return std::nullopt;
    return Params{1};
  };
  expect_error<uvsqlite::ProgrammingError>(
      uvsqlite::test::error_of(db_.executemany("INSERT INTO t VALUES (?, ?)", short_rows)), "bindings");
}

TEST_F(ParamsSourceTest, AQueryIsRefusedBeforeTheSourceIsCalled) {
  Counting source(3);
  expect_error<uvsqlite::ProgrammingError>(
      uvsqlite::test::error_of(db_.executemany("SELECT ?, ?", std::ref(source))), "DML");
  EXPECT_EQ(source.threads.size(), 0U);
}

// The source and what it captured die on the worker when executemany ends, before its
// completion: nothing it holds outlives the call, whatever the form.
struct Probe {
  std::thread::id* died_on;
  ~Probe() { *died_on = std::this_thread::get_id(); }
};

TEST_F(ParamsSourceTest, TheSourceDiesOnTheWorkerBeforeTheCompletion) {
  for (const bool fail : {false, true}) {
    std::thread::id died_on;
    auto probe = std::make_shared<Probe>(Probe{&died_on});
    std::weak_ptr<Probe> watch = probe;
    auto source = [probe = std::move(probe), n = 0, fail]() mutable -> std::optional<Params> {
      if (n == 3) {
        if (fail) throw std::runtime_error("stop");
        return std::nullopt;
      }
      return Params{n++, "x"};
    };
    auto done = db_.executemany("INSERT INTO t VALUES (?, ?)", std::move(source));
    if (fail) {
      EXPECT_THROW((void)done.get(), std::runtime_error);
    } else {
      EXPECT_EQ(done.get().rowcount(), 3);
    }
    EXPECT_TRUE(watch.expired());
    EXPECT_NE(died_on, std::thread::id());
    EXPECT_NE(died_on, std::this_thread::get_id());
  }
}

TEST_F(ParamsSourceTest, CursorExecutemanyTakesASource) {
  Cursor c = db_.cursor().get();
  Counting source(5);
  EXPECT_EQ(c.executemany("INSERT INTO t VALUES (?, ?)", std::ref(source)).get().rowcount(), 5);
  EXPECT_EQ(count(), 5);
}

class ParamsSourceLoopTest : public uvsqlite::test::LoopTest {};

TEST_F(ParamsSourceLoopTest, CallbackForm) {
  Connection db = open();
  db.execute("CREATE TABLE t(a, b)").get();
  Counting source(50);
  bool done = false;
  std::int64_t rowcount = 0;
  db.executemany("INSERT INTO t VALUES (?, ?)", std::ref(source), [&](std::exception_ptr e, Cursor c) {
    EXPECT_FALSE(e);
    rowcount = c.rowcount();
    done = true;
  });
  EXPECT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(rowcount, 50);
  close(db);
}

}  // namespace

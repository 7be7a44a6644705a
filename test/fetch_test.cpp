// Fetching: fetchone / fetchmany / fetchall in the future and callback forms, execute's first
// step, one-statement rule, executescript, execute_fetchall, execute_insert, closed cursors.

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::test::catch_as;
using uvsqlite::test::contains;
using uvsqlite::test::error_as;

using uvsqlite::Cursor;
using uvsqlite::Row;

std::vector<std::int64_t> firsts(const std::vector<Row>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(r.get<std::int64_t>(0));
  return out;
}

using Ints = std::vector<std::int64_t>;

// ---------------------------------------------------------------------------------------------
// Future form

class Fetch : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3), (4), (5);").get();
  }
  void TearDown() override { db_.close().get(); }

  Cursor select() { return db_.execute("SELECT x FROM t ORDER BY x").get(); }
  std::int64_t count() {
    return db_.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<std::int64_t>(0);
  }

  uvsqlite::Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST_F(Fetch, FetchoneReturnsRowsInOrderThenNullopt) {
  Cursor c = select();
  for (std::int64_t i = 1; i <= 5; ++i) {
    auto row = c.fetchone().get();
    ASSERT_TRUE(row.has_value()) << i;
    EXPECT_EQ(row->get<std::int64_t>(0), i);
  }
  EXPECT_EQ(c.fetchone().get(), std::nullopt);
}

TEST_F(Fetch, ExhaustedCursorKeepsReturningNothing) {
  Cursor c = select();
  EXPECT_EQ(c.fetchall().get().size(), 5U);
  EXPECT_EQ(c.fetchone().get(), std::nullopt);
  EXPECT_EQ(c.fetchone().get(), std::nullopt);
  EXPECT_TRUE(c.fetchmany(3).get().empty());
  EXPECT_TRUE(c.fetchall().get().empty());
}

TEST_F(Fetch, FetchmanyReturnsUpToNRows) {
  Cursor c = select();
  EXPECT_EQ(firsts(c.fetchmany(2).get()), (Ints{1, 2}));
  EXPECT_EQ(firsts(c.fetchmany(2).get()), (Ints{3, 4}));
  EXPECT_EQ(firsts(c.fetchmany(2).get()), (Ints{5}));
  EXPECT_TRUE(c.fetchmany(2).get().empty());
}

TEST_F(Fetch, FetchmanyLargerThanTheResult) {
  Cursor c = select();
  EXPECT_EQ(firsts(c.fetchmany(100).get()), (Ints{1, 2, 3, 4, 5}));
}

TEST_F(Fetch, FetchmanyWithoutSizeFetchesArraysizeRows) {
  Cursor c = select();
  EXPECT_EQ(firsts(c.fetchmany().get()), (Ints{1}));
  c.set_arraysize(3);
  EXPECT_EQ(firsts(c.fetchmany().get()), (Ints{2, 3, 4}));
}

TEST_F(Fetch, FetchallReturnsEveryRemainingRow) {
  Cursor c = select();
  ASSERT_TRUE(c.fetchone().get().has_value());
  EXPECT_EQ(firsts(c.fetchall().get()), (Ints{2, 3, 4, 5}));
}

TEST_F(Fetch, FetchallOfManyRows) {
  auto rows = db_.execute(
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
                     "SELECT i FROM n")
                  .get()
                  .fetchall()
                  .get();
  ASSERT_EQ(rows.size(), 3000U);
  EXPECT_EQ(rows.back().get<int>(0), 3000);
}

TEST_F(Fetch, EmptyResult) {
  Cursor c = db_.execute("SELECT x FROM t WHERE x > 100").get();
  EXPECT_EQ(c.fetchone().get(), std::nullopt);
  EXPECT_TRUE(c.fetchall().get().empty());
}

TEST_F(Fetch, FreshCursorFetchesNothing) {
  Cursor c = db_.cursor().get();
  EXPECT_EQ(c.fetchone().get(), std::nullopt);
  EXPECT_TRUE(c.fetchmany(2).get().empty());
  EXPECT_TRUE(c.fetchall().get().empty());
}

TEST_F(Fetch, FetchOnANonSelectReturnsNothing) {
  Cursor create = db_.execute("CREATE TABLE other(y)").get();
  EXPECT_EQ(create.fetchone().get(), std::nullopt);
  EXPECT_TRUE(create.fetchall().get().empty());
}

TEST_F(Fetch, FetchOnAnInsertDoesNotRunItAgain) {
  Cursor insert = db_.execute("INSERT INTO t VALUES (6)").get();
  EXPECT_TRUE(insert.fetchall().get().empty());
  EXPECT_EQ(insert.fetchone().get(), std::nullopt);
  EXPECT_EQ(count(), 6);
}

TEST_F(Fetch, ExecuteAgainReplacesTheResult) {
  Cursor c = select();
  ASSERT_TRUE(c.fetchone().get().has_value());
  c.execute("SELECT 42").get();
  EXPECT_EQ(firsts(c.fetchall().get()), (Ints{42}));
}

TEST_F(Fetch, TwoCursorsFetchIndependently) {
  Cursor a = select();
  Cursor b = select();
  EXPECT_EQ(a.fetchone().get()->get<int>(0), 1);
  EXPECT_EQ(a.fetchone().get()->get<int>(0), 2);
  EXPECT_EQ(b.fetchone().get()->get<int>(0), 1);
  EXPECT_EQ(a.fetchone().get()->get<int>(0), 3);
  EXPECT_EQ(firsts(b.fetchall().get()), (Ints{2, 3, 4, 5}));
}

TEST_F(Fetch, ErrorInTheFirstRowArrivesFromExecute) {
  // Python 3.11: sqlite3.OperationalError: integer overflow, raised by execute().
  auto e = catch_as<uvsqlite::OperationalError>(
      [&] { (void)db_.execute("SELECT abs(-9223372036854775808)").get(); });
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "integer overflow");
  EXPECT_EQ(e->sqlite_errorcode(), 1);
}

TEST_F(Fetch, ErrorInTheFirstTableRowArrivesFromExecute) {
  db_.execute("CREATE TABLE big(v)").get();
  db_.execute("INSERT INTO big VALUES (-9223372036854775807 - 1)").get();
  EXPECT_THROW((void)db_.execute("SELECT abs(v) FROM big").get(), uvsqlite::OperationalError);
}

TEST_F(Fetch, ErrorInTheFirstRowArrivesFromExecuteFetchall) {
  EXPECT_THROW((void)db_.execute_fetchall("SELECT abs(-9223372036854775808)").get(),
               uvsqlite::OperationalError);
}

TEST_F(Fetch, TwoStatementsAreAProgrammingError) {
  auto e = catch_as<uvsqlite::ProgrammingError>([&] { (void)db_.execute("SELECT 1; SELECT 2").get(); });
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "You can only execute one statement at a time.");
}

TEST_F(Fetch, TwoStatementsRunNeitherOfThem) {
  EXPECT_THROW((void)db_.execute("INSERT INTO t VALUES (6); garbage").get(), uvsqlite::ProgrammingError);
  EXPECT_EQ(count(), 5);
}

TEST_F(Fetch, TrailingSemicolonAndCommentAreOneStatement) {
  EXPECT_EQ(firsts(db_.execute("SELECT 1;  -- done").get().fetchall().get()), (Ints{1}));
  EXPECT_EQ(firsts(db_.execute("SELECT 2;").get().fetchall().get()), (Ints{2}));
}

TEST_F(Fetch, EmptyOrCommentOnlySqlIsANoOp) {
  for (const char* sql : {"", "   ", "-- comment", "/* c */", "\n;"}) {
    SCOPED_TRACE(sql);
    Cursor c = db_.execute(sql).get();
    EXPECT_TRUE(c.description().empty());
    EXPECT_EQ(c.rowcount(), -1);
    EXPECT_EQ(c.fetchone().get(), std::nullopt);
    EXPECT_TRUE(c.fetchall().get().empty());
  }
}

TEST_F(Fetch, NulByteInTheQueryIsAProgrammingError) {
  auto e = catch_as<uvsqlite::ProgrammingError>(
      [&] { (void)db_.execute(std::string("SELECT 1\0 + 1", 13)).get(); });
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "the query contains a null character");
}

TEST_F(Fetch, ExecutemanyOfASelectIsAProgrammingError) {
  auto e = catch_as<uvsqlite::ProgrammingError>([&] { (void)db_.executemany("SELECT ?", {{1}, {2}}).get(); });
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "executemany() can only execute DML statements.");
}

TEST_F(Fetch, ExecutescriptRunsEveryStatement) {
  db_.executescript(
         "CREATE TABLE s(a);\n"
         "INSERT INTO s VALUES (1);\n"
         "-- a comment between statements\n"
         "INSERT INTO s VALUES (2);\n"
         "UPDATE s SET a = a * 10;")
      .get();
  EXPECT_EQ(firsts(db_.execute_fetchall("SELECT a FROM s ORDER BY a").get()), (Ints{10, 20}));
}

TEST_F(Fetch, ExecutescriptCompletesWithTheCursorAndNoRows) {
  Cursor c = db_.cursor().get();
  Cursor same = c.executescript("SELECT 1; SELECT 2;").get();
  EXPECT_EQ(same, c);
  EXPECT_TRUE(c.fetchall().get().empty());
}

TEST_F(Fetch, ExecutescriptStopsAtTheFirstError) {
  auto e = catch_as<uvsqlite::OperationalError>(
      [&] { (void)db_.executescript("INSERT INTO t VALUES (6); selec; INSERT INTO t VALUES (7);").get(); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "near \"selec\": syntax error")) << e->what();
  EXPECT_EQ(count(), 6);
}

TEST_F(Fetch, ExecuteFetchallReturnsEveryRow) {
  auto rows = db_.execute_fetchall("SELECT x, x * 2 AS d FROM t WHERE x > ? ORDER BY x", {3}).get();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].get<int>("d"), 8);
  EXPECT_EQ(rows[1].get<int>(0), 5);
}

TEST_F(Fetch, ExecuteFetchallOfANonSelectIsEmptyButRuns) {
  EXPECT_TRUE(db_.execute_fetchall("DELETE FROM t WHERE x = 1").get().empty());
  EXPECT_EQ(count(), 4);
}

TEST_F(Fetch, ExecuteInsertReturnsTheRowid) {
  db_.execute("CREATE TABLE k(id INTEGER PRIMARY KEY, v)").get();
  EXPECT_EQ(db_.execute_insert("INSERT INTO k(v) VALUES ('a')").get(), std::optional<std::int64_t>(1));
  EXPECT_EQ(db_.execute_insert("INSERT INTO k(v) VALUES (?)", {"b"}).get(), std::optional<std::int64_t>(2));
  EXPECT_EQ(db_.execute_insert("INSERT INTO k(id, v) VALUES (42, 'c')").get(),
            std::optional<std::int64_t>(42));
}

TEST_F(Fetch, ExecuteInsertOfAnIgnoredInsertIsNullopt) {
  db_.execute("CREATE TABLE k(id INTEGER PRIMARY KEY, v UNIQUE)").get();
  ASSERT_EQ(db_.execute_insert("INSERT INTO k(v) VALUES ('a')").get(), std::optional<std::int64_t>(1));
  EXPECT_EQ(db_.execute_insert("INSERT OR IGNORE INTO k(v) VALUES ('a')").get(), std::nullopt);
}

TEST_F(Fetch, ExecuteInsertOfAnUpdateIsNullopt) {
  EXPECT_EQ(db_.execute_insert("UPDATE t SET x = x + 1").get(), std::nullopt);
}

TEST_F(Fetch, ExecuteInsertError) {
  EXPECT_THROW((void)db_.execute_insert("INSERT INTO missing VALUES (1)").get(), uvsqlite::OperationalError);
}

TEST_F(Fetch, ClosedCursorRejectsFetches) {
  Cursor c = select();
  c.close().get();
  for (int which = 0; which < 4; ++which) {
    SCOPED_TRACE(which);
    auto e = catch_as<uvsqlite::ProgrammingError>([&] {
      switch (which) {
        case 0:
          (void)c.fetchone().get();
          break;
        case 1:
          (void)c.fetchmany(2).get();
          break;
        case 2:
          (void)c.fetchall().get();
          break;
        default:
          (void)c.execute("SELECT 1").get();
          break;
      }
    });
    ASSERT_TRUE(e);
    EXPECT_STREQ(e->what(), "Cannot operate on a closed cursor.");
  }
}

TEST_F(Fetch, ClosingACursorTwiceIsFine) {
  Cursor c = select();
  c.close().get();
  EXPECT_NO_THROW(c.close().get());
}

TEST_F(Fetch, ClosingACursorLeavesOthersWorking) {
  Cursor a = select();
  Cursor b = select();
  a.close().get();
  EXPECT_EQ(firsts(b.fetchall().get()), (Ints{1, 2, 3, 4, 5}));
}

// ---------------------------------------------------------------------------------------------
// Callback form, on a loop

class FetchCallbacks : public uvsqlite::test::LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    db_ = open();
    db_.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3), (4), (5);").get();
  }
  void TearDown() override {
    close(db_);
    LoopTest::TearDown();
  }

  uvsqlite::Connection db_;
};

TEST_F(FetchCallbacks, FetchmanyDeliversOnTheLoop) {
  Cursor c = db_.execute("SELECT x FROM t ORDER BY x").get();
  bool called = false;
  std::vector<Row> got;
  c.fetchmany(2, [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    got = std::move(rows);
    called = true;
  });
  EXPECT_FALSE(called) << "never inline inside the call";
  run();
  ASSERT_TRUE(called);
  EXPECT_EQ(firsts(got), (Ints{1, 2}));
}

TEST_F(FetchCallbacks, FetchoneUntilExhausted) {
  Cursor c = db_.execute("SELECT x FROM t WHERE x <= 2 ORDER BY x").get();
  std::vector<std::optional<Row>> got;
  for (int i = 0; i < 3; ++i) {
    c.fetchone([&](std::exception_ptr e, std::optional<Row> row) {
      EXPECT_FALSE(e);
      got.push_back(std::move(row));
    });
  }
  run();
  ASSERT_EQ(got.size(), 3U);
  ASSERT_TRUE(got[0] && got[1]);
  EXPECT_EQ(got[0]->get<int>(0), 1);
  EXPECT_EQ(got[1]->get<int>(0), 2);
  EXPECT_EQ(got[2], std::nullopt);
}

TEST_F(FetchCallbacks, FetchmanyWithoutSizeAndFetchall) {
  Cursor c = db_.execute("SELECT x FROM t ORDER BY x").get();
  std::vector<Row> first;
  std::vector<Row> rest;
  std::vector<Row> after;
  c.fetchmany([&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    first = std::move(rows);
  });
  c.fetchall([&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    rest = std::move(rows);
  });
  c.fetchall([&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    after = std::move(rows);
  });
  run();
  EXPECT_EQ(firsts(first), (Ints{1}));
  EXPECT_EQ(firsts(rest), (Ints{2, 3, 4, 5}));
  EXPECT_TRUE(after.empty());
}

TEST_F(FetchCallbacks, ExecuteThenFetchFromInsideTheCallback) {
  std::vector<Row> got;
  bool done = false;
  db_.execute("SELECT x FROM t WHERE x > ? ORDER BY x", {3}, [&](std::exception_ptr e, Cursor c) {
    ASSERT_FALSE(e);
    c.fetchall([&](std::exception_ptr e2, std::vector<Row> rows) {
      EXPECT_FALSE(e2);
      got = std::move(rows);
      done = true;
    });
  });
  run();
  ASSERT_TRUE(done);
  EXPECT_EQ(firsts(got), (Ints{4, 5}));
}

TEST_F(FetchCallbacks, CallbacksRunInSubmissionOrder) {
  Cursor c = db_.execute("SELECT x FROM t ORDER BY x").get();
  std::vector<int> order;
  c.fetchone([&](std::exception_ptr, std::optional<Row>) { order.push_back(1); });
  c.fetchmany(2, [&](std::exception_ptr, std::vector<Row>) { order.push_back(2); });
  db_.execute_fetchall("SELECT 1", [&](std::exception_ptr, std::vector<Row>) { order.push_back(3); });
  c.fetchall([&](std::exception_ptr, std::vector<Row>) { order.push_back(4); });
  run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(FetchCallbacks, ExecuteErrorArrivesInTheCallback) {
  std::exception_ptr error;
  bool called = false;
  db_.execute("SELECT abs(-9223372036854775808)", [&](std::exception_ptr e, Cursor) {
    error = e;
    called = true;
  });
  run();
  ASSERT_TRUE(called);
  auto e = error_as<uvsqlite::OperationalError>(error);
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "integer overflow");
}

TEST_F(FetchCallbacks, ClosedCursorErrorArrivesInTheCallback) {
  Cursor c = db_.execute("SELECT x FROM t").get();
  c.close().get();
  std::exception_ptr error;
  bool called = false;
  c.fetchmany(2, [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_TRUE(rows.empty());
    error = e;
    called = true;
  });
  EXPECT_FALSE(called);
  run();
  ASSERT_TRUE(called);
  auto e = error_as<uvsqlite::ProgrammingError>(error);
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "Cannot operate on a closed cursor.");
}

TEST_F(FetchCallbacks, ExecuteInsertCallback) {
  db_.execute("CREATE TABLE k(id INTEGER PRIMARY KEY, v)").get();
  std::optional<std::int64_t> id;
  bool called = false;
  db_.execute_insert("INSERT INTO k(v) VALUES ('a')",
                     [&](std::exception_ptr e, std::optional<std::int64_t> r) {
                       EXPECT_FALSE(e);
                       id = r;
                       called = true;
                     });
  run();
  ASSERT_TRUE(called);
  EXPECT_EQ(id, std::optional<std::int64_t>(1));
}

}  // namespace

// The prepared-statement cache: reuse, bounds, Options::cached_statements, resets and schema
// changes. SQLite here is built with SQLITE_ENABLE_STMTVTAB: the sqlite_stmt table lists the
// connection's prepared statements (with `run`, the number of times each one ran).

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::Connection;
using uvsqlite::Cursor;
using uvsqlite::Options;

std::int64_t scalar(const Connection& db, const std::string& sql, uvsqlite::Params params = {}) {
  auto rows = db.execute_fetchall(sql, std::move(params)).get();
  EXPECT_EQ(rows.size(), 1U) << sql;
  if (rows.empty()) return -1;
  return rows[0].get<std::int64_t>(0);
}

std::int64_t prepared_statements(const Connection& db) {
  return scalar(db, "SELECT count(*) FROM sqlite_stmt");
}

Options with_cache(int n) {
  Options o;
  o.cached_statements = n;
  return o;
}

std::vector<std::int64_t> firsts(const std::vector<uvsqlite::Row>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(r.get<std::int64_t>(0));
  return out;
}

using Ints = std::vector<std::int64_t>;

class StatementCache : public ::testing::Test {
 protected:
  void TearDown() override { db_.close().get(); }

  void make_table() {
    db_.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3), (4), (5);").get();
  }

  Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST_F(StatementCache, StmtVtabIsAvailable) {
  // Guards the other tests: the count includes at least the counting statement itself.
  EXPECT_GE(prepared_statements(db_), 1);
}

TEST_F(StatementCache, SameSqlReusesOnePreparedStatement) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(firsts(db_.execute("SELECT 42").get().fetchall().get()), (Ints{42}));
  }
  auto rows =
      db_.execute_fetchall("SELECT count(*), max(run) FROM sqlite_stmt WHERE sql = 'SELECT 42'").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<std::int64_t>(0), 1) << "one prepared statement for the repeated SQL";
  EXPECT_EQ(rows[0].get<std::optional<std::int64_t>>(1), std::optional<std::int64_t>(5))
      << "the cached statement ran every time";
}

TEST_F(StatementCache, ExecuteFetchallAndExecuteInsertUseTheCacheToo) {
  db_.execute("CREATE TABLE k(id INTEGER PRIMARY KEY, v)").get();
  for (int i = 0; i < 4; ++i) {
    (void)db_.execute_fetchall("SELECT 7").get();
    (void)db_.execute_insert("INSERT INTO k(v) VALUES (?)", {i}).get();
  }
  EXPECT_EQ(scalar(db_, "SELECT run FROM sqlite_stmt WHERE sql = 'SELECT 7'"), 4);
  EXPECT_EQ(scalar(db_, "SELECT run FROM sqlite_stmt WHERE sql = 'INSERT INTO k(v) VALUES (?)'"), 4);
}

TEST_F(StatementCache, HundredExecutionsKeepTheCountBounded) {
  for (int i = 0; i < 100; ++i) {
    auto row = db_.execute("SELECT ?", {i}).get().fetchone().get();
    ASSERT_TRUE(row.has_value());
    ASSERT_EQ(row->get<int>(0), i);
  }
  EXPECT_LE(prepared_statements(db_), 3);
}

TEST_F(StatementCache, HundredExecutionsOnOneCursorKeepTheCountBounded) {
  Cursor c = db_.cursor().get();
  for (int i = 0; i < 100; ++i) {
    c.execute("SELECT ? * 2", {i}).get();
    auto rows = c.fetchall().get();
    ASSERT_EQ(rows.size(), 1U);
    ASSERT_EQ(rows[0].get<int>(0), i * 2);
  }
  EXPECT_LE(prepared_statements(db_), 3);
}

TEST_F(StatementCache, RebindingReplacesTheOldValues) {
  EXPECT_EQ(scalar(db_, "SELECT ?", {1}), 1);
  EXPECT_EQ(scalar(db_, "SELECT ?", {2}), 2);
  auto rows = db_.execute_fetchall("SELECT :a, :b", {{"a", 1}, {"b", 2}}).get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_THROW((void)db_.execute("SELECT :a, :b", {{"a", 3}}).get(), uvsqlite::ProgrammingError)
      << "a missing value must not fall back to the previous binding";
  auto again = db_.execute_fetchall("SELECT :a, :b", {{"a", 3}, {"b", nullptr}}).get();
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].get<int>(0), 3);
  EXPECT_TRUE(again[0][1].is_null());
}

TEST_F(StatementCache, PartiallyFetchedStatementStartsOverWhenReused) {
  make_table();
  {
    Cursor first = db_.execute("SELECT x FROM t ORDER BY x").get();
    ASSERT_TRUE(first.fetchone().get().has_value());
  }
  Cursor second = db_.execute("SELECT x FROM t ORDER BY x").get();
  EXPECT_EQ(firsts(second.fetchall().get()), (Ints{1, 2, 3, 4, 5}));
}

TEST_F(StatementCache, SameSqlOnTwoOpenCursorsIsNotShared) {
  make_table();
  Cursor a = db_.execute("SELECT x FROM t ORDER BY x").get();
  ASSERT_EQ(a.fetchone().get()->get<int>(0), 1);
  Cursor b = db_.execute("SELECT x FROM t ORDER BY x").get();
  EXPECT_EQ(firsts(b.fetchall().get()), (Ints{1, 2, 3, 4, 5}));
  EXPECT_EQ(firsts(a.fetchall().get()), (Ints{2, 3, 4, 5}));
}

TEST_F(StatementCache, ReexecutingOnTheSameCursorStartsOver) {
  make_table();
  Cursor c = db_.execute("SELECT x FROM t ORDER BY x").get();
  ASSERT_TRUE(c.fetchone().get().has_value());
  c.execute("SELECT x FROM t ORDER BY x").get();
  EXPECT_EQ(firsts(c.fetchall().get()), (Ints{1, 2, 3, 4, 5}));
}

TEST_F(StatementCache, SchemaChangeBetweenUsesGivesTheNewColumns) {
  db_.execute("CREATE TABLE s(a)").get();
  db_.execute("INSERT INTO s VALUES (1)").get();
  auto before = db_.execute("SELECT * FROM s").get();
  ASSERT_EQ(before.description().size(), 1U);
  ASSERT_EQ(before.fetchall().get().size(), 1U);
  before.close().get();

  db_.execute("ALTER TABLE s ADD COLUMN b DEFAULT 7").get();
  auto after = db_.execute("SELECT * FROM s").get();
  auto description = after.description();
  ASSERT_EQ(description.size(), 2U);
  EXPECT_EQ(description[0].name, "a");
  EXPECT_EQ(description[1].name, "b");
  auto rows = after.fetchall().get();
  ASSERT_EQ(rows.size(), 1U);
  ASSERT_EQ(rows[0].size(), 2U);
  EXPECT_EQ(rows[0].get<int>(0), 1);
  EXPECT_EQ(rows[0].get<int>("b"), 7);
}

// The same column count, a new name: the cached statement's rows must carry the new one.
TEST_F(StatementCache, RenamedColumnReachesTheRowsOfACachedStatement) {
  db_.execute("CREATE TABLE s(a)").get();
  db_.execute("INSERT INTO s VALUES (1)").get();
  auto before = db_.execute_fetchall("SELECT * FROM s").get();
  ASSERT_EQ(before.size(), 1U);
  EXPECT_EQ(before[0].get<int>("a"), 1);
  db_.execute("ALTER TABLE s RENAME COLUMN a TO z").get();
  auto after = db_.execute_fetchall("SELECT * FROM s").get();
  ASSERT_EQ(after.size(), 1U);
  ASSERT_EQ(after[0].columns().size(), 1U);
  EXPECT_EQ(after[0].columns()[0].name, "z");
  EXPECT_EQ(after[0].get<int>("z"), 1);
}

TEST_F(StatementCache, DropAndRecreateBetweenUses) {
  db_.execute("CREATE TABLE s(a TEXT)").get();
  db_.execute("INSERT INTO s VALUES ('old')").get();
  ASSERT_EQ(db_.execute_fetchall("SELECT * FROM s").get().size(), 1U);
  db_.executescript("DROP TABLE s; CREATE TABLE s(p INTEGER, q INTEGER); INSERT INTO s VALUES (1, 2);").get();
  auto c = db_.execute("SELECT * FROM s").get();
  ASSERT_EQ(c.description().size(), 2U);
  EXPECT_EQ(c.description()[0].name, "p");
  EXPECT_EQ(c.description()[0].declared_type, std::optional<std::string>("INTEGER"));
  auto rows = c.fetchall().get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<int>("q"), 2);
}

TEST(StatementCacheOptions, ZeroDisablesTheCacheButEverythingWorks) {
  auto db = uvsqlite::connect(":memory:", with_cache(0)).get();
  db.executescript("CREATE TABLE t(x);").get();
  for (int i = 0; i < 20; ++i) {
    db.execute("INSERT INTO t VALUES (?)", {i}).get();
    ASSERT_EQ(scalar(db, "SELECT count(*) FROM t"), i + 1);
  }
  auto c = db.execute("SELECT x FROM t ORDER BY x").get();
  EXPECT_EQ(c.fetchone().get()->get<int>(0), 0);
  EXPECT_EQ(c.fetchmany(2).get().size(), 2U);
  EXPECT_EQ(c.fetchall().get().size(), 17U);
  c.close().get();
  EXPECT_EQ(db.execute_insert("INSERT INTO t VALUES (100)").get(), std::optional<std::int64_t>(21));
  db.commit().get();
  EXPECT_LE(prepared_statements(db), 2) << "statements are finalized, not kept";
  db.close().get();
}

TEST(StatementCacheOptions, ZeroStillReportsDescriptionAndRowcount) {
  auto db = uvsqlite::connect(":memory:", with_cache(0)).get();
  db.execute("CREATE TABLE t(a INTEGER)").get();
  auto ins = db.execute("INSERT INTO t VALUES (1), (2)").get();
  EXPECT_EQ(ins.rowcount(), 2);
  auto sel = db.execute("SELECT a FROM t").get();
  ASSERT_EQ(sel.description().size(), 1U);
  EXPECT_EQ(sel.description()[0].declared_type, std::optional<std::string>("INTEGER"));
  db.close().get();
}

TEST(StatementCacheOptions, SizeTwoWithTenDistinctStatementsStaysBounded) {
  auto db = uvsqlite::connect(":memory:", with_cache(2)).get();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 10; ++i) {
      auto rows = db.execute("SELECT " + std::to_string(i)).get().fetchall().get();
      ASSERT_EQ(rows.size(), 1U);
      ASSERT_EQ(rows[0].get<int>(0), i);
    }
  }
  EXPECT_LE(prepared_statements(db), 4);
  db.close().get();
}

TEST(StatementCacheOptions, SizeTwoStillReusesARepeatedStatement) {
  auto db = uvsqlite::connect(":memory:", with_cache(2)).get();
  for (int i = 0; i < 5; ++i) (void)db.execute_fetchall("SELECT 'same'").get();
  EXPECT_EQ(scalar(db, "SELECT run FROM sqlite_stmt WHERE sql = 'SELECT ''same'''"), 5);
  db.close().get();
}

// The statement returned last waits in a slot of its own; the cache still holds at most
// cached_statements statements, evicting the least recently used.
TEST(StatementCacheOptions, SizeTwoKeepsTwoAlternatingStatements) {
  auto db = uvsqlite::connect(":memory:", with_cache(2)).get();
  for (int i = 0; i < 5; ++i) {
    (void)db.execute_fetchall("SELECT 'a'").get();
    (void)db.execute_fetchall("SELECT 'b'").get();
  }
  EXPECT_EQ(scalar(db, "SELECT run FROM sqlite_stmt WHERE sql = 'SELECT ''a'''"), 5);
  EXPECT_EQ(scalar(db, "SELECT run FROM sqlite_stmt WHERE sql = 'SELECT ''b'''"), 5);
  db.close().get();
}

TEST(StatementCacheOptions, SizeTwoEvictsTheLeastRecentlyUsed) {
  auto db = uvsqlite::connect(":memory:", with_cache(2)).get();
  for (const char* sql : {"SELECT 'a'", "SELECT 'b'", "SELECT 'a'", "SELECT 'c'"}) {
    (void)db.execute_fetchall(sql).get();
  }
  // 'b' was the least recently used when 'c' came back: finalized. 'a' ran twice on one
  // statement. (One query looks at both: the looking statement enters the cache too.)
  auto rows = db.execute_fetchall(
                    "SELECT (SELECT count(*) FROM sqlite_stmt WHERE sql = 'SELECT ''b'''),"
                    "       (SELECT run FROM sqlite_stmt WHERE sql = 'SELECT ''a''')")
                  .get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<std::int64_t>(0), 0);
  EXPECT_EQ(rows[0].get<std::optional<std::int64_t>>(1), std::optional<std::int64_t>(2));
  db.close().get();
}

TEST(StatementCacheOptions, SizeOneKeepsTheLastStatement) {
  auto db = uvsqlite::connect(":memory:", with_cache(1)).get();
  for (int i = 0; i < 3; ++i) (void)db.execute_fetchall("SELECT 'a'").get();
  EXPECT_EQ(scalar(db, "SELECT run FROM sqlite_stmt WHERE sql = 'SELECT ''a'''"), 3);
  (void)db.execute_fetchall("SELECT 'b'").get();
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM sqlite_stmt WHERE sql = 'SELECT ''a'''"), 0);
  db.close().get();
}

TEST(StatementCacheLocks, ReleasedCursorHoldsNoReadLock) {
  uvsqlite::test::TempDir dir;
  const auto path = dir.file("locks.db");
  auto db = uvsqlite::connect(path).get();
  db.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);").get();
  {
    Cursor partial = db.execute("SELECT x FROM t").get();
    ASSERT_TRUE(partial.fetchone().get().has_value());
  }
  (void)db.execute_fetchall("SELECT 1").get();  // the release above has run (FIFO)

  Options writer_options;
  writer_options.timeout = 0;
  auto writer = uvsqlite::connect(path, writer_options).get();
  writer.execute("INSERT INTO t VALUES (4)").get();
  // COMMIT needs an exclusive lock: it fails at once if `db` still holds a read lock.
  EXPECT_NO_THROW(writer.commit().get());
  EXPECT_EQ(scalar(db, "SELECT count(*) FROM t"), 4);
  writer.close().get();
  db.close().get();
}

// A dropped cursor's statement is released before any later operation, even though the job
// that last used the cursor (which waits for its submitter to destroy it) is still around when
// the next operation is queued.
TEST(StatementCacheLocks, ADroppedCursorsStatementIsReleasedBeforeTheNextOperation) {
  auto db = uvsqlite::connect(":memory:").get();
  db.executescript(
        "CREATE TABLE t(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000) "
        "INSERT INTO t SELECT i FROM c;")
      .get();
  {
    Cursor partial = db.execute("SELECT x FROM t").get();
    ASSERT_TRUE(partial.fetchone().get().has_value());
  }
  std::this_thread::sleep_for(std::chrono::microseconds(200));  // the worker is idle by now
  const int busy =
      db.call([](sqlite3* h) {
          int n = 0;
          for (sqlite3_stmt* s = sqlite3_next_stmt(h, nullptr); s != nullptr; s = sqlite3_next_stmt(h, s))
            n += sqlite3_stmt_busy(s) != 0 ? 1 : 0;
          return n;
        }).get();
  EXPECT_EQ(busy, 0) << "the dropped cursor's statement still runs";
  db.close().get();
}

TEST(StatementCacheLocks, ClosedCursorHoldsNoReadLock) {
  uvsqlite::test::TempDir dir;
  const auto path = dir.file("locks.db");
  auto db = uvsqlite::connect(path).get();
  db.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);").get();
  Cursor partial = db.execute("SELECT x FROM t").get();
  ASSERT_TRUE(partial.fetchone().get().has_value());
  partial.close().get();

  Options writer_options;
  writer_options.timeout = 0;
  auto writer = uvsqlite::connect(path, writer_options).get();
  writer.execute("INSERT INTO t VALUES (4)").get();
  EXPECT_NO_THROW(writer.commit().get());
  writer.close().get();
  db.close().get();
}

}  // namespace

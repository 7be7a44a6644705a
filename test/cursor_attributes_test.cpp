// Cursor attributes: rowcount, lastrowid, description, arraysize, connection — Python 3.11 rules.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::Column;
using uvsqlite::Cursor;
using uvsqlite::Params;

std::vector<std::string> names(const std::vector<Column>& description) {
  std::vector<std::string> out;
  for (const auto& c : description) out.push_back(c.name);
  return out;
}

class CursorAttributes : public ::testing::Test {
 protected:
  void TearDown() override { db_.close().get(); }

  // The Python sequence: CREATE, INSERT of 2 rows (ids 1, 2) on one cursor.
  Cursor prepared() {
    Cursor c = db_.cursor().get();
    c.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)").get();
    c.execute("INSERT INTO t(b) VALUES ('x'), ('y')").get();
    return c;
  }

  uvsqlite::Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST_F(CursorAttributes, FreshCursor) {
  Cursor c = db_.cursor().get();
  EXPECT_EQ(c.rowcount(), -1);
  EXPECT_EQ(c.lastrowid(), std::nullopt);
  EXPECT_TRUE(c.description().empty());
}

TEST_F(CursorAttributes, AfterCreate) {
  Cursor c = db_.cursor().get();
  c.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)").get();
  EXPECT_EQ(c.rowcount(), -1);
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(0));
  EXPECT_TRUE(c.description().empty());
}

TEST_F(CursorAttributes, ExecuteCompletesWithTheSameCursor) {
  Cursor c = db_.cursor().get();
  Cursor same = c.execute("SELECT 1").get();
  EXPECT_EQ(same, c);
}

TEST_F(CursorAttributes, InsertOfTwoRows) {
  Cursor c = prepared();
  EXPECT_EQ(c.rowcount(), 2);
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(2));
  EXPECT_TRUE(c.description().empty());
}

TEST_F(CursorAttributes, SelectHasRowcountMinusOneAndKeepsLastrowid) {
  Cursor c = prepared();
  c.execute("SELECT * FROM t").get();
  EXPECT_EQ(c.rowcount(), -1);
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(2));
}

TEST_F(CursorAttributes, SelectOnANewCursorReportsTheConnectionsLastInsertRowid) {
  prepared();
  Cursor c = db_.execute("SELECT 1").get();
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(2));
  EXPECT_EQ(c.rowcount(), -1);
}

TEST_F(CursorAttributes, ExecutemanySumsRowcountAndLeavesLastrowid) {
  Cursor c = prepared();
  c.executemany("INSERT INTO t(b) VALUES (?)", {{"p"}, {"q"}, {"r"}}).get();
  EXPECT_EQ(c.rowcount(), 3);
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(2));
}

TEST_F(CursorAttributes, ExecutemanyOnAFreshCursorLeavesLastrowidUnset) {
  prepared();
  Cursor c = db_.executemany("INSERT INTO t(b) VALUES (?)", {{"p"}, {"q"}}).get();
  EXPECT_EQ(c.rowcount(), 2);
  EXPECT_EQ(c.lastrowid(), std::nullopt);
}

TEST_F(CursorAttributes, ExecutemanyWithNoParameterSetsHasRowcountZero) {
  prepared();
  Cursor c = db_.executemany("INSERT INTO t(b) VALUES (?)", std::vector<Params>{}).get();
  EXPECT_EQ(c.rowcount(), 0);
}

TEST_F(CursorAttributes, UpdateRowcountIsRowsChanged) {
  Cursor c = prepared();
  c.executemany("INSERT INTO t(b) VALUES (?)", {{"p"}, {"q"}, {"r"}}).get();
  c.execute("UPDATE t SET b = 'z' WHERE a > 2").get();
  EXPECT_EQ(c.rowcount(), 3);
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(5));
}

TEST_F(CursorAttributes, UpdateMatchingNothingHasRowcountZero) {
  Cursor c = prepared();
  c.execute("UPDATE t SET b = 'z' WHERE a > 100").get();
  EXPECT_EQ(c.rowcount(), 0);
}

TEST_F(CursorAttributes, DeleteRowcountIsRowsDeleted) {
  Cursor c = prepared();
  c.execute("DELETE FROM t WHERE a = 1").get();
  EXPECT_EQ(c.rowcount(), 1);
}

TEST_F(CursorAttributes, ReplaceCountsAsDml) {
  Cursor c = prepared();
  c.execute("REPLACE INTO t(a, b) VALUES (1, 'again')").get();
  EXPECT_EQ(c.rowcount(), 1);
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(1));
}

TEST_F(CursorAttributes, RowcountResetsToMinusOneForTheNextNonDmlStatement) {
  Cursor c = prepared();
  ASSERT_EQ(c.rowcount(), 2);
  c.execute("CREATE TABLE other(x)").get();
  EXPECT_EQ(c.rowcount(), -1);
}

TEST_F(CursorAttributes, ExecutescriptLeavesRowcountAndLastrowid) {
  Cursor c = prepared();
  c.executescript("INSERT INTO t(b) VALUES ('s1'); INSERT INTO t(b) VALUES ('s2');").get();
  EXPECT_EQ(c.rowcount(), 2);
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(2));
}

TEST_F(CursorAttributes, DescriptionNamesAsSqliteGivesThem) {
  Cursor c = db_.execute("SELECT 1 AS \"A b\", 2 AS \"x [int]\"").get();
  EXPECT_EQ(names(c.description()), (std::vector<std::string>{"A b", "x [int]"}));
}

TEST_F(CursorAttributes, DescriptionOfAnUnaliasedExpressionIsItsText) {
  Cursor c = db_.execute("SELECT 1+1, 'x'").get();
  EXPECT_EQ(names(c.description()), (std::vector<std::string>{"1+1", "'x'"}));
}

TEST_F(CursorAttributes, DescriptionDeclaredTypes) {
  db_.execute("CREATE TABLE d(i INTEGER, s VARCHAR(10), n)").get();
  Cursor c = db_.execute("SELECT i, s, n, i + 1 AS e FROM d").get();
  auto d = c.description();
  ASSERT_EQ(d.size(), 4U);
  EXPECT_EQ(names(d), (std::vector<std::string>{"i", "s", "n", "e"}));
  EXPECT_EQ(d[0].declared_type, std::optional<std::string>("INTEGER"));
  EXPECT_EQ(d[1].declared_type, std::optional<std::string>("VARCHAR(10)"));
  EXPECT_EQ(d[2].declared_type, std::nullopt);
  EXPECT_EQ(d[3].declared_type, std::nullopt);
}

TEST_F(CursorAttributes, DescriptionOfAnEmptyResultStillHasColumns) {
  prepared();
  Cursor c = db_.execute("SELECT a, b FROM t WHERE 0").get();
  EXPECT_EQ(names(c.description()), (std::vector<std::string>{"a", "b"}));
}

TEST_F(CursorAttributes, DescriptionEmptyForNonRowStatements) {
  Cursor c = prepared();
  EXPECT_TRUE(c.description().empty());
  c.execute("UPDATE t SET b = b").get();
  EXPECT_TRUE(c.description().empty());
  c.execute("DELETE FROM t").get();
  EXPECT_TRUE(c.description().empty());
}

TEST_F(CursorAttributes, DescriptionFollowsTheLastStatement) {
  Cursor c = prepared();
  c.execute("SELECT a FROM t").get();
  EXPECT_EQ(c.description().size(), 1U);
  c.execute("INSERT INTO t(b) VALUES ('z')").get();
  EXPECT_TRUE(c.description().empty());
}

TEST_F(CursorAttributes, ArraysizeDefaultsToOne) {
  Cursor c = db_.cursor().get();
  EXPECT_EQ(c.arraysize(), 1U);
}

TEST_F(CursorAttributes, ArraysizeDrivesFetchmanyWithoutSize) {
  Cursor c = db_.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
                    "SELECT i FROM n")
                 .get();
  EXPECT_EQ(c.fetchmany().get().size(), 1U);
  c.set_arraysize(3);
  EXPECT_EQ(c.arraysize(), 3U);
  auto rows = c.fetchmany().get();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].get<int>(0), 2);
  EXPECT_EQ(c.fetchmany().get().size(), 1U);
}

TEST_F(CursorAttributes, CursorConnectionIsTheConnection) {
  Cursor fresh = db_.cursor().get();
  Cursor executed = db_.execute("SELECT 1").get();
  EXPECT_EQ(fresh.connection(), db_);
  EXPECT_EQ(executed.connection(), db_);
}

TEST_F(CursorAttributes, CursorsOfOtherConnectionsDiffer) {
  auto other = uvsqlite::connect(":memory:").get();
  Cursor c = other.cursor().get();
  EXPECT_FALSE(c.connection() == db_);
  other.close().get();
}

TEST_F(CursorAttributes, DistinctCursorsAreNotEqual) {
  Cursor a = db_.cursor().get();
  Cursor b = db_.cursor().get();
  Cursor a2 = a;
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(a == a2);
}

}  // namespace

namespace {

// Python 3.11: a failed execute leaves no description and rowcount -1; lastrowid keeps its
// value from the last successful execute (even though the failed INSERT moved SQLite's).
TEST_F(CursorAttributes, FailedExecuteClearsDescriptionAndRowcountButKeepsLastrowid) {
  Cursor c = db_.cursor().get();
  c.execute("CREATE TABLE u(a PRIMARY KEY)").get();
  c.execute("INSERT INTO u VALUES (5)").get();
  ASSERT_EQ(c.lastrowid(), std::optional<std::int64_t>(1));
  c.execute("SELECT a FROM u").get();
  ASSERT_EQ(c.description().size(), 1U);
  EXPECT_THROW(c.execute("INSERT INTO u VALUES (7), (5)").get(), uvsqlite::IntegrityError);
  EXPECT_EQ(c.lastrowid(), std::optional<std::int64_t>(1));
  EXPECT_EQ(c.rowcount(), -1);
  EXPECT_TRUE(c.description().empty());
  c.execute("SELECT a FROM u").get();
  EXPECT_THROW(c.execute("selec").get(), uvsqlite::OperationalError);
  EXPECT_EQ(c.rowcount(), -1);
  EXPECT_TRUE(c.description().empty());
}

// Python 3.11: an INSERT ... RETURNING counts its rows once the last one was fetched.
TEST_F(CursorAttributes, ReturningCountsItsRowsOnceDone) {
  Cursor c = db_.cursor().get();
  c.execute("CREATE TABLE r(a INTEGER PRIMARY KEY)").get();
  c.execute("INSERT INTO r VALUES (8), (9) RETURNING a").get();
  EXPECT_EQ(c.rowcount(), 0);
  EXPECT_EQ(c.fetchall().get().size(), 2U);
  EXPECT_EQ(c.rowcount(), 2);
}

}  // namespace

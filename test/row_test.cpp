// Row: index and name access, typed reads and unpacking, equality, lifetime.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::Column;
using uvsqlite::Columns;
using uvsqlite::Row;
using uvsqlite::Value;

// `row[0]` and `row.get<T>(0)` are what users write first; with the literal 0 (a null pointer
// constant) the index overload must still be chosen. Checked as a concept so that a header
// that makes them ambiguous fails this test instead of breaking the whole test build.
template <class R>
concept IndexableByLiteralZero = requires(const R& r) {
  r[0];
  r.template get<int>(0);
};

TEST(RowValue, LiteralZeroIndexCompiles) { EXPECT_TRUE(IndexableByLiteralZero<Row>); }

class RowTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (open_) db_.close().get();
  }

  Row one(const std::string& sql) {
    auto row = db_.execute(sql).get().fetchone().get();
    EXPECT_TRUE(row.has_value()) << sql;
    return row.value_or(Row{});
  }

  // id INTEGER 1, Name TEXT 'x', n NULL
  Row sample() { return one("SELECT 1 AS id, 'x' AS Name, NULL AS n"); }

  uvsqlite::Connection db_ = uvsqlite::connect(":memory:").get();
  bool open_ = true;
};

TEST_F(RowTest, SizeIsTheColumnCount) {
  EXPECT_EQ(sample().size(), 3U);
  EXPECT_EQ(one("SELECT 1").size(), 1U);
}

TEST_F(RowTest, IndexAccess) {
  auto row = sample();
  EXPECT_EQ(row[0], Value(1));
  EXPECT_EQ(row[1], Value("x"));
  EXPECT_TRUE(row[2].is_null());
}

TEST_F(RowTest, NameAccessExactCase) {
  auto row = sample();
  EXPECT_EQ(row["id"], Value(1));
  EXPECT_EQ(row["Name"], Value("x"));
}

TEST_F(RowTest, NameAccessIsCaseInsensitive) {
  auto row = sample();
  EXPECT_EQ(row["NAME"], Value("x"));
  EXPECT_EQ(row["name"], Value("x"));
  EXPECT_EQ(row["ID"], Value(1));
  EXPECT_EQ(row[std::string_view("nAmE")], Value("x"));
  std::string key = "N";
  EXPECT_TRUE(row[key].is_null());
}

TEST_F(RowTest, DuplicateNameGivesTheFirstColumn) {
  auto row = one("SELECT 1 AS a, 2 AS a");
  EXPECT_EQ(row["a"], Value(1));
  EXPECT_EQ(row["A"], Value(1));
}

TEST_F(RowTest, KeysAreTheColumnNamesInOrder) {
  EXPECT_EQ(sample().keys(), (std::vector<std::string>{"id", "Name", "n"}));
}

TEST_F(RowTest, KeysOfTableColumns) {
  db_.execute("CREATE TABLE t(Alpha INTEGER, beta TEXT)").get();
  db_.execute("INSERT INTO t VALUES (1, 'b')").get();
  auto row = one("SELECT * FROM t");
  EXPECT_EQ(row.keys(), (std::vector<std::string>{"Alpha", "beta"}));
  ASSERT_EQ(row.columns().size(), 2U);
  EXPECT_EQ(row.columns()[0].name, "Alpha");
  EXPECT_EQ(row.columns()[0].declared_type, std::optional<std::string>("INTEGER"));
}

TEST_F(RowTest, GetByIndex) {
  auto row = sample();
  EXPECT_EQ(row.get<int>(0), 1);
  EXPECT_EQ(row.get<std::int64_t>(0), 1);
  EXPECT_EQ(row.get<std::string>(1), "x");
  EXPECT_EQ(row.get<std::optional<int>>(2), std::nullopt);
}

TEST_F(RowTest, GetByName) {
  auto row = sample();
  EXPECT_EQ(row.get<int>("id"), 1);
  EXPECT_EQ(row.get<std::string>("NAME"), "x");
  EXPECT_EQ(row.get<std::optional<std::string>>("n"), std::nullopt);
  EXPECT_EQ(row.get<std::string>(std::string_view("name")), "x");
}

TEST_F(RowTest, GetOfWrongTypeIsInterfaceError) {
  auto row = sample();
  EXPECT_THROW((void)row.get<std::string>(0), uvsqlite::InterfaceError);
  EXPECT_THROW((void)row.get<int>("Name"), uvsqlite::InterfaceError);
}

TEST_F(RowTest, AsUnpacksTheWholeRow) {
  auto [id, name, n] = sample().as<int, std::string, std::optional<double>>();
  EXPECT_EQ(id, 1);
  EXPECT_EQ(name, "x");
  EXPECT_EQ(n, std::nullopt);
}

TEST_F(RowTest, AsWithValueKeepsRawValues) {
  auto [a, b] = one("SELECT 2.5, X'00'").as<Value, Value>();
  EXPECT_EQ(a.type(), uvsqlite::Type::Real);
  EXPECT_EQ(b.type(), uvsqlite::Type::Blob);
}

TEST_F(RowTest, AsWithTooFewTypesIsInterfaceError) {
  auto row = sample();
  EXPECT_THROW((void)(row.as<int, std::string>()), uvsqlite::InterfaceError);
}

TEST_F(RowTest, AsWithTooManyTypesIsInterfaceError) {
  auto row = sample();
  EXPECT_THROW((void)(row.as<int, std::string, std::optional<int>, int>()), uvsqlite::InterfaceError);
}

TEST_F(RowTest, AsWithAWrongTypeIsInterfaceError) {
  auto row = sample();
  EXPECT_THROW((void)(row.as<std::string, std::string, std::optional<int>>()), uvsqlite::InterfaceError);
}

TEST_F(RowTest, UnknownNameIsInterfaceError) {
  auto row = sample();
  EXPECT_THROW((void)row["nope"], uvsqlite::InterfaceError);
  EXPECT_THROW((void)row.get<int>("nope"), uvsqlite::InterfaceError);
  EXPECT_THROW((void)row[""], uvsqlite::InterfaceError);
}

TEST_F(RowTest, IndexOutOfRangeIsInterfaceError) {
  auto row = sample();
  EXPECT_THROW((void)row[3], uvsqlite::InterfaceError);
  EXPECT_THROW((void)row[static_cast<std::size_t>(-1)], uvsqlite::InterfaceError);
  EXPECT_THROW((void)row.get<int>(std::size_t{99}), uvsqlite::InterfaceError);
}

TEST_F(RowTest, SameNamesAndValuesAreEqual) {
  EXPECT_EQ(sample(), sample());
  EXPECT_TRUE(sample() == sample());
}

TEST_F(RowTest, DifferentValuesAreNotEqual) {
  EXPECT_NE(one("SELECT 1 AS a"), one("SELECT 2 AS a"));
  EXPECT_NE(one("SELECT 1 AS a"), one("SELECT 1.0 AS a"));
}

TEST_F(RowTest, DifferentNamesAreNotEqual) {
  EXPECT_NE(one("SELECT 1 AS a"), one("SELECT 1 AS b"));
  EXPECT_NE(one("SELECT 1 AS a"), one("SELECT 1 AS a, 2 AS b"));
}

TEST_F(RowTest, NamesDifferingInCaseAreNotEqual) {
  // sqlite3.Row compares descriptions exactly: Row('a') != Row('A') in Python 3.11.
  EXPECT_NE(one("SELECT 1 AS a"), one("SELECT 1 AS A"));
}

TEST_F(RowTest, IteratesOverValues) {
  auto row = one("SELECT 1, 2, 3");
  std::int64_t sum = 0;
  for (const Value& v : row) sum += v.get<std::int64_t>();
  EXPECT_EQ(sum, 6);
  EXPECT_EQ(row.values().size(), 3U);
}

TEST_F(RowTest, RowsFromOneStatementShareColumns) {
  db_.execute("CREATE TABLE t(a)").get();
  db_.execute("INSERT INTO t VALUES (1), (2)").get();
  auto rows = db_.execute_fetchall("SELECT a FROM t ORDER BY a").get();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(&rows[0].columns(), &rows[1].columns());
}

TEST_F(RowTest, StaysValidAfterItsCursorCloses) {
  auto cursor = db_.execute("SELECT 'kept' AS word, X'0102' AS data").get();
  auto row = cursor.fetchone().get();
  ASSERT_TRUE(row.has_value());
  cursor.close().get();
  EXPECT_EQ(row->get<std::string>("word"), "kept");
  EXPECT_EQ(row->get<uvsqlite::Blob>("DATA").size(), 2U);
  EXPECT_EQ(row->keys(), (std::vector<std::string>{"word", "data"}));
}

TEST_F(RowTest, StaysValidAfterTheCursorMovesOn) {
  db_.execute("CREATE TABLE t(a)").get();
  db_.execute("INSERT INTO t VALUES ('first'), ('second')").get();
  auto cursor = db_.execute("SELECT a FROM t ORDER BY rowid").get();
  auto first = cursor.fetchone().get();
  auto second = cursor.fetchone().get();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->get<std::string>(0), "first");
  EXPECT_EQ(second->get<std::string>(0), "second");
}

TEST_F(RowTest, StaysValidAfterTheConnectionCloses) {
  auto row = one("SELECT 'kept' AS word, 42 AS n");
  db_.close().get();
  open_ = false;
  EXPECT_EQ(row.get<std::string>("WORD"), "kept");
  EXPECT_EQ(row.get<int>("n"), 42);
  EXPECT_EQ(row.keys(), (std::vector<std::string>{"word", "n"}));
}

// Rows fetched together share blocks of values (one row alone in place, up to 64 rows a block):
// every row must read its own values whatever the result size, and stay valid alone.
TEST_F(RowTest, EveryRowOfManyBlocksReadsItsOwnValues) {
  for (const int count : {1, 2, 63, 64, 65, 200}) {
    for (const int width : {1, 4, 5}) {
      std::string select = "SELECT x";
      for (int c = 1; c < width; ++c) select += ", x * 10 + " + std::to_string(c) + ", 'text-' || x";
      select += " FROM c";
      const std::string sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
                              std::to_string(count) + ") " + select;
      std::vector<Row> fetched = db_.execute_fetchall(sql).get();
      auto cursor = db_.execute(sql).get();
      std::vector<Row> streamed;
      while (auto row = cursor.fetchone().get()) streamed.push_back(std::move(*row));
      for (const auto* rows : {&fetched, &streamed}) {
        ASSERT_EQ(rows->size(), static_cast<std::size_t>(count)) << sql;
        for (int i = 0; i < count; ++i) {
          const Row& row = (*rows)[static_cast<std::size_t>(i)];
          ASSERT_EQ(row.size(), static_cast<std::size_t>(width == 1 ? 1 : 1 + 2 * (width - 1))) << sql;
          EXPECT_EQ(row.get<int>(0), i + 1) << sql;
          if (width > 1) {
            EXPECT_EQ(row.get<int>(1), (i + 1) * 10 + 1) << sql;
            EXPECT_EQ(row.get<std::string>(2), "text-" + std::to_string(i + 1)) << sql;
          }
        }
      }
    }
  }
}

TEST_F(RowTest, ARowKeptAloneOutlivesItsBlockmates) {
  Row kept;
  {
    auto rows =
        db_.execute_fetchall(
               "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 150) "
               "SELECT x, 'a fairly long text value, longer than any short string: ' || x AS t FROM c")
            .get();
    ASSERT_EQ(rows.size(), 150U);
    kept = rows[100];
    Row copy = rows[100];
    EXPECT_EQ(copy, kept);
  }
  db_.close().get();
  open_ = false;
  EXPECT_EQ(kept.get<int>(0), 101);
  EXPECT_EQ(kept.get<std::string>("T"), "a fairly long text value, longer than any short string: 101");
  EXPECT_EQ(kept.values().size(), 2U);
}

TEST_F(RowTest, AMovedFromRowIsEmpty) {
  Row a = one("SELECT 1 AS x, 'two' AS y");
  Row b = std::move(a);
  EXPECT_EQ(b.size(), 2U);
  EXPECT_EQ(a.size(), 0U);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(a.begin(), a.end());
  EXPECT_TRUE(a.values().empty());
  Row c;
  c = std::move(b);
  EXPECT_EQ(c.get<std::string>("y"), "two");
  EXPECT_EQ(b.size(), 0U);  // NOLINT(bugprone-use-after-move)
}

// Rows fetched one at a time each keep only their own values: a block is sized for the rows
// asked for, not for 64 (40,000 kept rows of 5 integers: a few MiB, not hundreds).
TEST_F(RowTest, RowsFetchedOneAtATimeKeepOnlyTheirOwnValues) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's shadow memory and quarantine make RSS say nothing about live memory";
#else
  constexpr int kRows = 40000;
  auto cursor = db_.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
                            std::to_string(kRows) + ") SELECT x, x, x, x, x FROM c")
                    .get();
  const std::size_t before = uvsqlite::test::resident_bytes();
  std::vector<Row> kept;
  kept.reserve(kRows);
  while (auto row = cursor.fetchone().get()) kept.push_back(std::move(*row));
  const std::size_t grown =
      uvsqlite::test::resident_bytes() - std::min(before, uvsqlite::test::resident_bytes());
  ASSERT_EQ(kept.size(), static_cast<std::size_t>(kRows));
  EXPECT_EQ(kept.back().get<int>(4), kRows);
  // About 400 bytes a row when right; a 64-row block per row would be over 18 KiB a row.
  EXPECT_LT(grown, std::size_t{64} << 20) << "RSS grew by " << (grown >> 20) << " MiB";
#endif
}

TEST(RowValue, DefaultRowIsEmpty) {
  Row row;
  EXPECT_EQ(row.size(), 0U);
  EXPECT_TRUE(row.keys().empty());
  EXPECT_TRUE(row.columns().empty());
  EXPECT_THROW((void)row[0], uvsqlite::InterfaceError);
  EXPECT_THROW((void)row["a"], uvsqlite::InterfaceError);
  EXPECT_EQ(row, Row{});
}

TEST(RowValue, BuiltFromColumnsAndValues) {
  auto columns = std::make_shared<const Columns>(
      Columns{Column{"a", std::string("INTEGER")}, Column{"B", std::nullopt}});
  Row row(columns, {Value(1), Value("two")});
  EXPECT_EQ(row.size(), 2U);
  EXPECT_EQ(row["b"], Value("two"));
  EXPECT_EQ(row.keys(), (std::vector<std::string>{"a", "B"}));
  EXPECT_EQ(row.columns(), *columns);
}

TEST(RowValue, EqualityIgnoresDeclaredTypeButNotNames) {
  auto typed = std::make_shared<const Columns>(Columns{Column{"a", std::string("INTEGER")}});
  auto untyped = std::make_shared<const Columns>(Columns{Column{"a", std::nullopt}});
  auto other = std::make_shared<const Columns>(Columns{Column{"b", std::nullopt}});
  EXPECT_EQ(Row(typed, {Value(1)}), Row(untyped, {Value(1)}));
  EXPECT_NE(Row(untyped, {Value(1)}), Row(other, {Value(1)}));
}

}  // namespace

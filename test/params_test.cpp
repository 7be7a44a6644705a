// Params: positional and named parameters, and the errors Python's sqlite3 raises for them.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::test::contains;

using uvsqlite::Params;
using uvsqlite::Row;
using uvsqlite::Value;

class ParamsTest : public ::testing::Test {
 protected:
  void TearDown() override { db_.close().get(); }

  Row one(const std::string& sql, Params params) {
    auto row = db_.execute(sql, std::move(params)).get().fetchone().get();
    EXPECT_TRUE(row.has_value()) << sql;
    return row.value_or(Row{});
  }

  // The ProgrammingError message of executing sql with params, or "" (and a failure).
  std::string programming_error(const std::string& sql, Params params) {
    try {
      (void)db_.execute(sql, std::move(params)).get();
    } catch (const uvsqlite::ProgrammingError& e) {
      EXPECT_EQ(e.sqlite_errorcode(), -1) << "raised by uvsqlite, not SQLite";
      EXPECT_EQ(e.sqlite_errorname(), "");
      return e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected ProgrammingError, got " << typeid(e).name() << ": " << e.what();
      return "";
    }
    ADD_FAILURE() << "expected ProgrammingError, got no exception for " << sql;
    return "";
  }

  uvsqlite::Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST(ParamsValue, BracedPositionalList) {
  Params p{1, "x", nullptr};
  EXPECT_FALSE(p.is_named());
  ASSERT_EQ(p.size(), 3U);
  EXPECT_EQ(p.positional()[1], Value("x"));
  EXPECT_TRUE(p.named().empty());
}

TEST(ParamsValue, BracedNamedList) {
  Params p{{"a", 1}, {"b", "two"}};
  EXPECT_TRUE(p.is_named());
  ASSERT_EQ(p.size(), 2U);
  EXPECT_EQ(p.named()[0].first, "a");
  EXPECT_EQ(p.named()[1].second, Value("two"));
  EXPECT_TRUE(p.positional().empty());
}

// Up to three positional values live inside the Params, more in a vector: both keep every value,
// in order, through copies and moves, and bind alike.
TEST(ParamsValue, ShortAndLongPositionalListsKeepTheirValuesThroughCopiesAndMoves) {
  const std::string long_text(100, 'z');  // a Value with a heap string of its own
  for (const Params& made : {Params{1}, Params{1, "x"}, Params{1, "x", long_text},
                             Params{1, "x", long_text, 4.5}, Params{1, "x", long_text, 4.5, nullptr}}) {
    Params copy = made;
    Params moved = std::move(copy);
    Params assigned;
    assigned = moved;
    for (const Params* p : std::initializer_list<const Params*>{&made, &moved, &assigned}) {
      ASSERT_EQ(p->size(), made.size());
      const std::vector<Value> expected = {Value(1), Value("x"), Value(long_text), Value(4.5),
                                           Value(nullptr)};
      for (std::size_t i = 0; i < p->size(); ++i) EXPECT_EQ(p->positional()[i], expected[i]) << i;
    }
  }
  Params from_vector(std::vector<Value>{Value(7), Value("y")});
  ASSERT_EQ(from_vector.size(), 2U);
  EXPECT_EQ(from_vector.positional()[1], Value("y"));
}

TEST_F(ParamsTest, ShortAndLongPositionalListsBindAlike) {
  const std::string long_text(40, 'q');
  Row three = one("SELECT ?, ?, ?", {1, long_text, 2.5});
  EXPECT_EQ(three[1], Value(long_text));
  EXPECT_EQ(three[2], Value(2.5));
  Row four = one("SELECT ?, ?, ?, ?", {1, long_text, 2.5, nullptr});
  EXPECT_EQ(four[1], Value(long_text));
  EXPECT_TRUE(four[3].is_null());
  EXPECT_NE(programming_error("SELECT ?, ?, ?", {1, 2, 3, 4}), "");
  EXPECT_NE(programming_error("SELECT ?, ?, ?, ?", {1, 2, 3}), "");
}

TEST(ParamsValue, AMovedFromParamsHasNoValues) {
  for (Params made : {Params{1, "x"}, Params{1, 2, 3, 4}, Params{{"a", 1}}}) {
    Params taken = std::move(made);
    EXPECT_EQ(made.size(), 0U);  // NOLINT(bugprone-use-after-move): the state a move leaves
    EXPECT_TRUE(made.positional().empty());
    Params assigned;
    assigned = std::move(taken);
    EXPECT_EQ(taken.size(), 0U);  // NOLINT(bugprone-use-after-move)
    EXPECT_GT(assigned.size(), 0U);
  }
}

// The three forms (inline values, a vector of values, named values) share one storage: every
// form copied and moved over every other keeps the right values, and each value is destroyed
// once (the sanitizer builds see a leak or a double destruction).
TEST(ParamsValue, EveryFormAssignedOverEveryFormKeepsItsValues) {
  const std::string long_text(100, 'z');
  const std::vector<Params> forms = {Params{},
                                     Params{long_text},
                                     Params{1, long_text, 2.5},
                                     Params{1, long_text, 2.5, 4},
                                     Params(std::vector<Value>{Value(long_text)}),
                                     Params{{"a", long_text}, {"b", 2}},
                                     Params(std::map<std::string, Value>{{"m", Value(long_text)}})};
  const auto same = [](const Params& a, const Params& b) {
    if (a.is_named() != b.is_named() || a.size() != b.size()) return false;
    if (a.is_named()) return a.named() == b.named();
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!(a.positional()[i] == b.positional()[i])) return false;
    }
    return true;
  };
  for (const Params& from : forms) {
    for (const Params& to : forms) {
      Params copied = to;
      copied = from;
      EXPECT_TRUE(same(copied, from));
      Params moved = to;
      Params source = from;
      moved = std::move(source);
      EXPECT_TRUE(same(moved, from));
      EXPECT_EQ(source.size(), 0U);  // NOLINT(bugprone-use-after-move): the state a move leaves
      EXPECT_FALSE(source.is_named());
      const Params& self = moved;
      moved = self;  // self-assignment keeps the values
      EXPECT_TRUE(same(moved, from));
    }
  }
}

// Rows of an executemany are read on the worker and destroyed where they were made: they stay
// small (three values inline, or one vector).
TEST(ParamsValue, IsEightyBytes) { EXPECT_EQ(sizeof(Params), 80U); }

TEST(ParamsValue, EmptyIsPositionalAndEmpty) {
  Params p;
  EXPECT_FALSE(p.is_named());
  EXPECT_EQ(p.size(), 0U);
}

TEST_F(ParamsTest, PositionalQuestionMarks) {
  auto row = one("SELECT ?, ?, ?", {1, "x", 2.5});
  ASSERT_EQ(row.size(), 3U);
  EXPECT_EQ(row[0].get<int>(), 1);
  EXPECT_EQ(row[1].get<std::string>(), "x");
  EXPECT_DOUBLE_EQ(row[2].get<double>(), 2.5);
}

TEST_F(ParamsTest, NumberedPlaceholdersPickByIndex) {
  auto row = one("SELECT ?1, ?3", {1, 2, 3});
  ASSERT_EQ(row.size(), 2U);
  EXPECT_EQ(row[0].get<int>(), 1);
  EXPECT_EQ(row[1].get<int>(), 3);
}

TEST_F(ParamsTest, NumberedPlaceholdersMayBeReorderedAndRepeated) {
  auto swapped = one("SELECT ?2, ?1", {"a", "b"});
  EXPECT_EQ(swapped[0].get<std::string>(), "b");
  EXPECT_EQ(swapped[1].get<std::string>(), "a");
  auto repeated = one("SELECT ?1, ?1", {7});
  EXPECT_EQ(repeated[0].get<int>(), 7);
  EXPECT_EQ(repeated[1].get<int>(), 7);
}

TEST_F(ParamsTest, NamedColonAtDollarFromBracedList) {
  auto row = one("SELECT :a, @b, $c", {{"a", 1}, {"b", "two"}, {"c", 3.5}});
  ASSERT_EQ(row.size(), 3U);
  EXPECT_EQ(row[0].get<int>(), 1);
  EXPECT_EQ(row[1].get<std::string>(), "two");
  EXPECT_DOUBLE_EQ(row[2].get<double>(), 3.5);
}

TEST_F(ParamsTest, SingleNamedFromBracedList) {
  auto row = one("SELECT :a", {{"a", 1}});
  EXPECT_EQ(row[0].get<int>(), 1);
}

TEST_F(ParamsTest, NamedOrderDoesNotMatter) {
  auto row = one("SELECT :a, :b", {{"b", 2}, {"a", 1}});
  EXPECT_EQ(row[0].get<int>(), 1);
  EXPECT_EQ(row[1].get<int>(), 2);
}

TEST_F(ParamsTest, NamedUsedTwice) {
  auto row = one("SELECT :a, :a + 1", {{"a", 10}});
  EXPECT_EQ(row[0].get<int>(), 10);
  EXPECT_EQ(row[1].get<int>(), 11);
}

TEST_F(ParamsTest, PositionalFromVector) {
  std::vector<Value> values;
  for (int i = 0; i < 4; ++i) values.emplace_back(i * 10);
  auto row = one("SELECT ?, ?, ?, ?", values);
  ASSERT_EQ(row.size(), 4U);
  EXPECT_EQ(row[3].get<int>(), 30);
}

TEST_F(ParamsTest, NamedFromVectorOfPairs) {
  std::vector<std::pair<std::string, Value>> named;
  named.emplace_back("x", 5);
  named.emplace_back("y", "why");
  auto row = one("SELECT :x, @y", named);
  EXPECT_EQ(row[0].get<int>(), 5);
  EXPECT_EQ(row[1].get<std::string>(), "why");
}

TEST_F(ParamsTest, NamedFromMap) {
  std::map<std::string, Value> named{{"x", 5}, {"y", nullptr}};
  auto row = one("SELECT $x, :y", named);
  EXPECT_EQ(row[0].get<int>(), 5);
  EXPECT_TRUE(row[1].is_null());
}

TEST_F(ParamsTest, ExtraNamedValuesAreIgnored) {
  auto row = one("SELECT :a", {{"a", 1}, {"unused", 2}, {"also_unused", "x"}});
  ASSERT_EQ(row.size(), 1U);
  EXPECT_EQ(row[0].get<int>(), 1);
}

TEST_F(ParamsTest, MissingNamedValueIsProgrammingError) {
  auto msg = programming_error("SELECT :a", {{"b", 1}});
  EXPECT_EQ(msg, "You did not supply a value for binding parameter :a.");
}

TEST_F(ParamsTest, MissingNamedValueMessageUsesColonWhateverThePrefix) {
  // Python 3.11 prints the name without its prefix character, after a ':'.
  auto msg = programming_error("SELECT :a, @b", {{"a", 1}});
  EXPECT_EQ(msg, "You did not supply a value for binding parameter :b.");
}

TEST_F(ParamsTest, TooManyPositionalIsProgrammingError) {
  auto msg = programming_error("SELECT ?", {1, 2});
  EXPECT_TRUE(contains(msg, "Incorrect number of bindings supplied.")) << msg;
  EXPECT_EQ(msg,
            "Incorrect number of bindings supplied. The current statement uses 1, and there are 2 "
            "supplied.");
}

TEST_F(ParamsTest, TooFewPositionalIsProgrammingError) {
  auto msg = programming_error("SELECT ?1, ?3", {1, 2});
  EXPECT_EQ(msg,
            "Incorrect number of bindings supplied. The current statement uses 3, and there are 2 "
            "supplied.");
}

TEST_F(ParamsTest, NoValuesForAPlaceholderIsProgrammingError) {
  auto msg = programming_error("SELECT ?", {});
  EXPECT_TRUE(contains(msg, "Incorrect number of bindings supplied.")) << msg;
  EXPECT_TRUE(contains(msg, "uses 1, and there are 0 supplied")) << msg;
}

TEST_F(ParamsTest, ValuesForAStatementWithoutPlaceholdersIsProgrammingError) {
  auto msg = programming_error("SELECT 1", {1});
  EXPECT_EQ(msg,
            "Incorrect number of bindings supplied. The current statement uses 0, and there are 1 "
            "supplied.");
}

TEST_F(ParamsTest, NamedValuesForQuestionMarkIsProgrammingError) {
  auto msg = programming_error("SELECT ?", {{"a", 1}});
  EXPECT_FALSE(msg.empty());
}

TEST_F(ParamsTest, ErrorOnOneExecuteLeavesConnectionUsable) {
  (void)programming_error("SELECT ?", {1, 2});
  auto row = one("SELECT ?", {3});
  EXPECT_EQ(row[0].get<int>(), 3);
}

TEST_F(ParamsTest, ExecutemanyBindsEachSet) {
  db_.execute("CREATE TABLE t(a, b)").get();
  std::vector<Params> seq;
  seq.emplace_back(Params{1, "one"});
  seq.emplace_back(Params{2, "two"});
  db_.executemany("INSERT INTO t VALUES (?, ?)", seq).get();
  db_.executemany("INSERT INTO t VALUES (:a, :b)", std::vector<Params>{Params{{"a", 3}, {"b", "three"}}})
      .get();
  auto rows = db_.execute_fetchall("SELECT a, b FROM t ORDER BY a").get();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[1][1].get<std::string>(), "two");
  EXPECT_EQ(rows[2][1].get<std::string>(), "three");
}

TEST_F(ParamsTest, ExecutemanyWrongCountIsProgrammingError) {
  db_.execute("CREATE TABLE t(a)").get();
  EXPECT_THROW((void)db_.executemany("INSERT INTO t VALUES (?)", {{1}, {1, 2}}).get(),
               uvsqlite::ProgrammingError);
}

TEST_F(ParamsTest, ExecuteFetchallAndExecuteInsertTakeParams) {
  db_.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)").get();
  auto id = db_.execute_insert("INSERT INTO t(v) VALUES (:v)", {{"v", "x"}}).get();
  ASSERT_TRUE(id.has_value());
  auto rows = db_.execute_fetchall("SELECT v FROM t WHERE id = ?", {*id}).get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0][0].get<std::string>(), "x");
}

}  // namespace

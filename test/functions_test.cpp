// User SQL code: create_function (scalar, variadic, deterministic, errors, removal, replacement),
// create_aggregate (one Aggregate per group, empty input, errors) and create_collation (ordering,
// removal), in the future and the callback forms.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

Blob bytes(std::initializer_list<int> list) {
  Blob b;
  for (int i : list) b.push_back(static_cast<std::byte>(i));
  return b;
}

/// sum(x) and count(x) of one group, finalized as "sum/count".
class SumCount : public Aggregate {
 public:
  void step(std::span<const Value> args) override {
    sum_ += args[0].get<std::int64_t>();
    ++count_;
  }
  Value finalize() override { return std::to_string(sum_) + "/" + std::to_string(count_); }

 private:
  std::int64_t sum_ = 0;
  std::int64_t count_ = 0;
};

class ThrowingStep : public Aggregate {
 public:
  void step(std::span<const Value>) override { throw std::runtime_error("step failed"); }
  Value finalize() override { return 0; }
};

class ThrowingFinalize : public Aggregate {
 public:
  void step(std::span<const Value>) override {}
  Value finalize() override { throw std::runtime_error("finalize failed"); }
};

int reverse_order(std::string_view a, std::string_view b) { return b.compare(a); }

// ---------------------------------------------------------------------------------------------
// Scalar functions, future form

class FunctionTest : public ::testing::Test {
 protected:
  void TearDown() override { db_.close().get(); }

  Value one(const std::string& sql) { return db_.execute_fetchall(sql).get().at(0)[0]; }
  Row row(const std::string& sql) { return db_.execute_fetchall(sql).get().at(0); }

  Connection db_ = connect(":memory:").get();
};

TEST_F(FunctionTest, ReceivesArgumentsOfEveryType) {
  std::vector<Value> seen;
  db_.create_function("capture", 5,
                      [&seen](std::span<const Value> args) -> Value {
                        seen.assign(args.begin(), args.end());
                        return static_cast<std::int64_t>(args.size());
                      })
      .get();
  EXPECT_EQ(one("SELECT capture(NULL, 42, 2.5, 'text', x'00ff')").get<int>(), 5);
  ASSERT_EQ(seen.size(), 5U);
  EXPECT_EQ(seen[0].type(), Type::Null);
  EXPECT_EQ(seen[1].type(), Type::Integer);
  EXPECT_EQ(seen[1].get<std::int64_t>(), 42);
  EXPECT_EQ(seen[2].type(), Type::Real);
  EXPECT_DOUBLE_EQ(seen[2].get<double>(), 2.5);
  EXPECT_EQ(seen[3].type(), Type::Text);
  EXPECT_EQ(seen[3].get<std::string>(), "text");
  EXPECT_EQ(seen[4].type(), Type::Blob);
  EXPECT_EQ(seen[4].get<Blob>(), bytes({0x00, 0xff}));
}

TEST_F(FunctionTest, ReceivesBoundParameters) {
  std::vector<Value> seen;
  db_.create_function("capture", 2,
                      [&seen](std::span<const Value> args) -> Value {
                        seen.assign(args.begin(), args.end());
                        return nullptr;
                      })
      .get();
  db_.execute_fetchall("SELECT capture(?, ?)", {std::int64_t{1} << 40, bytes({})}).get();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].get<std::int64_t>(), std::int64_t{1} << 40);
  ASSERT_EQ(seen[1].type(), Type::Blob) << "an empty blob must stay a blob";
  EXPECT_TRUE(seen[1].get<Blob>().empty());
}

TEST_F(FunctionTest, ReturnsEveryValueType) {
  db_.create_function("make", 1,
                      [](std::span<const Value> args) -> Value {
                        const auto kind = args[0].get<std::string>();
                        if (kind == "null") return nullptr;
                        if (kind == "int") return std::int64_t{1} << 40;
                        if (kind == "real") return 0.25;
                        if (kind == "text") return std::string("t\0u", 3);
                        return bytes({1, 2, 3});
                      })
      .get();
  const Row r =
      row("SELECT make('null'), make('int'), make('real'), make('text'), make('blob'), "
          "typeof(make('null')), typeof(make('int')), typeof(make('real')), typeof(make('text')), "
          "typeof(make('blob'))");
  EXPECT_TRUE(r[0].is_null());
  EXPECT_EQ(r[1].get<std::int64_t>(), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(r[2].get<double>(), 0.25);
  EXPECT_EQ(r[3].get<std::string>(), std::string("t\0u", 3));
  EXPECT_EQ(r[4].get<Blob>(), bytes({1, 2, 3}));
  EXPECT_EQ(r[5].get<std::string>(), "null");
  EXPECT_EQ(r[6].get<std::string>(), "integer");
  EXPECT_EQ(r[7].get<std::string>(), "real");
  EXPECT_EQ(r[8].get<std::string>(), "text");
  EXPECT_EQ(r[9].get<std::string>(), "blob");
}

TEST_F(FunctionTest, UsableInWhereAndOverTableRows) {
  db_.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3), (4);").get();
  db_.create_function("twice", 1,
                      [](std::span<const Value> a) -> Value { return a[0].get<std::int64_t>() * 2; })
      .get();
  auto rows = db_.execute_fetchall("SELECT twice(x) FROM t WHERE twice(x) > 4 ORDER BY x").get();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].get<int>(0), 6);
  EXPECT_EQ(rows[1].get<int>(0), 8);
}

TEST_F(FunctionTest, VariadicTakesAnyNumberOfArguments) {
  db_.create_function("nargs", -1,
                      [](std::span<const Value> a) -> Value { return static_cast<std::int64_t>(a.size()); })
      .get();
  const Row r = row("SELECT nargs(), nargs(1), nargs(1, 'a', NULL, 2.0, x'01')");
  EXPECT_EQ(r.get<int>(0), 0);
  EXPECT_EQ(r.get<int>(1), 1);
  EXPECT_EQ(r.get<int>(2), 5);
}

TEST_F(FunctionTest, WrongArgumentCountIsAnOperationalError) {
  bool called = false;
  db_.create_function("unary", 1,
                      [&called](std::span<const Value>) -> Value {
                        called = true;
                        return 1;
                      })
      .get();
  expect_error<OperationalError>(error_of(db_.execute("SELECT unary(1, 2)")), "wrong number of arguments");
  expect_error<OperationalError>(error_of(db_.execute("SELECT unary()")), "wrong number of arguments");
  EXPECT_FALSE(called);
}

TEST_F(FunctionTest, DeterministicFunctionIsUsableInAnIndexExpression) {
  db_.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);").get();
  db_.create_function(
         "neg", 1, [](std::span<const Value> a) -> Value { return -a[0].get<std::int64_t>(); }, true)
      .get();
  EXPECT_NO_THROW(db_.execute("CREATE INDEX i ON t(neg(x))").get());
  auto plan = db_.execute_fetchall("EXPLAIN QUERY PLAN SELECT x FROM t WHERE neg(x) = -2").get();
  ASSERT_FALSE(plan.empty());
  EXPECT_NE(plan.back()[3].get<std::string>().find("INDEX i"), std::string::npos)
      << plan.back()[3].get<std::string>();
  auto rows = db_.execute_fetchall("SELECT x FROM t WHERE neg(x) = -2").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<int>(0), 2);
}

TEST_F(FunctionTest, NonDeterministicFunctionIsRefusedInAnIndexExpression) {
  db_.execute("CREATE TABLE t(x)").get();
  db_.create_function(
         "neg", 1, [](std::span<const Value> a) -> Value { return -a[0].get<std::int64_t>(); }, false)
      .get();
  expect_error<OperationalError>(error_of(db_.execute("CREATE INDEX i ON t(neg(x))")),
                                 "non-deterministic functions prohibited in index expressions");
}

TEST_F(FunctionTest, AnExceptionBecomesAnOperationalErrorWithItsMessage) {
  db_.create_function("boom", 1,
                      [](std::span<const Value> a) -> Value {
                        if (a[0].get<int>() == 1) throw std::runtime_error("boom: the function failed");
                        return a[0];
                      })
      .get();
  auto error = error_of(db_.execute_fetchall("SELECT boom(1)"));
  expect_error<OperationalError>(error);
  try {
    std::rethrow_exception(error);
  } catch (const OperationalError& e) {
    EXPECT_STREQ(e.what(), "boom: the function failed");
  } catch (...) {
  }
  // The connection keeps working, the function too.
  EXPECT_EQ(one("SELECT boom(7)").get<int>(), 7);
  EXPECT_EQ(one("SELECT 1 + 1").get<int>(), 2);
}

TEST_F(FunctionTest, AnExceptionInTheMiddleOfATableFailsTheStatement) {
  db_.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);").get();
  db_.create_function("fail_on_3", 1,
                      [](std::span<const Value> a) -> Value {
                        if (a[0].get<int>() == 3) throw std::runtime_error("three");
                        return a[0];
                      })
      .get();
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT fail_on_3(x) FROM t ORDER BY x")),
                                 "three");
  EXPECT_EQ(db_.execute_fetchall("SELECT fail_on_3(x) FROM t WHERE x < 3").get().size(), 2U);
}

TEST_F(FunctionTest, EmptyFunctionRemovesIt) {
  db_.create_function("gone", 1, [](std::span<const Value> a) -> Value { return a[0]; }).get();
  EXPECT_EQ(one("SELECT gone(3)").get<int>(), 3);
  db_.create_function("gone", 1, ScalarFunction{}).get();
  expect_error<OperationalError>(error_of(db_.execute("SELECT gone(3)")), "no such function: gone");
}

TEST_F(FunctionTest, RegisteringAgainReplacesTheFunction) {
  db_.create_function("version", 0, [](std::span<const Value>) -> Value { return "first"; }).get();
  EXPECT_EQ(one("SELECT version()").get<std::string>(), "first");
  db_.create_function("version", 0, [](std::span<const Value>) -> Value { return "second"; }).get();
  EXPECT_EQ(one("SELECT version()").get<std::string>(), "second");
}

TEST_F(FunctionTest, ReplacedFunctionIsDestroyed) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  db_.create_function("holder", 0,
                      [token = std::move(token)](std::span<const Value>) -> Value { return *token; })
      .get();
  EXPECT_FALSE(watch.expired());
  db_.create_function("holder", 0, [](std::span<const Value>) -> Value { return 1; }).get();
  EXPECT_TRUE(watch.expired()) << "the replaced callable leaked";
}

TEST_F(FunctionTest, RunsOnTheWorkerThread) {
  std::thread::id in_function;
  db_.create_function("where_am_i", 0,
                      [&in_function](std::span<const Value>) -> Value {
                        in_function = std::this_thread::get_id();
                        return nullptr;
                      })
      .get();
  db_.execute_fetchall("SELECT where_am_i()").get();
  const auto worker = db_.call([](sqlite3*) { return std::this_thread::get_id(); }).get();
  EXPECT_NE(in_function, std::this_thread::get_id());
  EXPECT_EQ(in_function, worker);
}

TEST_F(FunctionTest, CreateAfterCloseFailsWithProgrammingError) {
  auto db = connect(":memory:").get();
  db.close().get();
  expect_error<ProgrammingError>(
      error_of(db.create_function("f", 0, [](std::span<const Value>) -> Value { return 1; })));
  expect_error<ProgrammingError>(
      error_of(db.create_aggregate("a", 1, [] { return std::make_unique<SumCount>(); })));
  expect_error<ProgrammingError>(error_of(db.create_collation("c", reverse_order)));
}

// ---------------------------------------------------------------------------------------------
// Aggregates, future form

class AggregateTest : public FunctionTest {
 protected:
  void SetUp() override {
    db_.executescript(
           "CREATE TABLE t(g, x);"
           "INSERT INTO t VALUES ('a', 1), ('a', 2), ('b', 10), ('c', 5), ('c', 6), ('c', 7);")
        .get();
    db_.create_aggregate("sumcount", 1,
                         [this] {
                           ++made_;
                           return std::make_unique<SumCount>();
                         })
        .get();
  }
  std::atomic<int> made_{0};
};

TEST_F(AggregateTest, OneAggregatePerGroup) {
  auto rows = db_.execute_fetchall("SELECT g, sumcount(x) FROM t GROUP BY g ORDER BY g").get();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].get<std::string>(1), "3/2");
  EXPECT_EQ(rows[1].get<std::string>(1), "10/1");
  EXPECT_EQ(rows[2].get<std::string>(1), "18/3");
  EXPECT_EQ(made_.load(), 3) << "the factory must be called once per group";
}

TEST_F(AggregateTest, WholeTableIsOneGroup) {
  EXPECT_EQ(one("SELECT sumcount(x) FROM t").get<std::string>(), "31/6");
  EXPECT_EQ(made_.load(), 1);
}

TEST_F(AggregateTest, EmptyInputFinalizesAFreshAggregate) {
  db_.execute("CREATE TABLE empty(x)").get();
  EXPECT_EQ(one("SELECT sumcount(x) FROM empty").get<std::string>(), "0/0");
  EXPECT_EQ(made_.load(), 1);
}

TEST_F(AggregateTest, ExceptionInStepIsAnOperationalError) {
  db_.create_aggregate("bad_step", 1, [] { return std::make_unique<ThrowingStep>(); }).get();
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT bad_step(x) FROM t")));
  EXPECT_EQ(one("SELECT sumcount(x) FROM t").get<std::string>(), "31/6");
}

TEST_F(AggregateTest, ExceptionInFinalizeIsAnOperationalError) {
  db_.create_aggregate("bad_final", 1, [] { return std::make_unique<ThrowingFinalize>(); }).get();
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT bad_final(x) FROM t")));
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT bad_final(x) FROM t WHERE 0")));
  EXPECT_EQ(one("SELECT sumcount(x) FROM t").get<std::string>(), "31/6");
}

TEST_F(AggregateTest, EmptyFactoryRemovesIt) {
  db_.create_aggregate("sumcount", 1, AggregateFactory{}).get();
  expect_error<OperationalError>(error_of(db_.execute("SELECT sumcount(x) FROM t")), "no such function");
}

// ---------------------------------------------------------------------------------------------
// Collations, future form

class CollationTest : public FunctionTest {
 protected:
  void SetUp() override {
    db_.executescript("CREATE TABLE words(w); INSERT INTO words VALUES ('b'), ('c'), ('a');").get();
  }
  std::vector<std::string> words(const std::string& sql) {
    std::vector<std::string> out;
    for (const auto& r : db_.execute_fetchall(sql).get()) out.push_back(r.get<std::string>(0));
    return out;
  }
};

TEST_F(CollationTest, ReverseCollationReversesOrderBy) {
  db_.create_collation("rev", reverse_order).get();
  EXPECT_EQ(words("SELECT w FROM words ORDER BY w"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(words("SELECT w FROM words ORDER BY w COLLATE rev"), (std::vector<std::string>{"c", "b", "a"}));
}

TEST_F(CollationTest, EmptyCollationRemovesIt) {
  db_.create_collation("rev", reverse_order).get();
  EXPECT_EQ(words("SELECT w FROM words ORDER BY w COLLATE rev").front(), "c");
  db_.create_collation("rev", Collation{}).get();
  expect_error<OperationalError>(error_of(db_.execute("SELECT w FROM words ORDER BY w COLLATE rev")),
                                 "no such collation sequence: rev");
}

TEST_F(CollationTest, RunsOnTheWorkerThread) {
  std::thread::id seen;
  db_.create_collation("rev",
                       [&seen](std::string_view a, std::string_view b) {
                         seen = std::this_thread::get_id();
                         return reverse_order(a, b);
                       })
      .get();
  words("SELECT w FROM words ORDER BY w COLLATE rev");
  EXPECT_EQ(seen, db_.call([](sqlite3*) { return std::this_thread::get_id(); }).get());
}

// ---------------------------------------------------------------------------------------------
// Callback form

class FunctionCallbackTest : public LoopTest {
 protected:
  /// execute_fetchall in the callback form.
  std::vector<Row> fetch(const Connection& db, const std::string& sql, std::exception_ptr* error = nullptr) {
    bool done = false;
    std::vector<Row> rows;
    db.execute_fetchall(sql, [&](std::exception_ptr e, std::vector<Row> r) {
      if (error != nullptr) {
        *error = e;
      } else {
        EXPECT_FALSE(e);
      }
      rows = std::move(r);
      done = true;
    });
    EXPECT_TRUE(run_until([&] { return done; }));
    return rows;
  }
};

TEST_F(FunctionCallbackTest, CreateFunctionThenCallIt) {
  auto db = open();
  std::thread::id in_function;
  EXPECT_FALSE(wait_void([&](auto cb) {
    db.create_function(
        "plus", 2,
        [&in_function](std::span<const Value> a) -> Value {
          in_function = std::this_thread::get_id();
          return a[0].get<std::int64_t>() + a[1].get<std::int64_t>();
        },
        true, std::move(cb));
  }));
  auto rows = fetch(db, "SELECT plus(40, 2)");
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<int>(0), 42);
  EXPECT_NE(in_function, std::this_thread::get_id());
  close(db);
}

TEST_F(FunctionCallbackTest, ExceptionArrivesThroughTheCallback) {
  auto db = open();
  EXPECT_FALSE(wait_void([&](auto cb) {
    db.create_function(
        "boom", 0, [](std::span<const Value>) -> Value { throw std::runtime_error("callback boom"); }, false,
        std::move(cb));
  }));
  std::exception_ptr error;
  fetch(db, "SELECT boom()", &error);
  expect_error<OperationalError>(error, "callback boom");
  EXPECT_EQ(fetch(db, "SELECT 3").at(0).get<int>(0), 3);
  close(db);
}

TEST_F(FunctionCallbackTest, RemoveFunction) {
  auto db = open();
  EXPECT_FALSE(wait_void([&](auto cb) {
    db.create_function(
        "f", 0, [](std::span<const Value>) -> Value { return 1; }, false, std::move(cb));
  }));
  EXPECT_FALSE(
      wait_void([&](auto cb) { db.create_function("f", 0, ScalarFunction{}, false, std::move(cb)); }));
  std::exception_ptr error;
  fetch(db, "SELECT f()", &error);
  expect_error<OperationalError>(error, "no such function: f");
  close(db);
}

TEST_F(FunctionCallbackTest, CreateAggregate) {
  auto db = open();
  db.executescript("CREATE TABLE t(g, x); INSERT INTO t VALUES (1, 1), (1, 2), (2, 5);").get();
  int made = 0;  // the factory runs on the worker; read after the callback
  EXPECT_FALSE(wait_void([&](auto cb) {
    db.create_aggregate(
        "sumcount", 1,
        [&made] {
          ++made;
          return std::make_unique<SumCount>();
        },
        std::move(cb));
  }));
  auto rows = fetch(db, "SELECT sumcount(x) FROM t GROUP BY g ORDER BY g");
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].get<std::string>(0), "3/2");
  EXPECT_EQ(rows[1].get<std::string>(0), "5/1");
  EXPECT_EQ(made, 2);
  close(db);
}

TEST_F(FunctionCallbackTest, AggregateStepExceptionArrivesThroughTheCallback) {
  auto db = open();
  db.executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1);").get();
  EXPECT_FALSE(wait_void([&](auto cb) {
    db.create_aggregate(
        "bad_step", 1, [] { return std::make_unique<ThrowingStep>(); }, std::move(cb));
  }));
  std::exception_ptr error;
  fetch(db, "SELECT bad_step(x) FROM t", &error);
  expect_error<OperationalError>(error);
  close(db);
}

TEST_F(FunctionCallbackTest, CreateAndRemoveCollation) {
  auto db = open();
  db.executescript("CREATE TABLE words(w); INSERT INTO words VALUES ('b'), ('a'), ('c');").get();
  EXPECT_FALSE(wait_void([&](auto cb) { db.create_collation("rev", reverse_order, std::move(cb)); }));
  auto rows = fetch(db, "SELECT w FROM words ORDER BY w COLLATE rev");
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].get<std::string>(0), "c");
  EXPECT_EQ(rows[2].get<std::string>(0), "a");
  EXPECT_FALSE(wait_void([&](auto cb) { db.create_collation("rev", Collation{}, std::move(cb)); }));
  std::exception_ptr error;
  fetch(db, "SELECT w FROM words ORDER BY w COLLATE rev", &error);
  expect_error<OperationalError>(error, "no such collation sequence: rev");
  close(db);
}

TEST_F(FunctionCallbackTest, CreateAfterCloseFailsWithProgrammingError) {
  auto db = open();
  close(db);
  expect_error<ProgrammingError>(wait_void([&](auto cb) {
    db.create_function(
        "f", 0, [](std::span<const Value>) -> Value { return 1; }, false, std::move(cb));
  }));
}

}  // namespace
}  // namespace uvsqlite::test

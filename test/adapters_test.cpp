// Adapters (any C++ type bound as a parameter) and converters (a column's raw value into a C++
// object, selected by PARSE_DECLTYPES / PARSE_COLNAMES), as Python's sqlite3.register_adapter /
// register_converter; and the process-wide registries used from many threads at once.
//
// The registries are process-wide: every test uses converter names of its own and removes what
// it registered before it ends (the Scoped* guards below).

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::test::catch_as;
using uvsqlite::test::contains;
using uvsqlite::test::error_as;

using uvsqlite::Cursor;
using uvsqlite::Options;
using uvsqlite::Row;
using uvsqlite::Type;
using uvsqlite::Value;

struct Point {
  int x = 0;
  int y = 0;
  bool operator==(const Point&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Point& p) {
  return os << "Point{" << p.x << ", " << p.y << "}";
}

/// A class type with no adapter, ever.
struct Unregistered {
  int v = 0;
};

/// What a converter made, to tell converters apart.
struct Tag {
  std::string from;
};

struct Celsius {
  double degrees = 0;
};

struct ConverterError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Value point_text(const Point& p) { return std::to_string(p.x) + ";" + std::to_string(p.y); }

Point parse_point(const Value& raw) {
  const auto text = raw.get<std::string>();
  const auto semi = text.find(';');
  if (semi == std::string::npos) throw ConverterError("not a point: " + text);
  return Point{std::stoi(text.substr(0, semi)), std::stoi(text.substr(semi + 1))};
}

/// Removes T's adapter at scope exit.
template <class T>
struct ScopedAdapterRemoval {
  ScopedAdapterRemoval() = default;
  ScopedAdapterRemoval(const ScopedAdapterRemoval&) = delete;
  ScopedAdapterRemoval& operator=(const ScopedAdapterRemoval&) = delete;
  ~ScopedAdapterRemoval() { uvsqlite::register_adapter<T>(std::function<Value(const T&)>{}); }
};

/// Registers a converter and removes it at scope exit.
class ScopedConverter {
 public:
  template <class F>
  ScopedConverter(std::string name, F fn) : name_(std::move(name)) {
    uvsqlite::register_converter(name_, std::move(fn));
  }
  ScopedConverter(const ScopedConverter&) = delete;
  ScopedConverter& operator=(const ScopedConverter&) = delete;
  ~ScopedConverter() { uvsqlite::register_converter(name_, std::function<Value(const Value&)>{}); }

 private:
  std::string name_;
};

Options with_types(int detect_types) {
  Options o;
  o.detect_types = detect_types;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Adapters, future form

class Adapters : public ::testing::Test {
 protected:
  void SetUp() override { db_.execute("CREATE TABLE t(p)").get(); }
  void TearDown() override { db_.close().get(); }

  Row one(const std::string& sql, uvsqlite::Params params = {}) {
    auto rows = db_.execute_fetchall(sql, std::move(params)).get();
    EXPECT_EQ(rows.size(), 1U) << sql;
    return rows.empty() ? Row{} : rows[0];
  }

  ScopedAdapterRemoval<Point> cleanup_;
  uvsqlite::Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST_F(Adapters, AdaptedTypeBindsAsAPositionalParameter) {
  uvsqlite::register_adapter<Point>(point_text);
  Row row = one("SELECT typeof(?), ?", {Point{1, 2}, Point{-3, 4}});
  EXPECT_EQ(row[0], Value("text"));
  EXPECT_EQ(row[1], Value("-3;4"));
}

TEST_F(Adapters, AdaptedValueIsWhatSqliteStores) {
  uvsqlite::register_adapter<Point>(point_text);
  db_.execute("INSERT INTO t(p) VALUES (?)", {Point{1, 2}}).get();
  Row row = one("SELECT typeof(p), p FROM t");
  EXPECT_EQ(row[0], Value("text"));
  EXPECT_EQ(row[1], Value("1;2"));
  EXPECT_EQ(row[1].object(), nullptr) << "a stored value carries no object";
}

TEST_F(Adapters, AdaptedTypeBindsAsANamedParameter) {
  uvsqlite::register_adapter<Point>(point_text);
  Row row = one("SELECT :a, @b, $c", {{"a", Point{1, 2}}, {"b", Point{3, 4}}, {"c", 5}});
  EXPECT_EQ(row[0], Value("1;2"));
  EXPECT_EQ(row[1], Value("3;4"));
  EXPECT_EQ(row[2], Value(5));
}

TEST_F(Adapters, AdaptedTypeBindsInExecutemany) {
  uvsqlite::register_adapter<Point>(point_text);
  Cursor c =
      db_.executemany("INSERT INTO t(p) VALUES (?)", {{Point{1, 2}}, {Point{3, 4}}, {Point{5, 6}}}).get();
  EXPECT_EQ(c.rowcount(), 3);
  auto rows = db_.execute_fetchall("SELECT p FROM t ORDER BY rowid").get();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0][0], Value("1;2"));
  EXPECT_EQ(rows[2][0], Value("5;6"));
}

TEST_F(Adapters, AdapterMayReturnAnyStorageClass) {
  ScopedAdapterRemoval<Celsius> celsius_cleanup;
  uvsqlite::register_adapter<Point>([](const Point& p) { return Value(p.x * 100 + p.y); });
  uvsqlite::register_adapter<Celsius>([](const Celsius& c) { return Value(c.degrees); });
  Row row =
      one("SELECT typeof(?), ?, typeof(?), ?", {Point{1, 2}, Point{1, 2}, Celsius{21.5}, Celsius{21.5}});
  EXPECT_EQ(row[0], Value("integer"));
  EXPECT_EQ(row[1], Value(102));
  EXPECT_EQ(row[2], Value("real"));
  EXPECT_EQ(row[3], Value(21.5));
}

TEST_F(Adapters, UnregisteredTypeIsAProgrammingErrorThroughTheFuture) {
  std::future<Cursor> f;
  EXPECT_NO_THROW(f = db_.execute("SELECT ?", {Unregistered{7}})) << "not thrown at the call";
  auto e = catch_as<uvsqlite::ProgrammingError>([&] { (void)f.get(); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "Unregistered")) << e->what();
  // The connection keeps working.
  EXPECT_EQ(one("SELECT 1")[0], Value(1));
}

TEST_F(Adapters, UnregisteredTypeInExecutemanyIsAProgrammingError) {
  std::future<Cursor> f;
  EXPECT_NO_THROW(f = db_.executemany("INSERT INTO t(p) VALUES (?)", {{1}, {Unregistered{2}}}));
  auto e = catch_as<uvsqlite::ProgrammingError>([&] { (void)f.get(); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "Unregistered")) << e->what();
}

TEST_F(Adapters, ReplacingAnAdapter) {
  uvsqlite::register_adapter<Point>(point_text);
  EXPECT_EQ(one("SELECT ?", {Point{1, 2}})[0], Value("1;2"));
  uvsqlite::register_adapter<Point>(
      [](const Point& p) { return Value(std::to_string(p.x) + "," + std::to_string(p.y)); });
  EXPECT_EQ(one("SELECT ?", {Point{1, 2}})[0], Value("1,2"));
}

TEST_F(Adapters, RemovingAnAdapterWithAnEmptyFunction) {
  uvsqlite::register_adapter<Point>(point_text);
  EXPECT_EQ(one("SELECT ?", {Point{1, 2}})[0], Value("1;2"));
  uvsqlite::register_adapter<Point>(std::function<Value(const Point&)>{});
  auto e = catch_as<uvsqlite::ProgrammingError>([&] { (void)db_.execute("SELECT ?", {Point{1, 2}}).get(); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "Point")) << e->what();
}

// ---------------------------------------------------------------------------------------------
// Adapters, callback form

class AdaptersCallbacks : public uvsqlite::test::LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    db_ = open();
  }
  void TearDown() override {
    close(db_);
    LoopTest::TearDown();
  }

  ScopedAdapterRemoval<Point> cleanup_;
  uvsqlite::Connection db_;
};

TEST_F(AdaptersCallbacks, AdaptedTypeBindsInTheCallbackForm) {
  uvsqlite::register_adapter<Point>(point_text);
  std::vector<Row> got;
  bool called = false;
  db_.execute_fetchall("SELECT ?", {Point{7, 8}}, [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    got = std::move(rows);
    called = true;
  });
  run();
  ASSERT_TRUE(called);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0][0], Value("7;8"));
}

TEST_F(AdaptersCallbacks, UnregisteredTypeIsAProgrammingErrorInTheCallback) {
  std::exception_ptr error;
  bool called = false;
  EXPECT_NO_THROW(db_.execute("SELECT ?", {Unregistered{1}}, [&](std::exception_ptr e, Cursor) {
    error = e;
    called = true;
  }));
  EXPECT_FALSE(called) << "never inline inside the call";
  run();
  ASSERT_TRUE(called);
  auto e = error_as<uvsqlite::ProgrammingError>(error);
  ASSERT_TRUE(e);
  EXPECT_TRUE(contains(e->what(), "Unregistered")) << e->what();
}

// ---------------------------------------------------------------------------------------------
// Converters, future form

class Converters : public ::testing::Test {
 protected:
  void TearDown() override {
    if (db_ != uvsqlite::Connection{}) db_.close().get();
  }

  uvsqlite::Connection connect(int detect_types) {
    db_ = uvsqlite::connect(":memory:", with_types(detect_types)).get();
    return db_;
  }

  uvsqlite::Connection db_;
};

TEST_F(Converters, DecltypesConvertsAndKeepsTheRawValue) {
  ScopedConverter conv("cv_decl_point", parse_point);
  auto db = connect(uvsqlite::PARSE_DECLTYPES);
  db.executescript("CREATE TABLE t(p cv_decl_point); INSERT INTO t VALUES ('1;2');").get();
  auto rows = db.execute_fetchall("SELECT p FROM t").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<Point>(0), (Point{1, 2}));
  EXPECT_EQ(rows[0].get<Point>("p"), (Point{1, 2}));
  EXPECT_NE(rows[0][0].object(), nullptr);
  EXPECT_EQ(rows[0][0].type(), Type::Text);
  EXPECT_EQ(rows[0][0].get<std::string>(), "1;2");
  EXPECT_THROW((void)rows[0].get<Tag>(0), uvsqlite::InterfaceError);
}

// A converted value passed back as a parameter binds its column's raw value: the object made
// from it does not go through an adapter (one registered here would bind something else).
TEST_F(Converters, AConvertedValueBindsItsRawValue) {
  ScopedConverter conv("cv_rebind_point", parse_point);
  ScopedAdapterRemoval<Point> cleanup;
  uvsqlite::register_adapter<Point>([](const Point&) { return Value("adapted"); });
  auto db = connect(uvsqlite::PARSE_DECLTYPES);
  db.executescript("CREATE TABLE t(p cv_rebind_point); INSERT INTO t VALUES ('1;2');").get();
  const auto converted = db.execute_fetchall("SELECT p FROM t").get().at(0)[0];
  ASSERT_NE(converted.object(), nullptr);
  const auto rows = db.execute_fetchall("SELECT ?, typeof(?)", {converted, converted}).get();
  EXPECT_EQ(rows.at(0)[0], Value("1;2"));
  EXPECT_EQ(rows.at(0)[1], Value("text"));
  // An object that awaits its adapter, by contrast, is adapted.
  EXPECT_EQ(db.execute_fetchall("SELECT ?", {Point{3, 4}}).get().at(0)[0], Value("adapted"));
}

// As in Python, a converted column's converter receives the raw value: the text factory, which
// would turn TEXT into a blob here, applies only to the columns without a converter.
TEST_F(Converters, ConverterGetsTheRawTextWhateverTheTextFactory) {
  ScopedConverter conv("cv_raw_point", parse_point);
  auto db = connect(uvsqlite::PARSE_DECLTYPES);
  db.set_text_factory(uvsqlite::text_factory_bytes).get();
  db.executescript("CREATE TABLE t(p cv_raw_point, q TEXT); INSERT INTO t VALUES ('1;2', 'x');").get();
  auto rows = db.execute_fetchall("SELECT p, q FROM t").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<Point>(0), (Point{1, 2}));
  EXPECT_EQ(rows[0][0].type(), Type::Text);
  EXPECT_EQ(rows[0][1].type(), Type::Blob);
}

TEST_F(Converters, DeclaredTypesFirstWordSelectsTheConverter) {
  ScopedConverter conv("cv_word", parse_point);
  auto db = connect(uvsqlite::PARSE_DECLTYPES);
  db.executescript(
        "CREATE TABLE t(a CV_WORD(10) NOT NULL, b cv_word NOT NULL, c cv_wordy, d TEXT);"
        "INSERT INTO t VALUES ('1;2', '3;4', '5;6', '7;8');")
      .get();
  auto rows = db.execute_fetchall("SELECT a, b, c, d FROM t").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<Point>(0), (Point{1, 2}));
  EXPECT_EQ(rows[0].get<Point>(1), (Point{3, 4}));
  EXPECT_EQ(rows[0][2].object(), nullptr) << "cv_wordy is another type";
  EXPECT_EQ(rows[0][3].object(), nullptr);
  EXPECT_THROW((void)rows[0].get<Point>(2), uvsqlite::InterfaceError);
}

TEST_F(Converters, ColnamesConvertsTheAliasAndStripsItFromTheName) {
  ScopedConverter conv("cv_col_point", parse_point);
  auto db = connect(uvsqlite::PARSE_COLNAMES);
  db.executescript("CREATE TABLE t(x TEXT); INSERT INTO t VALUES ('5;6');").get();
  Cursor c = db.execute(R"(SELECT x AS "x [cv_col_point]" FROM t)").get();
  ASSERT_EQ(c.description().size(), 1U);
  EXPECT_EQ(c.description()[0].name, "x");
  auto row = c.fetchone().get();
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->keys(), std::vector<std::string>{"x"});
  EXPECT_EQ(row->get<Point>(0), (Point{5, 6}));
  EXPECT_EQ(row->get<Point>("x"), (Point{5, 6}));
  EXPECT_EQ((*row)["x"].get<std::string>(), "5;6");
}

TEST_F(Converters, ColnamesAloneIgnoresTheDeclaredType) {
  ScopedConverter conv("cv_col_only", parse_point);
  auto db = connect(uvsqlite::PARSE_COLNAMES);
  db.executescript("CREATE TABLE t(p cv_col_only); INSERT INTO t VALUES ('1;2');").get();
  auto rows = db.execute_fetchall("SELECT p FROM t").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0][0].object(), nullptr);
  EXPECT_EQ(rows[0][0], Value("1;2"));
}

TEST_F(Converters, DecltypesAloneIgnoresTheAlias) {
  ScopedConverter conv("cv_decl_only", parse_point);
  auto db = connect(uvsqlite::PARSE_DECLTYPES);
  Cursor c = db.execute(R"(SELECT '1;2' AS "x [cv_decl_only]")").get();
  EXPECT_EQ(c.description().at(0).name, "x [cv_decl_only]");
  auto row = c.fetchone().get();
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ((*row)[0].object(), nullptr);
}

TEST_F(Converters, ColnamesTakePriorityOverDecltypes) {
  ScopedConverter decl("cv_prio_decl", [](const Value&) { return Tag{"decltype"}; });
  ScopedConverter col("cv_prio_col", [](const Value&) { return Tag{"colname"}; });
  auto db = connect(uvsqlite::PARSE_DECLTYPES | uvsqlite::PARSE_COLNAMES);
  db.executescript("CREATE TABLE t(p cv_prio_decl); INSERT INTO t VALUES ('1;2');").get();
  auto rows = db.execute_fetchall(R"(SELECT p AS "p [cv_prio_col]", p FROM t)").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<Tag>(0).from, "colname");
  EXPECT_EQ(rows[0].get<Tag>(1).from, "decltype");
}

TEST_F(Converters, WithoutDetectTypesNothingIsConverted) {
  std::atomic<int> calls{0};
  ScopedConverter conv("cv_none", [&calls](const Value& raw) {
    ++calls;
    return parse_point(raw);
  });
  auto db = connect(0);
  db.executescript("CREATE TABLE t(p cv_none); INSERT INTO t VALUES ('1;2');").get();
  Cursor c = db.execute(R"(SELECT p, p AS "q [cv_none]" FROM t)").get();
  EXPECT_EQ(c.description().at(1).name, "q [cv_none]");
  auto row = c.fetchone().get();
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ((*row)[0].object(), nullptr);
  EXPECT_EQ((*row)[1].object(), nullptr);
  EXPECT_EQ(row->get<std::string>(0), "1;2");
  EXPECT_THROW((void)row->get<Point>(0), uvsqlite::InterfaceError);
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(Converters, NullValuesNeverReachTheConverter) {
  std::atomic<int> calls{0};
  ScopedConverter conv("cv_null", [&calls](const Value& raw) {
    ++calls;
    return parse_point(raw);
  });
  auto db = connect(uvsqlite::PARSE_DECLTYPES | uvsqlite::PARSE_COLNAMES);
  db.executescript("CREATE TABLE t(p cv_null); INSERT INTO t VALUES (NULL), ('1;2');").get();
  auto rows = db.execute_fetchall("SELECT p FROM t ORDER BY rowid").get();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_TRUE(rows[0][0].is_null());
  EXPECT_EQ(rows[0].get<std::optional<Point>>(0), std::nullopt);
  EXPECT_EQ(rows[1].get<std::optional<Point>>(0), std::optional<Point>(Point{1, 2}));
  auto alias = db.execute_fetchall(R"(SELECT NULL AS "n [cv_null]")").get();
  ASSERT_EQ(alias.size(), 1U);
  EXPECT_TRUE(alias[0][0].is_null());
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(Converters, ConverterReturningAValueReplacesTheRawValue) {
  ScopedConverter conv("cv_sum", [](const Value& raw) -> Value {
    const auto text = raw.get<std::string>();
    const auto comma = text.find(',');
    return std::int64_t{std::stoll(text.substr(0, comma)) + std::stoll(text.substr(comma + 1))};
  });
  auto db = connect(uvsqlite::PARSE_DECLTYPES);
  db.executescript("CREATE TABLE t(s cv_sum); INSERT INTO t VALUES ('1,2');").get();
  auto rows = db.execute_fetchall("SELECT s FROM t").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0][0].type(), Type::Integer);
  EXPECT_EQ(rows[0][0], Value(3));
  EXPECT_EQ(rows[0].get<std::int64_t>(0), 3);
  EXPECT_EQ(rows[0][0].object(), nullptr);
}

TEST_F(Converters, ConverterReceivesTheRawStorageClass) {
  std::atomic<int> type = -1;
  ScopedConverter conv("cv_raw", [&type](const Value& raw) {
    type = static_cast<int>(raw.type());
    return Tag{"raw"};
  });
  auto db = connect(uvsqlite::PARSE_COLNAMES);
  auto rows = db.execute_fetchall(R"(SELECT 42 AS "n [cv_raw]")").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(type.load(), static_cast<int>(Type::Integer));
  EXPECT_EQ(rows[0][0].type(), Type::Integer);
  EXPECT_EQ(rows[0].get<std::int64_t>(0), 42) << "the raw value stays beside the object";
  EXPECT_EQ(rows[0].get<Tag>(0).from, "raw");
}

TEST_F(Converters, ThrowingConverterFailsTheFetchWithItsException) {
  ScopedConverter conv("cv_throw", parse_point);
  auto db = connect(uvsqlite::PARSE_DECLTYPES);
  db.executescript("CREATE TABLE t(p cv_throw); INSERT INTO t VALUES ('garbage');").get();
  auto e = catch_as<ConverterError>([&] { (void)db.execute_fetchall("SELECT p FROM t").get(); });
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "not a point: garbage");
  EXPECT_THROW((void)db.execute("SELECT p FROM t").get().fetchone().get(), ConverterError);
  // The connection keeps working.
  EXPECT_EQ(db.execute_fetchall("SELECT 1").get().at(0)[0], Value(1));
}

TEST_F(Converters, ConverterNamesAreCaseInsensitive) {
  ScopedConverter conv("Cv_Mixed", parse_point);
  auto db = connect(uvsqlite::PARSE_DECLTYPES | uvsqlite::PARSE_COLNAMES);
  db.executescript("CREATE TABLE t(a CV_MIXED, b cv_mixed); INSERT INTO t VALUES ('1;2', '3;4');").get();
  auto rows = db.execute_fetchall(R"(SELECT a, b, '5;6' AS "c [cV_mIxEd]" FROM t)").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<Point>(0), (Point{1, 2}));
  EXPECT_EQ(rows[0].get<Point>(1), (Point{3, 4}));
  EXPECT_EQ(rows[0].get<Point>(2), (Point{5, 6}));
}

TEST_F(Converters, RegisteringUnderAnotherCaseReplacesAndRemoves) {
  ScopedConverter conv("cv_case", [](const Value&) { return Tag{"first"}; });
  uvsqlite::register_converter("CV_CASE", [](const Value&) { return Tag{"second"}; });
  auto db = connect(uvsqlite::PARSE_COLNAMES);
  const std::string sql = R"(SELECT 1 AS "x [cv_case]")";
  EXPECT_EQ(db.execute_fetchall(sql).get().at(0).get<Tag>(0).from, "second");
  uvsqlite::register_converter("Cv_Case", std::function<Value(const Value&)>{});
  EXPECT_EQ(db.execute_fetchall(sql).get().at(0)[0].object(), nullptr);
}

TEST_F(Converters, ConvertersAreLookedUpAtEachExecution) {
  // As Python: a converter registered (or removed) later applies to the next execution, even of
  // a statement already prepared and cached.
  ScopedConverter other("cv_other_late", parse_point);  // some converter exists throughout
  auto db = connect(uvsqlite::PARSE_DECLTYPES);
  db.executescript("CREATE TABLE t(p cv_late); INSERT INTO t VALUES ('1;2');").get();
  EXPECT_EQ(db.execute_fetchall("SELECT p FROM t").get().at(0)[0].object(), nullptr);
  {
    ScopedConverter late("cv_late", parse_point);
    EXPECT_EQ(db.execute_fetchall("SELECT p FROM t").get().at(0).get<Point>(0), (Point{1, 2}));
  }
  EXPECT_EQ(db.execute_fetchall("SELECT p FROM t").get().at(0)[0].object(), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Converters, callback form

class ConvertersCallbacks : public uvsqlite::test::LoopTest {
 protected:
  void TearDown() override {
    close(db_);
    LoopTest::TearDown();
  }

  uvsqlite::Connection db_;
};

TEST_F(ConvertersCallbacks, ConvertedOnTheWorkerAndDeliveredOnTheLoop) {
  std::atomic<std::thread::id> converter_thread{};
  ScopedConverter conv("cv_cb_point", [&converter_thread](const Value& raw) {
    converter_thread = std::this_thread::get_id();
    return parse_point(raw);
  });
  db_ = open(":memory:", with_types(uvsqlite::PARSE_DECLTYPES));
  db_.executescript("CREATE TABLE t(p cv_cb_point); INSERT INTO t VALUES ('3;4');").get();
  std::vector<Row> got;
  bool called = false;
  db_.execute_fetchall("SELECT p FROM t", [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    got = std::move(rows);
    called = true;
  });
  run();
  ASSERT_TRUE(called);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].get<Point>(0), (Point{3, 4}));
  EXPECT_NE(converter_thread.load(), std::thread::id{});
  EXPECT_NE(converter_thread.load(), std::this_thread::get_id()) << "the converter ran on the loop thread";
}

TEST_F(ConvertersCallbacks, ThrowingConverterExceptionArrivesInTheCallback) {
  ScopedConverter conv("cv_cb_throw", parse_point);
  db_ = open(":memory:", with_types(uvsqlite::PARSE_COLNAMES));
  Cursor c = db_.execute(R"(SELECT 'nope' AS "p [cv_cb_throw]")").get();
  std::exception_ptr error;
  bool called = false;
  c.fetchone([&](std::exception_ptr e, std::optional<Row> row) {
    EXPECT_EQ(row, std::nullopt);
    error = e;
    called = true;
  });
  run();
  ASSERT_TRUE(called);
  auto e = error_as<ConverterError>(error);
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "not a point: nope");
}

// ---------------------------------------------------------------------------------------------
// The registries from many threads (run under ThreadSanitizer too)

template <int N>
struct Churn {
  int v = N;
};

template <int N>
void churn(const std::atomic<bool>& stop, std::atomic<long>& rounds) {
  const std::string name = "cv_churn_" + std::to_string(N);
  for (int i = 0; i < 20 || !stop.load(); ++i) {
    uvsqlite::register_adapter<Churn<N>>([](const Churn<N>& c) { return Value(c.v); });
    uvsqlite::register_converter(name, [](const Value& raw) { return Tag{raw.get<std::string>()}; });
    uvsqlite::register_adapter<Churn<N>>([](const Churn<N>& c) { return Value(c.v + 1); });
    uvsqlite::register_converter(name, std::function<Value(const Value&)>{});
    uvsqlite::register_adapter<Churn<N>>(std::function<Value(const Churn<N>&)>{});
    rounds.fetch_add(1);
  }
}

template <std::size_t... I>
std::vector<std::thread> start_churners(const std::atomic<bool>& stop, std::atomic<long>& rounds,
                                        std::index_sequence<I...> /*unused*/) {
  std::vector<std::thread> threads;
  (threads.emplace_back([&stop, &rounds] { churn<static_cast<int>(I)>(stop, rounds); }), ...);
  return threads;
}

TEST(AdapterConverterRegistry, SafeFromManyThreadsAtOnce) {
  ScopedAdapterRemoval<Point> cleanup;
  uvsqlite::register_adapter<Point>(point_text);
  ScopedConverter conv("cv_threads_point", parse_point);

  std::atomic<bool> stop{false};
  std::atomic<long> rounds{0};
  std::atomic<int> wrong{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> churners = start_churners(stop, rounds, std::make_index_sequence<8>{});

  constexpr int kQueries = 150;
  std::vector<std::thread> users;
  for (int k = 0; k < 2; ++k) {
    users.emplace_back([k, &wrong, &errors] {
      try {
        auto db =
            uvsqlite::connect(":memory:", with_types(uvsqlite::PARSE_DECLTYPES | uvsqlite::PARSE_COLNAMES))
                .get();
        db.execute("CREATE TABLE t(p cv_threads_point)").get();
        for (int i = 0; i < kQueries; ++i) {
          const Point p{i, k};
          auto rows = db.execute_fetchall(R"(SELECT ? AS "p [cv_threads_point]")", {p}).get();
          if (rows.size() != 1 || rows[0].get<Point>(0) != p) ++wrong;
          db.execute("INSERT INTO t(p) VALUES (?)", {p}).get();
        }
        auto stored = db.execute_fetchall("SELECT p FROM t ORDER BY rowid").get();
        if (stored.size() != static_cast<std::size_t>(kQueries)) ++wrong;
        for (std::size_t i = 0; i < stored.size(); ++i) {
          if (stored[i].get<Point>(0) != Point{static_cast<int>(i), k}) ++wrong;
        }
        db.close().get();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "connection " << k << ": " << e.what();
        ++errors;
      }
    });
  }
  for (auto& t : users) t.join();
  stop = true;
  for (auto& t : churners) t.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(rounds.load(), 8 * 20);
}

}  // namespace

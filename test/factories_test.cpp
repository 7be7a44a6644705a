// Text factories (connection- and cursor-level, as Python's text_factory) and typed rows
// (row.as<...>(), and row_cast through fetchall<T>() / fetchone<T>(): tuples, pairs, a
// constructor from const Row&, a RowTraits specialization), in the future and callback forms.

#include <atomic>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

namespace {

using uvsqlite::test::catch_as;
using uvsqlite::test::error_as;

using uvsqlite::Blob;
using uvsqlite::Cursor;
using uvsqlite::Row;
using uvsqlite::Type;
using uvsqlite::Value;

Blob bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return Blob(p, p + s.size());
}

Value upper_factory(std::string_view text) {
  std::string out(text);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

/// What a text factory throws: must arrive as itself, not wrapped.
struct FactoryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Value throwing_factory(std::string_view text) { throw FactoryError("cannot decode " + std::string(text)); }

/// A user type built by its constructor from a row (by column name).
struct Person {
  explicit Person(const Row& row) : id(row.get<std::int64_t>("id")), name(row.get<std::string>("name")) {}
  std::int64_t id;
  std::string name;
};

/// A user type built through a RowTraits specialization (it has no constructor from a Row).
struct Label {
  std::string text;
};

/// Has both: RowTraits must win over the constructor, as row_cast documents.
struct Both {
  explicit Both(const Row& /*row*/) : how("constructor") {}
  explicit Both(std::string h) : how(std::move(h)) {}
  std::string how;
};

// The thread RowTraits<Label>::from_row last ran on.
std::mutex g_from_row_mutex;
std::thread::id g_from_row_thread;

}  // namespace

template <>
struct uvsqlite::RowTraits<Label> {
  static Label from_row(const uvsqlite::Row& row);
};

Label uvsqlite::RowTraits<Label>::from_row(const uvsqlite::Row& row) {
  {
    std::lock_guard lock(g_from_row_mutex);
    g_from_row_thread = std::this_thread::get_id();
  }
  return Label{row.get<std::string>(1) + "#" + std::to_string(row.get<std::int64_t>(0))};
}

template <>
struct uvsqlite::RowTraits<Both> {
  static Both from_row(const uvsqlite::Row& /*row*/) { return Both(std::string("traits")); }
};

namespace {

using IdName = std::tuple<std::int64_t, std::string>;
using IdNamePair = std::pair<std::int64_t, std::string>;

// ---------------------------------------------------------------------------------------------
// Text factories, future form

class TextFactory : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.executescript(
           "CREATE TABLE foo(i INT, k TEXT, r REAL, b BLOB, n); "
           "INSERT INTO foo VALUES (1, 'hello', 2.5, x'00ff', NULL);")
        .get();
  }
  void TearDown() override { db_.close().get(); }

  uvsqlite::Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST_F(TextFactory, DefaultTextIsStdString) {
  auto rows = db_.execute_fetchall("SELECT k, 'h\xC3\xA9llo' FROM foo").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0][0].type(), Type::Text);
  EXPECT_EQ(rows[0].get<std::string>(0), "hello");
  EXPECT_EQ(rows[0].get<std::string>(1), "h\xC3\xA9llo");
}

TEST_F(TextFactory, BytesFactoryMakesTextABlobOfTheSameBytes) {
  // aiosqlite's test: db.text_factory = bytes; ... fetchone() == (1, b"hello").
  db_.set_text_factory(uvsqlite::text_factory_bytes).get();
  auto row = db_.execute("SELECT i, k, 'h\xC3\xA9llo', r, b, n FROM foo").get().fetchone().get();
  ASSERT_TRUE(row.has_value());
  ASSERT_EQ(row->size(), 6U);
  EXPECT_EQ((*row)[1].type(), Type::Blob);
  EXPECT_EQ(row->get<Blob>(1), bytes("hello"));
  EXPECT_EQ(row->get<Blob>(2), bytes("h\xC3\xA9llo"));
  // Non-text columns are untouched.
  EXPECT_EQ((*row)[0], Value(1));
  EXPECT_EQ((*row)[3], Value(2.5));
  EXPECT_EQ((*row)[4], Value(bytes(std::string_view("\x00\xff", 2))));
  EXPECT_TRUE((*row)[5].is_null());
}

TEST_F(TextFactory, BytesFactoryKeepsNulBytes) {
  db_.set_text_factory(uvsqlite::text_factory_bytes).get();
  const std::string text("a\0b", 3);
  auto rows = db_.execute_fetchall("SELECT ?", {text}).get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<Blob>(0), bytes(text));
}

TEST_F(TextFactory, StrFactoryRestoresText) {
  db_.set_text_factory(uvsqlite::text_factory_bytes).get();
  db_.set_text_factory(uvsqlite::text_factory_str).get();
  auto rows = db_.execute_fetchall("SELECT k FROM foo").get();
  EXPECT_EQ(rows.at(0)[0], Value("hello"));
}

TEST_F(TextFactory, CustomFactoryAppliesToTextColumnsOnly) {
  std::atomic<int> calls{0};
  db_.set_text_factory([&calls](std::string_view text) {
       ++calls;
       return upper_factory(text);
     })
      .get();
  auto rows = db_.execute_fetchall("SELECT k, i, r, b, n, 'abc' FROM foo").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<std::string>(0), "HELLO");
  EXPECT_EQ(rows[0].get<std::string>(5), "ABC");
  EXPECT_EQ(rows[0][1], Value(1));
  EXPECT_EQ(calls.load(), 2) << "called once per TEXT value, never for other storage classes";
}

TEST_F(TextFactory, FactoryMayReturnAnyValue) {
  db_.set_text_factory([](std::string_view text) { return Value(static_cast<std::int64_t>(text.size())); })
      .get();
  auto rows = db_.execute_fetchall("SELECT k FROM foo").get();
  EXPECT_EQ(rows.at(0)[0], Value(5));
}

TEST_F(TextFactory, CursorFactoryOverridesTheConnectionsOnlyForThatCursor) {
  db_.set_text_factory(upper_factory).get();
  Cursor a = db_.execute("SELECT k FROM foo").get();
  Cursor b = db_.execute("SELECT k FROM foo").get();
  a.set_text_factory(uvsqlite::text_factory_bytes).get();
  EXPECT_EQ(a.fetchone().get()->get<Blob>(0), bytes("hello"));
  EXPECT_EQ(b.fetchone().get()->get<std::string>(0), "HELLO");
  // A fresh cursor still uses the connection's factory.
  EXPECT_EQ(db_.execute_fetchall("SELECT k FROM foo").get().at(0).get<std::string>(0), "HELLO");
}

TEST_F(TextFactory, EmptyCursorFactoryRestoresTheConnections) {
  db_.set_text_factory(upper_factory).get();
  Cursor c = db_.cursor().get();
  c.set_text_factory(uvsqlite::text_factory_bytes).get();
  c.execute("SELECT k FROM foo").get();
  EXPECT_EQ(c.fetchone().get()->get<Blob>(0), bytes("hello"));
  c.set_text_factory(uvsqlite::TextFactory{}).get();
  c.execute("SELECT k FROM foo").get();
  EXPECT_EQ(c.fetchone().get()->get<std::string>(0), "HELLO");
}

TEST_F(TextFactory, CursorFactoryOverridesTheDefault) {
  Cursor c = db_.execute("SELECT k FROM foo").get();
  c.set_text_factory(upper_factory).get();
  EXPECT_EQ(c.fetchall().get().at(0).get<std::string>(0), "HELLO");
  EXPECT_EQ(db_.execute_fetchall("SELECT k FROM foo").get().at(0).get<std::string>(0), "hello");
}

TEST_F(TextFactory, ThrowingFactoryExceptionArrivesFromTheFetch) {
  db_.set_text_factory(throwing_factory).get();
  Cursor c = db_.execute("SELECT k FROM foo").get();
  auto e = catch_as<FactoryError>([&] { (void)c.fetchone().get(); });
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "cannot decode hello");
  auto e2 = catch_as<FactoryError>([&] { (void)db_.execute_fetchall("SELECT 'x'").get(); });
  ASSERT_TRUE(e2);
  EXPECT_STREQ(e2->what(), "cannot decode x");
}

TEST_F(TextFactory, ConnectionKeepsWorkingAfterAThrowingFactory) {
  db_.set_text_factory(throwing_factory).get();
  EXPECT_THROW((void)db_.execute_fetchall("SELECT k FROM foo").get(), FactoryError);
  // Rows without text never call the factory.
  EXPECT_EQ(db_.execute_fetchall("SELECT i FROM foo").get().at(0)[0], Value(1));
  db_.set_text_factory(uvsqlite::text_factory_str).get();
  EXPECT_EQ(db_.execute_fetchall("SELECT k FROM foo").get().at(0)[0], Value("hello"));
}

// ---------------------------------------------------------------------------------------------
// Text factories, callback form

class TextFactoryCallbacks : public uvsqlite::test::LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    db_ = open();
    db_.executescript("CREATE TABLE foo(i INT, k TEXT); INSERT INTO foo VALUES (1, 'hello');").get();
  }
  void TearDown() override {
    close(db_);
    LoopTest::TearDown();
  }

  uvsqlite::Connection db_;
};

TEST_F(TextFactoryCallbacks, BytesFactorySetAndUsedThroughCallbacks) {
  std::vector<Row> got;
  bool set = false;
  bool fetched = false;
  db_.set_text_factory(uvsqlite::text_factory_bytes, [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    set = true;
  });
  db_.execute_fetchall("SELECT i, k FROM foo", [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    EXPECT_TRUE(set) << "callbacks run in submission order";
    got = std::move(rows);
    fetched = true;
  });
  EXPECT_FALSE(set);
  run();
  ASSERT_TRUE(fetched);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0][0], Value(1));
  EXPECT_EQ(got[0].get<Blob>(1), bytes("hello"));
}

TEST_F(TextFactoryCallbacks, CursorFactoryThroughCallbacks) {
  Cursor c = db_.execute("SELECT k FROM foo").get();
  std::optional<Row> got;
  bool done = false;
  c.set_text_factory(upper_factory, [&](std::exception_ptr e) { EXPECT_FALSE(e); });
  c.fetchone([&](std::exception_ptr e, std::optional<Row> row) {
    EXPECT_FALSE(e);
    got = std::move(row);
    done = true;
  });
  run();
  ASSERT_TRUE(done);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->get<std::string>(0), "HELLO");
}

TEST_F(TextFactoryCallbacks, ThrowingFactoryExceptionArrivesInTheCallback) {
  db_.set_text_factory(throwing_factory).get();
  std::exception_ptr error;
  bool called = false;
  db_.execute_fetchall("SELECT k FROM foo", [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_TRUE(rows.empty());
    error = e;
    called = true;
  });
  run();
  ASSERT_TRUE(called);
  auto e = error_as<FactoryError>(error);
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "cannot decode hello");
}

// ---------------------------------------------------------------------------------------------
// Typed rows, future form

class RowCast : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.executescript(
           "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT); "
           "INSERT INTO people VALUES (1, 'ada'), (2, 'bob'), (3, 'cy');")
        .get();
  }
  void TearDown() override { db_.close().get(); }

  Cursor select() { return db_.execute("SELECT id, name FROM people ORDER BY id").get(); }
  void expect_working() {
    EXPECT_EQ(db_.execute_fetchall("SELECT count(*) FROM people").get().at(0)[0], Value(3));
  }

  uvsqlite::Connection db_ = uvsqlite::connect(":memory:").get();
};

TEST_F(RowCast, AsUnpacksIntoStructuredBindings) {
  auto rows = db_.execute_fetchall("SELECT 7, 'seven', NULL").get();
  ASSERT_EQ(rows.size(), 1U);
  auto [n, s, none] = rows[0].as<int, std::string, std::optional<std::string>>();
  EXPECT_EQ(n, 7);
  EXPECT_EQ(s, "seven");
  EXPECT_EQ(none, std::nullopt);
}

TEST_F(RowCast, AsOfTheWrongArityIsAnInterfaceError) {
  auto rows = db_.execute_fetchall("SELECT 7, 'seven'").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_THROW((void)rows[0].as<int>(), uvsqlite::InterfaceError);
  EXPECT_THROW((void)(rows[0].as<int, std::string, int>()), uvsqlite::InterfaceError);
  EXPECT_THROW((void)(rows[0].as<std::string, std::string>()), uvsqlite::InterfaceError);
}

TEST_F(RowCast, FetchallAsTuples) {
  std::vector<IdName> got = select().fetchall<IdName>().get();
  EXPECT_EQ(got, (std::vector<IdName>{{1, "ada"}, {2, "bob"}, {3, "cy"}}));
}

TEST_F(RowCast, FetchallAsPairs) {
  std::vector<IdNamePair> got = select().fetchall<IdNamePair>().get();
  EXPECT_EQ(got, (std::vector<IdNamePair>{{1, "ada"}, {2, "bob"}, {3, "cy"}}));
}

TEST_F(RowCast, FetchallReturnsOnlyTheRemainingRows) {
  Cursor c = select();
  ASSERT_TRUE(c.fetchone().get().has_value());
  EXPECT_EQ(c.fetchall<IdNamePair>().get(), (std::vector<IdNamePair>{{2, "bob"}, {3, "cy"}}));
  EXPECT_TRUE(c.fetchall<IdNamePair>().get().empty());
}

TEST_F(RowCast, FetchallAsAStructWithARowConstructor) {
  // Column names, not positions: the constructor reads "id" and "name".
  std::vector<Person> got =
      db_.execute("SELECT name, id FROM people ORDER BY id DESC").get().fetchall<Person>().get();
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got[0].id, 3);
  EXPECT_EQ(got[0].name, "cy");
  EXPECT_EQ(got[2].id, 1);
  EXPECT_EQ(got[2].name, "ada");
}

TEST_F(RowCast, FetchallAsAStructWithRowTraits) {
  std::vector<Label> got = select().fetchall<Label>().get();
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got[0].text, "ada#1");
  EXPECT_EQ(got[1].text, "bob#2");
  EXPECT_EQ(got[2].text, "cy#3");
}

TEST_F(RowCast, RowTraitsTakePriorityOverARowConstructor) {
  auto got = select().fetchone<Both>().get();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->how, "traits");
  EXPECT_EQ(uvsqlite::row_cast<Both>(db_.execute_fetchall("SELECT 1").get().at(0)).how, "traits");
}

TEST_F(RowCast, RowCastDirectly) {
  auto rows = db_.execute_fetchall("SELECT id, name FROM people WHERE id = 2").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(uvsqlite::row_cast<IdName>(rows[0]), IdName(2, "bob"));
  EXPECT_EQ(uvsqlite::row_cast<Person>(rows[0]).name, "bob");
  EXPECT_EQ(uvsqlite::row_cast<Label>(rows[0]).text, "bob#2");
}

TEST_F(RowCast, FetchoneAsTypeThenNulloptAtTheEnd) {
  Cursor c = select();
  EXPECT_EQ(c.fetchone<IdNamePair>().get(), std::optional<IdNamePair>(IdNamePair{1, "ada"}));
  auto person = c.fetchone<Person>().get();
  ASSERT_TRUE(person.has_value());
  EXPECT_EQ(person->name, "bob");
  auto label = c.fetchone<Label>().get();
  ASSERT_TRUE(label.has_value());
  EXPECT_EQ(label->text, "cy#3");
  EXPECT_EQ(c.fetchone<IdNamePair>().get(), std::nullopt);
  EXPECT_EQ(c.fetchone<Person>().get().has_value(), false);
}

TEST_F(RowCast, FetchoneAsTypeOnAnEmptyResultIsNullopt) {
  Cursor c = db_.execute("SELECT id, name FROM people WHERE id > 100").get();
  EXPECT_EQ(c.fetchone<IdName>().get(), std::nullopt);
}

TEST_F(RowCast, WrongArityIsAnInterfaceErrorThroughTheFuture) {
  auto e =
      catch_as<uvsqlite::InterfaceError>([&] { (void)select().fetchall<std::tuple<std::int64_t>>().get(); });
  EXPECT_TRUE(e);
  EXPECT_THROW((void)(select().fetchone<std::tuple<std::int64_t, std::string, std::string>>().get()),
               uvsqlite::InterfaceError);
  expect_working();
}

TEST_F(RowCast, WrongTypeIsAnInterfaceErrorThroughTheFuture) {
  // name is TEXT: reading it as an integer never converts silently.
  EXPECT_THROW((void)(select().fetchall<std::pair<std::int64_t, std::int64_t>>().get()),
               uvsqlite::InterfaceError);
  EXPECT_THROW((void)(select().fetchone<std::tuple<std::string, std::string>>().get()),
               uvsqlite::InterfaceError);
  // A constructor that asks for a missing column fails the same way.
  EXPECT_THROW((void)db_.execute("SELECT 1 AS id").get().fetchall<Person>().get(), uvsqlite::InterfaceError);
  expect_working();
}

// ---------------------------------------------------------------------------------------------
// Typed rows, callback form

class RowCastCallbacks : public uvsqlite::test::LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    db_ = open();
    db_.executescript(
           "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT); "
           "INSERT INTO people VALUES (1, 'ada'), (2, 'bob');")
        .get();
  }
  void TearDown() override {
    close(db_);
    LoopTest::TearDown();
  }

  Cursor select() { return db_.execute("SELECT id, name FROM people ORDER BY id").get(); }

  uvsqlite::Connection db_;
};

TEST_F(RowCastCallbacks, FetchallAsTypeDeliversOnTheLoop) {
  std::vector<Person> got;
  bool called = false;
  select().fetchall<Person>([&](std::exception_ptr e, std::vector<Person> people) {
    EXPECT_FALSE(e);
    got = std::move(people);
    called = true;
  });
  EXPECT_FALSE(called) << "never inline inside the call";
  run();
  ASSERT_TRUE(called);
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[1].id, 2);
  EXPECT_EQ(got[1].name, "bob");
}

TEST_F(RowCastCallbacks, FetchoneAsTypeThenNullopt) {
  Cursor c = select();
  std::vector<std::optional<IdName>> got;
  for (int i = 0; i < 3; ++i) {
    c.fetchone<IdName>([&](std::exception_ptr e, std::optional<IdName> row) {
      EXPECT_FALSE(e);
      got.push_back(std::move(row));
    });
  }
  run();
  EXPECT_EQ(got, (std::vector<std::optional<IdName>>{IdName{1, "ada"}, IdName{2, "bob"}, std::nullopt}));
}

TEST_F(RowCastCallbacks, ConversionRunsOnTheWorkerNotTheLoop) {
  {
    std::lock_guard lock(g_from_row_mutex);
    g_from_row_thread = {};
  }
  bool called = false;
  select().fetchall<Label>([&](std::exception_ptr e, std::vector<Label> labels) {
    EXPECT_FALSE(e);
    EXPECT_EQ(labels.size(), 2U);
    called = true;
  });
  run();
  ASSERT_TRUE(called);
  std::lock_guard lock(g_from_row_mutex);
  EXPECT_NE(g_from_row_thread, std::thread::id{}) << "from_row never ran";
  EXPECT_NE(g_from_row_thread, std::this_thread::get_id()) << "from_row ran on the loop thread";
}

TEST_F(RowCastCallbacks, WrongTypeIsAnInterfaceErrorInTheCallback) {
  std::exception_ptr error;
  bool called = false;
  select().fetchall<std::pair<std::int64_t, std::int64_t>>(
      [&](std::exception_ptr e, std::vector<std::pair<std::int64_t, std::int64_t>> rows) {
        EXPECT_TRUE(rows.empty());
        error = e;
        called = true;
      });
  run();
  ASSERT_TRUE(called);
  EXPECT_TRUE(error_as<uvsqlite::InterfaceError>(error));
}

TEST_F(RowCastCallbacks, WrongArityIsAnInterfaceErrorInTheCallbackAndTheConnectionKeepsWorking) {
  std::exception_ptr error;
  bool called = false;
  std::vector<Row> after;
  select().fetchone<std::tuple<std::int64_t>>(
      [&](std::exception_ptr e, std::optional<std::tuple<std::int64_t>> row) {
        EXPECT_EQ(row, std::nullopt);
        error = e;
        called = true;
      });
  db_.execute_fetchall("SELECT count(*) FROM people", [&](std::exception_ptr e, std::vector<Row> rows) {
    EXPECT_FALSE(e);
    after = std::move(rows);
  });
  run();
  ASSERT_TRUE(called);
  EXPECT_TRUE(error_as<uvsqlite::InterfaceError>(error));
  ASSERT_EQ(after.size(), 1U);
  EXPECT_EQ(after[0][0], Value(2));
}

}  // namespace

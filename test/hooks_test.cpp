// Hooks SQLite calls while statements run: the progress handler (abort, completion, exceptions,
// removal), the trace callback (expanded SQL, removal, exceptions) and the authorizer (deny,
// ignore, exceptions, confining untrusted SQL, removal), in the future and the callback forms.
#include <sqlite3.h>

#include <atomic>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

namespace uvsqlite::test {
namespace {

/// A query of a few hundred thousand VM instructions (a few milliseconds).
constexpr const char* kLongQuery =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT count(*) FROM c";

/// A denied statement: a DatabaseError itself (not a subclass), SQLITE_AUTH, as in Python's sqlite3.
/// SQLite says "not authorized", or "access to T.C is prohibited" for a denied column read.
void expect_not_authorized(const std::exception_ptr& error, std::string_view message = "not authorized") {
  ASSERT_TRUE(error) << "the statement was authorized";
  try {
    std::rethrow_exception(error);
  } catch (const DatabaseError& e) {
    EXPECT_EQ(typeid(e), typeid(DatabaseError)) << "got " << typeid(e).name();
    EXPECT_NE(std::string_view(e.what()).find(message), std::string_view::npos) << e.what();
    EXPECT_EQ(e.sqlite_errorname(), "SQLITE_AUTH");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type " << typeid(e).name() << ": " << e.what();
  }
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  for (const auto& s : list) {
    if (s == item) return true;
  }
  return false;
}

/// Allows nothing but SELECT statements that read table "public".
int public_only(int action, std::optional<std::string_view> arg1, std::optional<std::string_view>,
                std::optional<std::string_view>, std::optional<std::string_view>) {
  if (action == SQLITE_SELECT) return AUTH_OK;
  if (action == SQLITE_READ && arg1 == "public") return AUTH_OK;
  return AUTH_DENY;
}

class HookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.executescript(
           "CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 'one'), (2, 'two');"
           "CREATE TABLE public(x); INSERT INTO public VALUES (10);"
           "CREATE TABLE secret(y); INSERT INTO secret VALUES ('hidden');")
        .get();
  }
  void TearDown() override { db_.close().get(); }

  std::int64_t count_long_query() {
    return db_.execute_fetchall(kLongQuery).get().at(0).get<std::int64_t>(0);
  }
  std::thread::id worker_thread() {
    return db_.call([](sqlite3*) { return std::this_thread::get_id(); }).get();
  }

  Connection db_ = connect(":memory:").get();
};

// ---------------------------------------------------------------------------------------------
// Progress handler, future form

using ProgressHandlerTest = HookTest;

TEST_F(ProgressHandlerTest, NonZeroAbortsTheQueryAsInterrupted) {
  db_.set_progress_handler([] { return 1; }, 1000).get();
  auto error = error_of(db_.execute_fetchall(kLongQuery));
  expect_error<OperationalError>(error, "interrupted");
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlite_errorname(), "SQLITE_INTERRUPT");
  } catch (...) {
  }
}

TEST_F(ProgressHandlerTest, ZeroLetsTheQueryFinish) {
  int calls = 0;
  db_.set_progress_handler(
         [&calls] {
           ++calls;
           return 0;
         },
         1000)
      .get();
  EXPECT_EQ(count_long_query(), 100000);
  EXPECT_GT(calls, 0) << "the progress handler was never called";
}

TEST_F(ProgressHandlerTest, AbortsOnlyWhenAskedTo) {
  int calls = 0;
  db_.set_progress_handler([&calls] { return ++calls >= 5 ? 1 : 0; }, 1000).get();
  expect_error<OperationalError>(error_of(db_.execute_fetchall(kLongQuery)), "interrupted");
  EXPECT_EQ(calls, 5);
}

TEST_F(ProgressHandlerTest, AThrowingHandlerAbortsTheQuery) {
  db_.set_progress_handler([]() -> int { throw std::runtime_error("progress failed"); }, 1000).get();
  expect_error<OperationalError>(error_of(db_.execute_fetchall(kLongQuery)), "interrupted");
}

TEST_F(ProgressHandlerTest, EmptyHandlerRemovesIt) {
  int calls = 0;
  db_.set_progress_handler(
         [&calls] {
           ++calls;
           return 0;
         },
         1000)
      .get();
  count_long_query();
  ASSERT_GT(calls, 0);
  db_.set_progress_handler(ProgressHandler{}, 1000).get();
  const int before = calls;
  EXPECT_EQ(count_long_query(), 100000);
  EXPECT_EQ(calls, before) << "the removed handler was still called";
}

TEST_F(ProgressHandlerTest, NonPositiveIntervalRemovesIt) {
  db_.set_progress_handler([] { return 1; }, 1000).get();
  expect_error<OperationalError>(error_of(db_.execute_fetchall(kLongQuery)), "interrupted");
  db_.set_progress_handler([] { return 1; }, 0).get();
  EXPECT_EQ(count_long_query(), 100000);
}

TEST_F(ProgressHandlerTest, ReplacingTheHandler) {
  db_.set_progress_handler([] { return 1; }, 1000).get();
  db_.set_progress_handler([] { return 0; }, 1000).get();
  EXPECT_EQ(count_long_query(), 100000);
}

// ---------------------------------------------------------------------------------------------
// Trace callback, future form

using TraceCallbackTest = HookTest;

TEST_F(TraceCallbackTest, ReceivesTheExpandedSql) {
  std::vector<std::string> traced;
  db_.set_trace_callback([&traced](std::string_view sql) { traced.emplace_back(sql); }).get();
  db_.execute_fetchall("SELECT ?, ?", {1, "x"}).get();
  EXPECT_TRUE(contains(traced, "SELECT 1, 'x'")) << ::testing::PrintToString(traced);
}

TEST_F(TraceCallbackTest, ReceivesEveryStatement) {
  std::vector<std::string> traced;
  db_.set_trace_callback([&traced](std::string_view sql) { traced.emplace_back(sql); }).get();
  db_.execute("INSERT INTO t VALUES (:a, :b)", {{"a", 3}, {"b", "three"}}).get();
  db_.execute_fetchall("SELECT a FROM t WHERE a = ?", {2}).get();
  EXPECT_TRUE(contains(traced, "INSERT INTO t VALUES (3, 'three')")) << ::testing::PrintToString(traced);
  EXPECT_TRUE(contains(traced, "SELECT a FROM t WHERE a = 2")) << ::testing::PrintToString(traced);
}

TEST_F(TraceCallbackTest, EmptyCallbackRemovesIt) {
  std::vector<std::string> traced;
  db_.set_trace_callback([&traced](std::string_view sql) { traced.emplace_back(sql); }).get();
  db_.execute_fetchall("SELECT 'before'").get();
  ASSERT_TRUE(contains(traced, "SELECT 'before'")) << ::testing::PrintToString(traced);
  db_.set_trace_callback(TraceCallback{}).get();
  const auto seen = traced.size();
  db_.execute_fetchall("SELECT 'after'").get();
  EXPECT_EQ(traced.size(), seen) << ::testing::PrintToString(traced);
}

TEST_F(TraceCallbackTest, AThrowingCallbackDoesNotFailTheStatement) {
  int calls = 0;
  db_.set_trace_callback([&calls](std::string_view) {
       ++calls;
       throw std::runtime_error("trace failed");
     })
      .get();
  auto rows = db_.execute_fetchall("SELECT ?, 'y'", {7}).get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<int>(0), 7);
  EXPECT_EQ(rows[0].get<std::string>(1), "y");
  EXPECT_NO_THROW(db_.execute("INSERT INTO t VALUES (3, 'three')").get());
  EXPECT_GT(calls, 0);
}

// ---------------------------------------------------------------------------------------------
// Authorizer, future form

using AuthorizerTest = HookTest;

TEST_F(AuthorizerTest, DenyingDeleteIsADatabaseError) {
  db_.set_authorizer(
         [](int action, auto, auto, auto, auto) { return action == SQLITE_DELETE ? AUTH_DENY : AUTH_OK; })
      .get();
  expect_not_authorized(error_of(db_.execute("DELETE FROM t")));
  EXPECT_EQ(db_.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 2);
}

TEST_F(AuthorizerTest, IgnoringAColumnReadGivesNull) {
  db_.set_authorizer([](int action, std::optional<std::string_view> table,
                        std::optional<std::string_view> column, auto, auto) {
       return (action == SQLITE_READ && table == "t" && column == "b") ? AUTH_IGNORE : AUTH_OK;
     })
      .get();
  auto rows = db_.execute_fetchall("SELECT a, b FROM t ORDER BY a").get();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].get<int>(0), 1);
  EXPECT_TRUE(rows[0][1].is_null());
  EXPECT_TRUE(rows[1][1].is_null());
}

TEST_F(AuthorizerTest, ReceivesTheDetailsOfARead) {
  std::vector<std::string> reads;
  db_.set_authorizer(
         [&reads](int action, std::optional<std::string_view> table, std::optional<std::string_view> column,
                  std::optional<std::string_view> database, std::optional<std::string_view> trigger) {
           if (action == SQLITE_READ) {
             reads.push_back(std::string(table.value_or("?")) + "." + std::string(column.value_or("?")) +
                             "@" + std::string(database.value_or("?")) + (trigger ? "!" : ""));
           }
           return AUTH_OK;
         })
      .get();
  db_.execute_fetchall("SELECT b FROM t").get();
  EXPECT_TRUE(contains(reads, "t.b@main")) << ::testing::PrintToString(reads);
}

TEST_F(AuthorizerTest, AThrowingAuthorizerDenies) {
  db_.set_authorizer(
         [](int, auto, auto, auto, auto) -> int { throw std::runtime_error("authorizer failed"); })
      .get();
  expect_not_authorized(error_of(db_.execute_fetchall("SELECT a FROM t")));
}

TEST_F(AuthorizerTest, AnUnknownResultDenies) {
  db_.set_authorizer([](int, auto, auto, auto, auto) { return 12345; }).get();
  expect_not_authorized(error_of(db_.execute_fetchall("SELECT a FROM t")));
}

TEST_F(AuthorizerTest, ConfinesUntrustedSqlToSelectOnOneTable) {
  db_.set_authorizer(public_only).get();
  auto rows = db_.execute_fetchall("SELECT x FROM public").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<int>(0), 10);
  expect_not_authorized(error_of(db_.execute_fetchall("SELECT y FROM secret")),
                        "access to secret.y is prohibited");
  expect_not_authorized(error_of(db_.execute_fetchall("SELECT x FROM public UNION ALL SELECT y FROM secret")),
                        "access to secret.y is prohibited");
  expect_not_authorized(error_of(db_.execute("INSERT INTO public VALUES (11)")));
  expect_not_authorized(error_of(db_.execute("DROP TABLE public")));
  expect_not_authorized(error_of(db_.execute("DELETE FROM secret")));
  expect_not_authorized(error_of(db_.execute("CREATE TABLE more(z)")));
  // Nothing changed.
  db_.set_authorizer(Authorizer{}).get();
  EXPECT_EQ(db_.execute_fetchall("SELECT count(*) FROM public").get().at(0).get<int>(0), 1);
  EXPECT_EQ(db_.execute_fetchall("SELECT y FROM secret").get().at(0).get<std::string>(0), "hidden");
}

TEST_F(AuthorizerTest, EmptyAuthorizerRestoresAccess) {
  db_.set_authorizer([](int, auto, auto, auto, auto) { return AUTH_DENY; }).get();
  expect_not_authorized(error_of(db_.execute("DELETE FROM t WHERE a = 1")));
  db_.set_authorizer(Authorizer{}).get();
  EXPECT_NO_THROW(db_.execute("DELETE FROM t WHERE a = 1").get());
  EXPECT_EQ(db_.execute_fetchall("SELECT count(*) FROM t").get().at(0).get<int>(0), 1);
}

TEST_F(AuthorizerTest, AppliesToStatementsPreparedBeforeIt) {
  // The same SQL ran before the authorizer: a cached statement must be authorized again.
  EXPECT_EQ(db_.execute_fetchall("SELECT y FROM secret").get().size(), 1U);
  db_.set_authorizer(public_only).get();
  expect_not_authorized(error_of(db_.execute_fetchall("SELECT y FROM secret")),
                        "access to secret.y is prohibited");
}

// ---------------------------------------------------------------------------------------------
// Threads

using HookThreadTest = HookTest;

TEST_F(HookThreadTest, HooksRunOnTheWorkerThread) {
  std::thread::id progress;
  std::thread::id trace;
  std::thread::id authorizer;
  db_.set_progress_handler(
         [&progress] {
           progress = std::this_thread::get_id();
           return 0;
         },
         100)
      .get();
  db_.set_trace_callback([&trace](std::string_view) { trace = std::this_thread::get_id(); }).get();
  db_.set_authorizer([&authorizer](int, auto, auto, auto, auto) {
       authorizer = std::this_thread::get_id();
       return AUTH_OK;
     })
      .get();
  count_long_query();
  const auto worker = worker_thread();
  EXPECT_NE(worker, std::this_thread::get_id());
  EXPECT_EQ(progress, worker);
  EXPECT_EQ(trace, worker);
  EXPECT_EQ(authorizer, worker);
}

// ---------------------------------------------------------------------------------------------
// Callback form

class HookCallbackTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    db_ = open();
    db_.executescript("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2);").get();
  }
  void TearDown() override {
    close(db_);
    db_ = Connection{};
    LoopTest::TearDown();
  }

  std::vector<Row> fetch(const std::string& sql, std::exception_ptr* error = nullptr, Params params = {}) {
    bool done = false;
    std::vector<Row> rows;
    db_.execute_fetchall(sql, std::move(params), [&](std::exception_ptr e, std::vector<Row> r) {
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

  Connection db_;
};

TEST_F(HookCallbackTest, ProgressHandlerAbortsAndIsRemovable) {
  EXPECT_FALSE(wait_void([&](auto cb) { db_.set_progress_handler([] { return 1; }, 1000, std::move(cb)); }));
  std::exception_ptr error;
  fetch(kLongQuery, &error);
  expect_error<OperationalError>(error, "interrupted");
  EXPECT_FALSE(wait_void([&](auto cb) { db_.set_progress_handler(ProgressHandler{}, 1000, std::move(cb)); }));
  auto rows = fetch(kLongQuery);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<int>(0), 100000);
}

TEST_F(HookCallbackTest, ProgressHandlerThatReturnsZeroIsCalled) {
  int calls = 0;
  EXPECT_FALSE(wait_void([&](auto cb) {
    db_.set_progress_handler(
        [&calls] {
          ++calls;
          return 0;
        },
        1000, std::move(cb));
  }));
  EXPECT_EQ(fetch(kLongQuery).at(0).get<int>(0), 100000);
  EXPECT_GT(calls, 0);
}

TEST_F(HookCallbackTest, TraceCallbackReceivesExpandedSqlAndIsRemovable) {
  std::vector<std::string> traced;
  EXPECT_FALSE(wait_void([&](auto cb) {
    db_.set_trace_callback([&traced](std::string_view sql) { traced.emplace_back(sql); }, std::move(cb));
  }));
  fetch("SELECT ?, ?", nullptr, {1, "x"});
  EXPECT_TRUE(contains(traced, "SELECT 1, 'x'")) << ::testing::PrintToString(traced);
  EXPECT_FALSE(wait_void([&](auto cb) { db_.set_trace_callback(TraceCallback{}, std::move(cb)); }));
  const auto seen = traced.size();
  fetch("SELECT 2");
  EXPECT_EQ(traced.size(), seen);
}

TEST_F(HookCallbackTest, ThrowingTraceCallbackDoesNotFailTheStatement) {
  EXPECT_FALSE(wait_void([&](auto cb) {
    db_.set_trace_callback([](std::string_view) { throw std::runtime_error("trace failed"); }, std::move(cb));
  }));
  EXPECT_EQ(fetch("SELECT 5").at(0).get<int>(0), 5);
}

TEST_F(HookCallbackTest, AuthorizerDeniesDeleteAndIsRemovable) {
  EXPECT_FALSE(wait_void([&](auto cb) {
    db_.set_authorizer(
        [](int action, auto, auto, auto, auto) { return action == SQLITE_DELETE ? AUTH_DENY : AUTH_OK; },
        std::move(cb));
  }));
  std::exception_ptr error;
  fetch("DELETE FROM t", &error);
  expect_not_authorized(error);
  EXPECT_EQ(fetch("SELECT count(*) FROM t").at(0).get<int>(0), 2);
  EXPECT_FALSE(wait_void([&](auto cb) { db_.set_authorizer(Authorizer{}, std::move(cb)); }));
  fetch("DELETE FROM t");
  EXPECT_EQ(fetch("SELECT count(*) FROM t").at(0).get<int>(0), 0);
}

TEST_F(HookCallbackTest, AuthorizerIgnoreAndThrow) {
  EXPECT_FALSE(wait_void([&](auto cb) {
    db_.set_authorizer(
        [](int action, auto, auto, auto, auto) { return action == SQLITE_READ ? AUTH_IGNORE : AUTH_OK; },
        std::move(cb));
  }));
  auto rows = fetch("SELECT a FROM t");
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_TRUE(rows[0][0].is_null());
  EXPECT_FALSE(wait_void([&](auto cb) {
    db_.set_authorizer([](int, auto, auto, auto, auto) -> int { throw std::runtime_error("no"); },
                       std::move(cb));
  }));
  std::exception_ptr error;
  fetch("SELECT a FROM t", &error);
  expect_not_authorized(error);
  EXPECT_FALSE(wait_void([&](auto cb) { db_.set_authorizer(Authorizer{}, std::move(cb)); }));
}

}  // namespace
}  // namespace uvsqlite::test

// SQLite extensions: enable_load_extension / load_extension with the tiny extension built from
// support/test_extension.c (half(x) = x / 2.0): refused by default, loaded once enabled (default
// and explicit entry points), bad paths, disabling again, the SQL function load_extension().
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "support/test_support.hpp"

#ifndef UVSQLITE_TEST_EXTENSION
#error "UVSQLITE_TEST_EXTENSION (the path of the test extension) must be defined by the build"
#endif

namespace uvsqlite::test {
namespace {

constexpr const char* kExtension = UVSQLITE_TEST_EXTENSION;
constexpr const char* kEntryPoint = "sqlite3_testextension_init";

// ---------------------------------------------------------------------------------------------
// Future form

class ExtensionTest : public ::testing::Test {
 protected:
  void TearDown() override { db_.close().get(); }
  double half_of_5() { return db_.execute_fetchall("SELECT half(5)").get().at(0).get<double>(0); }
  Connection db_ = connect(":memory:").get();
};

TEST_F(ExtensionTest, LoadingIsRefusedByDefault) {
  expect_error<OperationalError>(error_of(db_.load_extension(kExtension)), "not authorized");
  expect_error<OperationalError>(error_of(db_.execute("SELECT half(5)")), "no such function: half");
}

TEST_F(ExtensionTest, LoadsOnceEnabled) {
  db_.enable_load_extension(true).get();
  EXPECT_NO_THROW(db_.load_extension(kExtension).get());
  EXPECT_DOUBLE_EQ(half_of_5(), 2.5);
}

TEST_F(ExtensionTest, LoadsWithAnExplicitEntryPoint) {
  db_.enable_load_extension(true).get();
  EXPECT_NO_THROW(db_.load_extension(kExtension, kEntryPoint).get());
  EXPECT_DOUBLE_EQ(half_of_5(), 2.5);
}

TEST_F(ExtensionTest, AMissingEntryPointIsAnOperationalError) {
  db_.enable_load_extension(true).get();
  expect_error<OperationalError>(error_of(db_.load_extension(kExtension, "sqlite3_no_such_init")));
  expect_error<OperationalError>(error_of(db_.execute("SELECT half(5)")), "no such function: half");
}

TEST_F(ExtensionTest, AWrongPathIsAnOperationalError) {
  db_.enable_load_extension(true).get();
  expect_error<OperationalError>(error_of(db_.load_extension("/nonexistent/uvsqlite/no_such_extension")));
  // The connection keeps working, and the real extension still loads.
  EXPECT_NO_THROW(db_.load_extension(kExtension).get());
  EXPECT_DOUBLE_EQ(half_of_5(), 2.5);
}

TEST_F(ExtensionTest, DisablingAgainBlocksLoading) {
  db_.enable_load_extension(true).get();
  db_.enable_load_extension(false).get();
  expect_error<OperationalError>(error_of(db_.load_extension(kExtension)), "not authorized");
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT load_extension(?)", {kExtension})),
                                 "not authorized");
}

TEST_F(ExtensionTest, AlreadyLoadedFunctionsStayAfterDisabling) {
  db_.enable_load_extension(true).get();
  db_.load_extension(kExtension).get();
  db_.enable_load_extension(false).get();
  EXPECT_DOUBLE_EQ(half_of_5(), 2.5);
}

TEST_F(ExtensionTest, SqlFunctionLoadExtensionIsRefusedWhileDisabled) {
  expect_error<OperationalError>(error_of(db_.execute_fetchall("SELECT load_extension(?)", {kExtension})),
                                 "not authorized");
  expect_error<OperationalError>(error_of(db_.execute("SELECT half(5)")), "no such function: half");
}

TEST_F(ExtensionTest, SqlFunctionLoadExtensionWorksOnceEnabled) {
  db_.enable_load_extension(true).get();
  db_.execute_fetchall("SELECT load_extension(?, ?)", {kExtension, kEntryPoint}).get();
  EXPECT_DOUBLE_EQ(half_of_5(), 2.5);
}

TEST_F(ExtensionTest, EnablingIsPerConnection) {
  db_.enable_load_extension(true).get();
  auto other = connect(":memory:").get();
  expect_error<OperationalError>(error_of(other.load_extension(kExtension)), "not authorized");
  other.close().get();
}

TEST(ExtensionAfterClose, FailsWithProgrammingError) {
  auto db = connect(":memory:").get();
  db.close().get();
  expect_error<ProgrammingError>(error_of(db.enable_load_extension(true)));
  expect_error<ProgrammingError>(error_of(db.load_extension(kExtension)));
}

// ---------------------------------------------------------------------------------------------
// Callback form

class ExtensionCallbackTest : public LoopTest {
 protected:
  std::exception_ptr fetch(const Connection& db, const std::string& sql, std::vector<Row>* rows = nullptr) {
    bool done = false;
    std::exception_ptr error;
    db.execute_fetchall(sql, [&](std::exception_ptr e, std::vector<Row> r) {
      error = e;
      if (rows != nullptr) *rows = std::move(r);
      done = true;
    });
    EXPECT_TRUE(run_until([&] { return done; }));
    return error;
  }
};

TEST_F(ExtensionCallbackTest, RefusedByDefault) {
  auto db = open();
  expect_error<OperationalError>(wait_void([&](auto cb) { db.load_extension(kExtension, std::move(cb)); }),
                                 "not authorized");
  expect_error<OperationalError>(fetch(db, std::string("SELECT load_extension('") + kExtension + "')"),
                                 "not authorized");
  close(db);
}

TEST_F(ExtensionCallbackTest, EnableThenLoad) {
  auto db = open();
  EXPECT_FALSE(wait_void([&](auto cb) { db.enable_load_extension(true, std::move(cb)); }));
  EXPECT_FALSE(wait_void([&](auto cb) { db.load_extension(kExtension, std::move(cb)); }));
  std::vector<Row> rows;
  EXPECT_FALSE(fetch(db, "SELECT half(5)", &rows));
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_DOUBLE_EQ(rows[0].get<double>(0), 2.5);
  close(db);
}

TEST_F(ExtensionCallbackTest, ExplicitEntryPointAndWrongPath) {
  auto db = open();
  EXPECT_FALSE(wait_void([&](auto cb) { db.enable_load_extension(true, std::move(cb)); }));
  expect_error<OperationalError>(wait_void(
      [&](auto cb) { db.load_extension("/nonexistent/uvsqlite/no_such_extension", std::move(cb)); }));
  EXPECT_FALSE(wait_void([&](auto cb) { db.load_extension(kExtension, kEntryPoint, std::move(cb)); }));
  std::vector<Row> rows;
  EXPECT_FALSE(fetch(db, "SELECT half(3)", &rows));
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_DOUBLE_EQ(rows[0].get<double>(0), 1.5);
  close(db);
}

TEST_F(ExtensionCallbackTest, DisablingAgainBlocksLoading) {
  auto db = open();
  EXPECT_FALSE(wait_void([&](auto cb) { db.enable_load_extension(true, std::move(cb)); }));
  EXPECT_FALSE(wait_void([&](auto cb) { db.enable_load_extension(false, std::move(cb)); }));
  expect_error<OperationalError>(wait_void([&](auto cb) { db.load_extension(kExtension, std::move(cb)); }),
                                 "not authorized");
  close(db);
}

}  // namespace
}  // namespace uvsqlite::test

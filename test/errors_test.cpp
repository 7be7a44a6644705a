// Errors: the DB-API class tree, SQLite error codes and names, and the result-code mapping.

#include <sqlite3.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>

#include "support/test_support.hpp"

namespace {

using uvsqlite::test::catch_as;
using uvsqlite::test::contains;

namespace u = uvsqlite;

// Runs f and returns the E it throws (sliced to E), or nullopt and a failure.
// The dynamic class of the exception held by p.
std::type_index class_of(const std::exception_ptr& p) {
  try {
    std::rethrow_exception(p);
  } catch (const std::exception& e) {
    return typeid(e);
  } catch (...) {
    return typeid(void);
  }
}

int code_of(const std::exception_ptr& p) {
  try {
    std::rethrow_exception(p);
  } catch (const u::Error& e) {
    return e.sqlite_errorcode();
  } catch (...) {
    return -2;
  }
}

std::string message_of(const std::exception_ptr& p) {
  try {
    std::rethrow_exception(p);
  } catch (const std::exception& e) {
    return e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// The class tree

TEST(ErrorTree, ErrorIsARuntimeError) {
  EXPECT_TRUE((std::is_base_of_v<std::runtime_error, u::Error>));
  u::Error e("boom");
  EXPECT_STREQ(e.what(), "boom");
}

TEST(ErrorTree, WarningIsNotAnError) {
  EXPECT_FALSE((std::is_base_of_v<u::Error, u::Warning>));
  EXPECT_TRUE((std::is_base_of_v<std::exception, u::Warning>));
}

TEST(ErrorTree, DatabaseErrorSubclasses) {
  EXPECT_TRUE((std::is_base_of_v<u::DatabaseError, u::DataError>));
  EXPECT_TRUE((std::is_base_of_v<u::DatabaseError, u::OperationalError>));
  EXPECT_TRUE((std::is_base_of_v<u::DatabaseError, u::IntegrityError>));
  EXPECT_TRUE((std::is_base_of_v<u::DatabaseError, u::InternalError>));
  EXPECT_TRUE((std::is_base_of_v<u::DatabaseError, u::ProgrammingError>));
  EXPECT_TRUE((std::is_base_of_v<u::DatabaseError, u::NotSupportedError>));
}

TEST(ErrorTree, EveryClassButWarningIsAnError) {
  EXPECT_TRUE((std::is_base_of_v<u::Error, u::InterfaceError>));
  EXPECT_TRUE((std::is_base_of_v<u::Error, u::DatabaseError>));
  EXPECT_TRUE((std::is_base_of_v<u::Error, u::DataError>));
  EXPECT_TRUE((std::is_base_of_v<u::Error, u::OperationalError>));
  EXPECT_TRUE((std::is_base_of_v<u::Error, u::IntegrityError>));
  EXPECT_TRUE((std::is_base_of_v<u::Error, u::InternalError>));
  EXPECT_TRUE((std::is_base_of_v<u::Error, u::ProgrammingError>));
  EXPECT_TRUE((std::is_base_of_v<u::Error, u::NotSupportedError>));
}

TEST(ErrorTree, InterfaceErrorIsNotADatabaseError) {
  EXPECT_FALSE((std::is_base_of_v<u::DatabaseError, u::InterfaceError>));
}

TEST(ErrorTree, CatchableAsDatabaseErrorAndError) {
  EXPECT_THROW(throw u::IntegrityError("x", SQLITE_CONSTRAINT), u::DatabaseError);
  EXPECT_THROW(throw u::OperationalError("x"), u::Error);
  EXPECT_THROW(throw u::InterfaceError("x"), u::Error);
}

TEST(ErrorCode, OwnErrorsHaveCodeMinusOneAndEmptyName) {
  u::ProgrammingError e("mine");
  EXPECT_EQ(e.sqlite_errorcode(), -1);
  EXPECT_EQ(e.sqlite_errorname(), "");
  EXPECT_STREQ(e.what(), "mine");
}

TEST(ErrorCode, ErrorNameComesFromTheCode) {
  u::IntegrityError e("UNIQUE constraint failed: t.a", SQLITE_CONSTRAINT_UNIQUE);
  EXPECT_EQ(e.sqlite_errorcode(), 2067);
  EXPECT_EQ(e.sqlite_errorname(), "SQLITE_CONSTRAINT_UNIQUE");
}

// ---------------------------------------------------------------------------------------------
// sqlite_error_name

TEST(ErrorName, PrimaryCodes) {
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_ERROR), "SQLITE_ERROR");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_BUSY), "SQLITE_BUSY");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_CANTOPEN), "SQLITE_CANTOPEN");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_READONLY), "SQLITE_READONLY");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_CONSTRAINT), "SQLITE_CONSTRAINT");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_MISUSE), "SQLITE_MISUSE");
}

TEST(ErrorName, ExtendedCodes) {
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_CONSTRAINT_UNIQUE), "SQLITE_CONSTRAINT_UNIQUE");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_CONSTRAINT_PRIMARYKEY), "SQLITE_CONSTRAINT_PRIMARYKEY");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_CONSTRAINT_NOTNULL), "SQLITE_CONSTRAINT_NOTNULL");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_CONSTRAINT_CHECK), "SQLITE_CONSTRAINT_CHECK");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_CONSTRAINT_FOREIGNKEY), "SQLITE_CONSTRAINT_FOREIGNKEY");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_IOERR_READ), "SQLITE_IOERR_READ");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_BUSY_SNAPSHOT), "SQLITE_BUSY_SNAPSHOT");
  EXPECT_STREQ(u::sqlite_error_name(SQLITE_READONLY_DBMOVED), "SQLITE_READONLY_DBMOVED");
}

TEST(ErrorName, UnknownCode) { EXPECT_STREQ(u::sqlite_error_name(123456), "SQLITE_UNKNOWN"); }

// ---------------------------------------------------------------------------------------------
// make_sqlite_error: the class CPython 3.11 raises for each primary result code

TEST(ErrorMapping, InternalAndNotFoundAreInternalError) {
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_INTERNAL, "m")), typeid(u::InternalError));
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_NOTFOUND, "m")), typeid(u::InternalError));
}

TEST(ErrorMapping, OperationalCodesAreOperationalError) {
  for (int code : {SQLITE_ERROR, SQLITE_PERM, SQLITE_ABORT, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY,
                   SQLITE_INTERRUPT, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_PROTOCOL,
                   SQLITE_EMPTY, SQLITE_SCHEMA}) {
    EXPECT_EQ(class_of(u::make_sqlite_error(code, "m")), typeid(u::OperationalError)) << "code " << code;
  }
}

TEST(ErrorMapping, NomemIsOperationalError) {
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_NOMEM, "m")), typeid(u::OperationalError));
}

TEST(ErrorMapping, CorruptIsExactlyDatabaseError) {
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_CORRUPT, "m")), typeid(u::DatabaseError));
}

TEST(ErrorMapping, TooBigIsDataError) {
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_TOOBIG, "m")), typeid(u::DataError));
}

TEST(ErrorMapping, ConstraintAndMismatchAreIntegrityError) {
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_CONSTRAINT, "m")), typeid(u::IntegrityError));
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_MISMATCH, "m")), typeid(u::IntegrityError));
}

TEST(ErrorMapping, MisuseAndRangeAreInterfaceError) {
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_MISUSE, "m")), typeid(u::InterfaceError));
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_RANGE, "m")), typeid(u::InterfaceError));
}

TEST(ErrorMapping, OtherCodesAreDatabaseError) {
  for (int code : {SQLITE_FORMAT, SQLITE_NOLFS, SQLITE_AUTH, SQLITE_NOTADB}) {
    EXPECT_EQ(class_of(u::make_sqlite_error(code, "m")), typeid(u::DatabaseError)) << "code " << code;
  }
}

TEST(ErrorMapping, ExtendedCodeSelectsClassByPrimaryCode) {
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_CONSTRAINT_UNIQUE, "m")), typeid(u::IntegrityError));
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_IOERR_READ, "m")), typeid(u::OperationalError));
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_BUSY_SNAPSHOT, "m")), typeid(u::OperationalError));
  EXPECT_EQ(class_of(u::make_sqlite_error(SQLITE_CORRUPT_VTAB, "m")), typeid(u::DatabaseError));
}

TEST(ErrorMapping, KeepsExtendedCodeAndMessage) {
  auto p = u::make_sqlite_error(SQLITE_IOERR_READ, "disk I/O error");
  EXPECT_EQ(code_of(p), SQLITE_IOERR_READ);
  EXPECT_EQ(message_of(p), "disk I/O error");
}

TEST(ErrorMapping, ThrowSqliteErrorThrowsTheMappedClass) {
  auto e = catch_as<u::IntegrityError>([] { u::throw_sqlite_error(SQLITE_CONSTRAINT_CHECK, "chk"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), SQLITE_CONSTRAINT_CHECK);
  EXPECT_EQ(e->sqlite_errorname(), "SQLITE_CONSTRAINT_CHECK");
  EXPECT_STREQ(e->what(), "chk");
}

// ---------------------------------------------------------------------------------------------
// Real SQL errors (verified against Python 3.11's sqlite3)

class SqlErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.execute("CREATE TABLE u(a INTEGER PRIMARY KEY, b UNIQUE, c NOT NULL DEFAULT 0, d CHECK (d > 0))")
        .get();
    db_.execute("INSERT INTO u VALUES (1, 1, 1, 1)").get();
  }
  void TearDown() override { db_.close().get(); }

  u::Connection db_ = u::connect(":memory:").get();
};

TEST_F(SqlErrors, SyntaxErrorIsOperationalError) {
  auto e = catch_as<u::OperationalError>([&] { (void)db_.execute("selec 1").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), 1);
  EXPECT_EQ(e->sqlite_errorname(), "SQLITE_ERROR");
  EXPECT_TRUE(contains(e->what(), "near \"selec\": syntax error")) << e->what();
}

TEST_F(SqlErrors, NoSuchTableIsOperationalError) {
  auto e = catch_as<u::OperationalError>([&] { (void)db_.execute("SELECT * FROM missing").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), SQLITE_ERROR);
  EXPECT_STREQ(e->what(), "no such table: missing");
}

TEST_F(SqlErrors, UniqueIsIntegrityError2067) {
  auto e = catch_as<u::IntegrityError>([&] { (void)db_.execute("INSERT INTO u VALUES (2, 1, 1, 1)").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), 2067);
  EXPECT_EQ(e->sqlite_errorname(), "SQLITE_CONSTRAINT_UNIQUE");
  EXPECT_STREQ(e->what(), "UNIQUE constraint failed: u.b");
}

TEST_F(SqlErrors, PrimaryKeyIsIntegrityError1555) {
  auto e = catch_as<u::IntegrityError>([&] { (void)db_.execute("INSERT INTO u VALUES (1, 2, 1, 1)").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), 1555);
  EXPECT_EQ(e->sqlite_errorname(), "SQLITE_CONSTRAINT_PRIMARYKEY");
  EXPECT_STREQ(e->what(), "UNIQUE constraint failed: u.a");
}

TEST_F(SqlErrors, NotNullIsIntegrityError) {
  auto e =
      catch_as<u::IntegrityError>([&] { (void)db_.execute("INSERT INTO u VALUES (3, 3, NULL, 1)").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), SQLITE_CONSTRAINT_NOTNULL);
  EXPECT_EQ(e->sqlite_errorname(), "SQLITE_CONSTRAINT_NOTNULL");
  EXPECT_STREQ(e->what(), "NOT NULL constraint failed: u.c");
}

TEST_F(SqlErrors, CheckIsIntegrityError) {
  auto e =
      catch_as<u::IntegrityError>([&] { (void)db_.execute("INSERT INTO u VALUES (4, 4, 1, -1)").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), SQLITE_CONSTRAINT_CHECK);
  EXPECT_EQ(e->sqlite_errorname(), "SQLITE_CONSTRAINT_CHECK");
  EXPECT_STREQ(e->what(), "CHECK constraint failed: d > 0");
}

TEST_F(SqlErrors, ConstraintViolationFromParametersToo) {
  auto e = catch_as<u::IntegrityError>([&] {
    (void)db_.execute("INSERT INTO u VALUES (?, ?, ?, ?)", {5, 1, 1, 1}).get();
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), 2067);
}

TEST_F(SqlErrors, ConnectionUsableAfterAnError) {
  EXPECT_THROW((void)db_.execute("INSERT INTO u VALUES (2, 1, 1, 1)").get(), u::IntegrityError);
  auto rows = db_.execute_fetchall("SELECT count(*) FROM u").get();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].get<int>(0), 1);
}

TEST_F(SqlErrors, UvsqliteOwnErrorsHaveCodeMinusOne) {
  auto e = catch_as<u::ProgrammingError>([&] { (void)db_.execute("SELECT 1; SELECT 2").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), -1);
  EXPECT_EQ(e->sqlite_errorname(), "");
}

TEST(OpenErrors, CannotOpenIsOperationalError14) {
  auto e = catch_as<u::OperationalError>([] { (void)u::connect("/nonexistent/dir/x.db").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode(), 14);
  EXPECT_EQ(e->sqlite_errorname(), "SQLITE_CANTOPEN");
  EXPECT_STREQ(e->what(), "unable to open database file");
}

TEST(OpenErrors, ReadOnlyConnectionWritingIsOperationalErrorReadonly) {
  u::test::TempDir dir;
  const auto path = dir.file("ro.db");
  {
    auto rw = u::connect(path).get();
    rw.execute("CREATE TABLE t(x)").get();
    rw.close().get();
  }
  u::Options options;
  options.read_only = true;
  auto ro = u::connect(path, options).get();
  auto rows = ro.execute_fetchall("SELECT count(*) FROM t").get();
  ASSERT_EQ(rows.size(), 1U);
  auto e = catch_as<u::OperationalError>([&] { (void)ro.execute("INSERT INTO t VALUES (1)").get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode() & 0xff, SQLITE_READONLY);
  EXPECT_EQ(e->sqlite_errorname().rfind("SQLITE_READONLY", 0), 0U) << e->sqlite_errorname();
  EXPECT_STREQ(e->what(), "attempt to write a readonly database");
  ro.close().get();
}

TEST(OpenErrors, ReadOnlyWithoutFileIsCantOpen) {
  u::test::TempDir dir;
  u::Options options;
  options.read_only = true;
  auto e = catch_as<u::OperationalError>([&] { (void)u::connect(dir.file("absent.db"), std::move(options)).get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode() & 0xff, SQLITE_CANTOPEN);
}

TEST(OpenErrors, CreateFalseWithoutFileIsCantOpen) {
  u::test::TempDir dir;
  u::Options options;
  options.create = false;
  auto e = catch_as<u::OperationalError>([&] { (void)u::connect(dir.file("absent.db"), std::move(options)).get(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sqlite_errorcode() & 0xff, SQLITE_CANTOPEN);
}

}  // namespace

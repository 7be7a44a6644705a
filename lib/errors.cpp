// The one mapping from SQLite result codes to the DB-API exception classes, as CPython 3.11's
// _pysqlite_seterror does it (Modules/_sqlite/util.c).

#include "uvsqlite/errors.hpp"

#include <sqlite3.h>

namespace uvsqlite {

Error::Error(const std::string& message, int sqlite_errorcode)
    : std::runtime_error(message), code_(sqlite_errorcode) {}

std::string Error::sqlite_errorname() const { return code_ < 0 ? std::string() : sqlite_error_name(code_); }

namespace {
template <class E>
std::exception_ptr make(int code, const std::string& message) {
  return std::make_exception_ptr(E(message, code));
}
}  // namespace

std::exception_ptr make_sqlite_error(int extended_code, const std::string& message) {
  switch (extended_code & 0xff) {
    case SQLITE_INTERNAL:
    case SQLITE_NOTFOUND:
      return make<InternalError>(extended_code, message);
    // CPython raises MemoryError; the C++ tree has no such class, and std::bad_alloc would lose
    // the code, so an allocation failure inside SQLite is an OperationalError here.
    case SQLITE_NOMEM:
    case SQLITE_ERROR:
    case SQLITE_PERM:
    case SQLITE_ABORT:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_INTERRUPT:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_EMPTY:
    case SQLITE_SCHEMA:
      return make<OperationalError>(extended_code, message);
    case SQLITE_CORRUPT:
      return make<DatabaseError>(extended_code, message);
    case SQLITE_TOOBIG:
      return make<DataError>(extended_code, message);
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return make<IntegrityError>(extended_code, message);
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
      return make<InterfaceError>(extended_code, message);
    default:
      return make<DatabaseError>(extended_code, message);
  }
}

void throw_sqlite_error(int extended_code, const std::string& message) {
  std::rethrow_exception(make_sqlite_error(extended_code, message));
}

}  // namespace uvsqlite

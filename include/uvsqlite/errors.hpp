#pragma once
/// @file errors.hpp
/// The DB-API exception tree of Python's sqlite3 module, as C++ exceptions.
///
/// Thread-safety: the classes are plain values; throw_sqlite_error() is reentrant.

#include <exception>
#include <stdexcept>
#include <string>

namespace uvsqlite {

/// Raised for important warnings (DB-API `Warning`). Not a subclass of Error, as in Python.
class Warning : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Base of every uvsqlite error (DB-API `Error`).
///
/// Errors that come from SQLite carry its extended result code and that code's symbolic name;
/// errors raised by uvsqlite itself (a closed connection, a wrong parameter count, ...) carry
/// code -1 and an empty name, as Python's sqlite3 leaves those attributes unset.
class Error : public std::runtime_error {
 public:
  /// @param message  the text what() returns (SQLite's sqlite3_errmsg for SQLite errors).
  /// @param sqlite_errorcode  extended SQLite result code, or -1 when the error is uvsqlite's own.
  explicit Error(const std::string& message, int sqlite_errorcode = -1);

  /// Extended SQLite result code (e.g. 2067 for SQLITE_CONSTRAINT_UNIQUE), or -1.
  [[nodiscard]] int sqlite_errorcode() const noexcept { return code_; }

  /// Symbolic name of sqlite_errorcode() ("SQLITE_CONSTRAINT_UNIQUE"), or "" for -1.
  [[nodiscard]] std::string sqlite_errorname() const;

 private:
  int code_;
};

/// Misuse of the interface itself (DB-API `InterfaceError`): a wrong value type, a bad index.
class InterfaceError : public Error {
 public:
  using Error::Error;
};

/// Errors related to the database (DB-API `DatabaseError`).
class DatabaseError : public Error {
 public:
  using Error::Error;
};

/// Problems with the processed data: a value out of range, a string or blob too big.
class DataError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// Errors of the database's operation: bad SQL, locked database, I/O errors, interrupts.
class OperationalError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// Relational integrity is affected: constraint violations.
class IntegrityError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// SQLite's internal errors.
class InternalError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// Programming errors: a closed connection, a wrong number of parameters, two statements in one.
class ProgrammingError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// A method or database API that the database does not support.
class NotSupportedError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// The exception class CPython 3.11 raises for an SQLite result code, as an exception_ptr.
/// This is the one mapping from result codes to classes; everything in uvsqlite goes through it.
/// @param extended_code  SQLite's extended result code (the primary code selects the class).
/// @param message  the error message (usually sqlite3_errmsg).
[[nodiscard]] std::exception_ptr make_sqlite_error(int extended_code, const std::string& message);

/// Throws make_sqlite_error(extended_code, message).
[[noreturn]] void throw_sqlite_error(int extended_code, const std::string& message);

/// Symbolic name of an SQLite (extended) result code, "SQLITE_UNKNOWN" for an unknown one.
[[nodiscard]] const char* sqlite_error_name(int extended_code) noexcept;

}  // namespace uvsqlite

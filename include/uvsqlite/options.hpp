#pragma once
/// @file options.hpp
/// How a connection is opened (the arguments of sqlite3.connect).

#include <cstddef>
#include <optional>
#include <string>

namespace uvsqlite {

/// detect_types flag: convert columns by their declared type (used by converters).
inline constexpr int PARSE_DECLTYPES = 1;
/// detect_types flag: convert columns by a "name [type]" alias (used by converters).
inline constexpr int PARSE_COLNAMES = 2;

/// Options of connect().
struct Options {
  /// Busy timeout in seconds: how long a statement waits for a lock before "database is locked".
  double timeout = 5.0;
  /// "" (DEFERRED), "DEFERRED", "IMMEDIATE" or "EXCLUSIVE": the BEGIN issued implicitly before
  /// INSERT/UPDATE/DELETE/REPLACE. std::nullopt: autocommit, no implicit BEGIN.
  std::optional<std::string> isolation_level = "";
  /// PARSE_DECLTYPES | PARSE_COLNAMES, for converters.
  int detect_types = 0;
  /// Prepared statements kept for reuse on this connection (0 disables the cache).
  int cached_statements = 128;
  /// The path is a `file:` URI (mode=ro, cache=shared, ... are honoured).
  bool uri = false;
  /// Rows fetched per worker hop when iterating a cursor (Cursor::each, Cursor::next).
  std::size_t iter_chunk_size = 64;
  /// Open read-only (SQLITE_OPEN_READONLY); writes fail with OperationalError.
  bool read_only = false;
  /// Create the database file when it does not exist (SQLITE_OPEN_CREATE); ignored read-only.
  bool create = true;
};

}  // namespace uvsqlite

#pragma once
/// @file backup.hpp
/// Options of Connection::backup (sqlite3.Connection.backup).

#include <functional>
#include <string>

namespace uvsqlite {

/// How Connection::backup copies a database.
struct BackupOptions {
  /// Pages copied per step; <= 0 copies everything in one step. Each step is one job on the
  /// source connection's queue, so other work on it runs between the steps of a long copy.
  int pages = -1;
  /// Called after each step with SQLite's step status (SQLITE_OK, SQLITE_DONE, SQLITE_BUSY,
  /// SQLITE_LOCKED), the pages still to copy and the total: on the source's worker thread. An
  /// exception it throws aborts the backup with that exception.
  std::function<void(int status, int remaining, int total)> progress;
  /// The database to copy: "main", "temp" or an attached schema's name.
  std::string name = "main";
  /// Seconds to wait after a step that found the database busy or locked, before retrying.
  double sleep = 0.25;
};

}  // namespace uvsqlite

#pragma once
// The hooks a session owns: progress handler, trace callback and authorizer. SQLite calls them
// on the worker; the Hooks object owns the callables and outlives their registration (the
// session unregisters them before the database closes). Worker thread only.

#include <sqlite3.h>

#include <memory>

#include "uvsqlite/hooks.hpp"

namespace uvsqlite::detail {

class Hooks {
 public:
  Hooks() = default;
  Hooks(const Hooks&) = delete;
  Hooks& operator=(const Hooks&) = delete;
  ~Hooks() = default;

  /// Installs (or with an empty fn / n <= 0, removes) the progress handler on `db`.
  void set_progress_handler(sqlite3* db, ProgressHandler fn, int n);
  /// Installs (or with an empty fn, removes) the trace callback on `db`.
  void set_trace_callback(sqlite3* db, TraceCallback fn);
  /// Installs (or with an empty fn, removes) the authorizer on `db`.
  void set_authorizer(sqlite3* db, Authorizer fn);
  /// Removes every hook from `db` (before it closes).
  void clear(sqlite3* db) noexcept;

 private:
  std::unique_ptr<ProgressHandler> progress_;
  std::unique_ptr<TraceCallback> trace_;
  std::unique_ptr<Authorizer> authorizer_;
};

}  // namespace uvsqlite::detail

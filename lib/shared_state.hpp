#pragma once
// What the front end of a connection may read while the worker runs: the state as of the last
// completed job, and the sqlite3* that interrupt() may poke from any thread.

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace uvsqlite::detail {

struct SharedState {
  std::atomic<bool> in_transaction{false};
  std::atomic<std::int64_t> total_changes{0};

  mutable std::mutex mutex;
  std::optional<std::string> isolation_level;  // guarded by mutex
  // Guarded by mutex: set by the worker after open, cleared before sqlite3_close, so that
  // interrupt() never touches a closed handle.
  sqlite3* interruptible = nullptr;
  // interrupt() calls so far. sqlite3_interrupt does not reach sqlite3_backup_step, so a backup
  // in progress looks here between its steps.
  std::atomic<std::uint64_t> interrupts{0};
};

}  // namespace uvsqlite::detail

#pragma once
// A test VFS that fails chosen file operations on demand: a shim over the default VFS that wraps
// every file it opens and lets the tests turn reads, writes, syncs, locks and truncations into
// the error a failing disk would give (SQLITE_IOERR_*, SQLITE_FULL, a short read); opening a file
// can fail too (SQLITE_CANTOPEN).
//
// Connections reach it through a URI: Options::uri = true and the path from FaultVfs::uri().
// SQLite calls it on the connection's worker thread while the test arms it from its own thread:
// every member is thread-safe.

#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace uvsqlite::test {

/// A file operation that FaultVfs can fail.
enum class FaultOp : std::size_t {
  Read,      ///< xRead
  Write,     ///< xWrite
  Sync,      ///< xSync
  Lock,      ///< xLock (taking or upgrading a lock; unlocking is never failed)
  Truncate,  ///< xTruncate
  Open,      ///< xOpen (the file is then not opened)
};
/// The number of FaultOp values.
inline constexpr std::size_t kFaultOpCount = 6;

/// The files a fault applies to, by the role SQLite opened them for (its SQLITE_OPEN_* flags): a
/// bit mask.
enum FaultFiles : unsigned {
  kMainDb = 1U << 0,         ///< the database file
  kJournal = 1U << 1,        ///< its rollback journal (-journal)
  kWal = 1U << 2,            ///< its write-ahead log (-wal)
  kOtherFiles = 1U << 3,     ///< temporary files, statement journals, super-journals
  kAnyFile = (1U << 4) - 1,  ///< every file
};

/// `Fault::times` for a fault that lasts until it is cleared.
inline constexpr std::uint64_t kUntilCleared = UINT64_MAX;

/// What to fail, and how.
struct Fault {
  /// The result code the failed operation returns (SQLITE_IOERR_READ, SQLITE_FULL, ...). For a
  /// read, SQLITE_IOERR_SHORT_READ zero-fills the buffer, as a read past the end of a file does.
  int code = SQLITE_IOERR;
  /// FaultFiles bits: which files the fault applies to.
  unsigned files = kAnyFile;
  /// Matching operations that succeed before the first failure.
  std::uint64_t skip = 0;
  /// Failures before the fault clears itself; kUntilCleared for "until clear()".
  std::uint64_t times = 1;
  /// Read, Write, Truncate: only operations at or beyond this byte offset (a truncation: to a
  /// size of at least this), so that a fault can spare the header page.
  sqlite3_int64 min_offset = 0;
  /// Lock: only requests for this level (SQLITE_LOCK_SHARED, _RESERVED, _EXCLUSIVE); 0 for any.
  int lock_level = 0;
};

/// The fault-injecting VFS. Registered (not as the default) under a name of its own for its
/// lifetime, over the VFS that was the default at construction. Every connection that uses it
/// must be closed before it is destroyed.
class FaultVfs {
 public:
  FaultVfs();
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  /// The name it is registered under (unique in the process).
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// "file:PATH?vfs=NAME": a path to open with Options::uri = true. `path` must need no URI
  /// escaping (no '?', '#' or '%').
  [[nodiscard]] std::string uri(const std::string& path) const;

  /// Arms `op` with `fault`, replacing what it was armed with. Any thread.
  void arm(FaultOp op, const Fault& fault);
  /// Fails the next `n` matching `op`s with `code`.
  void fail_next(FaultOp op, int code, std::uint64_t n = 1, unsigned files = kAnyFile);
  /// Fails every matching `op` with `code` until clear().
  void fail_until_cleared(FaultOp op, int code, unsigned files = kAnyFile);
  /// Disarms `op`.
  void clear(FaultOp op);
  /// Disarms every operation.
  void clear();

  /// Failures injected by this VFS, over all operations.
  [[nodiscard]] std::uint64_t injected() const noexcept;
  /// Failures injected by this VFS into `op`.
  [[nodiscard]] std::uint64_t injected(FaultOp op) const noexcept;
  /// Calls of `op` this VFS saw, failed or not.
  [[nodiscard]] std::uint64_t calls(FaultOp op) const noexcept;
  /// Failures injected by every FaultVfs of the process so far.
  [[nodiscard]] static std::uint64_t injected_in_process() noexcept;

 private:
  friend struct FaultVfsShim;  // the sqlite3_vfs and sqlite3_io_methods callbacks

  // The decision for one call, on whichever thread SQLite runs: counts the call and returns the
  // code to fail it with, or SQLITE_OK. `offset` is the byte offset (the new size for a
  // truncation), `lock_level` the level asked for.
  int decide(FaultOp op, unsigned file, sqlite3_int64 offset, int lock_level) noexcept;

  struct Slot {
    Fault fault;
    bool armed = false;
  };

  std::string name_;
  sqlite3_vfs* real_ = nullptr;  // the default VFS at construction, which does the actual I/O
  sqlite3_vfs vfs_{};
  // The fast path of every I/O: one bit per armed operation, so an unarmed call takes no lock.
  std::atomic<unsigned> armed_mask_{0};
  std::mutex mutex_;  // guards slots_, so that arming and deciding see whole faults
  std::array<Slot, kFaultOpCount> slots_{};
  std::array<std::atomic<std::uint64_t>, kFaultOpCount> injected_{};
  std::array<std::atomic<std::uint64_t>, kFaultOpCount> calls_{};
};

}  // namespace uvsqlite::test

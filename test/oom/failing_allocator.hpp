#pragma once
// An SQLite allocator that fails on request, for the out-of-memory tests. It wraps SQLite's own
// allocator (SQLITE_CONFIG_GETMALLOC) and is installed with SQLITE_CONFIG_MALLOC, which SQLite
// accepts only before it initializes: install() must run first thing in main.
//
// Thread-safety: every function may be called from any thread; the connections' worker threads
// allocate while the test thread arms and disarms.

#include <cstdint>

namespace uvsqlite::test::oom {

/// How an armed allocator fails.
enum class FailMode {
  /// Only the Nth allocation fails; later ones succeed (a transient shortage).
  Once,
  /// The Nth allocation and every one after it fail (memory is gone for good).
  Persistent,
};

/// Installs the failing allocator (disarmed) and turns lookaside off, so that every allocation
/// of every connection reaches it, then initializes SQLite so that its own start-up allocations
/// never fall in a test's window. @returns false if SQLite refused (it was already initialized).
bool install();

/// From now on, fail the `n`th allocation or reallocation (1-based) and, for
/// FailMode::Persistent, every later one. Resets the counters below.
void arm(std::int64_t n, FailMode mode);

/// Stops failing; the counters keep their values.
void disarm();

/// True between arm() and disarm().
bool armed();

/// Allocations and reallocations SQLite asked for since the last arm() (failed ones included).
std::int64_t allocations();

/// Allocations failed on purpose since the last arm().
std::int64_t injected();

}  // namespace uvsqlite::test::oom

#include "failing_allocator.hpp"

#include <sqlite3.h>

#include <atomic>

namespace uvsqlite::test::oom {

namespace {

sqlite3_mem_methods g_default{};

std::atomic<bool> g_armed{false};
std::atomic<bool> g_persistent{false};
std::atomic<std::int64_t> g_fail_at{0};
std::atomic<std::int64_t> g_count{0};
std::atomic<std::int64_t> g_injected{0};

// Counts the request; true when it is the one (or, persistent, one of those) to fail. The count
// is one atomic increment, so two worker threads never both take the same number.
bool should_fail() noexcept {
  if (!g_armed.load(std::memory_order_acquire)) return false;
  const std::int64_t nth = g_count.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::int64_t at = g_fail_at.load(std::memory_order_relaxed);
  const bool fail = nth == at || (nth > at && g_persistent.load(std::memory_order_relaxed));
  if (fail) g_injected.fetch_add(1, std::memory_order_relaxed);
  return fail;
}

void* failing_malloc(int bytes) { return should_fail() ? nullptr : g_default.xMalloc(bytes); }

// SQLite keeps the old block when a reallocation fails, as realloc() does.
void* failing_realloc(void* p, int bytes) { return should_fail() ? nullptr : g_default.xRealloc(p, bytes); }

}  // namespace

bool install() {
  if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &g_default) != SQLITE_OK) return false;
  sqlite3_mem_methods methods = g_default;
  methods.xMalloc = &failing_malloc;
  methods.xRealloc = &failing_realloc;
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK) return false;
  // Lookaside serves small allocations from a per-connection pool that this allocator never
  // sees; without it every allocation is a place where the tests can fail one.
  if (sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) != SQLITE_OK) return false;
  return sqlite3_initialize() == SQLITE_OK;
}

void arm(std::int64_t n, FailMode mode) {
  g_count.store(0, std::memory_order_relaxed);
  g_injected.store(0, std::memory_order_relaxed);
  g_fail_at.store(n, std::memory_order_relaxed);
  g_persistent.store(mode == FailMode::Persistent, std::memory_order_relaxed);
  g_armed.store(true, std::memory_order_release);
}

void disarm() { g_armed.store(false, std::memory_order_release); }

bool armed() { return g_armed.load(std::memory_order_acquire); }

std::int64_t allocations() { return g_count.load(std::memory_order_relaxed); }

std::int64_t injected() { return g_injected.load(std::memory_order_relaxed); }

}  // namespace uvsqlite::test::oom

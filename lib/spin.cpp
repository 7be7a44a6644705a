#include "spin.hpp"

#include <uv.h>

#include <chrono>
#include <thread>

#include "cpu_presence.hpp"
#include "uvsqlite/completion.hpp"

namespace uvsqlite::detail {

namespace {
std::atomic<unsigned> g_spinners{0};

unsigned spin_cap() noexcept {
  static const unsigned cap = [] {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1U : n;
  }();
  return cap;
}

// One place claims and returns the process's spinning slots.
bool claim_slot() noexcept {
  if (g_spinners.fetch_add(1, std::memory_order_relaxed) < spin_cap()) return true;
  g_spinners.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

void return_slot() noexcept { g_spinners.fetch_sub(1, std::memory_order_relaxed); }
}  // namespace

SpinSlot::SpinSlot() noexcept : held_(claim_slot()) {}

SpinSlot::~SpinSlot() {
  if (held_) return_slot();
}

std::uint64_t spin_clock() noexcept { return uv_hrtime(); }

void wait_briefly(bool (*ready)(const void* state), const void* state) noexcept {
  const SpinSlot slot;
  const CpuPresence here;  // a worker that shares this CPU then sleeps rather than spin
  spin_until(slot, spin_clock() + kSpinNanoseconds, [&] { return ready(state); });
}

void yield_cpu() noexcept { std::this_thread::yield(); }

void nap(std::uint64_t nanoseconds) noexcept {
  std::this_thread::sleep_for(std::chrono::nanoseconds(nanoseconds));
}

}  // namespace uvsqlite::detail

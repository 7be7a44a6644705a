#include "spin.hpp"

#include <uv.h>

#include <thread>

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

BriefWait::BriefWait() noexcept : deadline_(spin_clock() + kSpinNanoseconds), held_(claim_slot()) {}

BriefWait::~BriefWait() {
  if (held_) return_slot();
}

bool BriefWait::more() noexcept {
  if (!held_) return false;
  cpu_relax();
  // The clock is read every 16 pauses only; after the first microseconds, yield as spin_until.
  if ((++polls_ & 15U) != 0) return true;
  const std::uint64_t now = spin_clock();
  if (now > deadline_) return false;
  if (now + kSpinNanoseconds < deadline_ + kPauseNanoseconds) return true;  // still pausing
  yield_cpu();
  return true;
}

void yield_cpu() noexcept { std::this_thread::yield(); }

}  // namespace uvsqlite::detail

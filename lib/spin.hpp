#pragma once
// Bounded spinning, shared by the worker (waiting for its next job) and the loop bridge (waiting
// for a completion). On virtual machines a thread that blocks lets its vCPU halt, and waking a
// halted vCPU costs 15-30 us, ten times a point select; a spin no longer than that cost is never
// worse than twice the best choice made in hindsight, and usually saves the whole wake-up.
//
// Spinning threads are capped at the number of CPUs, process-wide, so that spinners never keep
// the threads they wait for off the CPUs (four busy connections on a two-CPU machine).

#include <atomic>
#include <cstdint>
#include <utility>

namespace uvsqlite::detail {

/// How long a thread spins for the thing it waits for before it blocks.
inline constexpr std::uint64_t kSpinNanoseconds = 30'000;

/// One CPU-friendly pause in a spin loop.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// sched_yield: lets another thread runnable on this CPU go first.
void yield_cpu() noexcept;

/// Blocks the thread for about `nanoseconds` (more by the kernel's timer slack, typically 50 us).
void nap(std::uint64_t nanoseconds) noexcept;

/// A claim on one of the process's spinning slots; empty when all are taken.
class SpinSlot {
 public:
  SpinSlot() noexcept;
  SpinSlot(const SpinSlot&) = delete;
  SpinSlot& operator=(const SpinSlot&) = delete;
  ~SpinSlot();
  explicit operator bool() const noexcept { return held_; }

 private:
  bool held_;
};

/// Monotonic nanoseconds (the clock uv_hrtime reads).
std::uint64_t spin_clock() noexcept;

/// Pausing spins up to this long; the rest of a spin yields the CPU between looks.
inline constexpr std::uint64_t kPauseNanoseconds = 5'000;

/// Spins, holding `slot`, until `ready()` is true or `deadline` (spin_clock time) passes;
/// returns ready(). The first microseconds pause between looks (the fastest reaction); then the
/// spinner yields between looks, so that a thread it waits for that the scheduler put on the
/// same CPU (a new thread, or after a migration) can run instead of waiting out the spin.
/// The spin also ends once `give_up()` is true (asked between looks, every 16 pauses).
template <class Ready, class GiveUp>
bool spin_until(const SpinSlot& slot, std::uint64_t deadline, Ready&& ready, GiveUp&& give_up) noexcept {
  if (ready()) return true;
  if (!slot || give_up()) return false;
  const std::uint64_t pause_until = spin_clock() + kPauseNanoseconds;
  for (;;) {
    for (int i = 0; i < 16; ++i) {
      cpu_relax();
      if (ready()) return true;
    }
    const std::uint64_t now = spin_clock();
    if (now > deadline || give_up()) return ready();
    if (now > pause_until) yield_cpu();
  }
}

/// Looks for `ready()` until `deadline` (spin_clock time), yielding the CPU between looks;
/// returns ready(). For a thread that shares the CPUs with more busy threads than there are.
template <class Ready>
bool yield_until(std::uint64_t deadline, Ready&& ready) noexcept {
  for (;;) {
    if (ready()) return true;
    if (spin_clock() >= deadline) return false;
    yield_cpu();
  }
}

template <class Ready>
bool spin_until(const SpinSlot& slot, std::uint64_t deadline, Ready&& ready) noexcept {
  return spin_until(slot, deadline, std::forward<Ready>(ready), [] { return false; });
}

}  // namespace uvsqlite::detail

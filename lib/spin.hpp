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

/// Spins, holding `slot`, until `ready()` is true or `deadline` (spin_clock time) passes;
/// returns ready().
template <class Ready>
bool spin_until(const SpinSlot& slot, std::uint64_t deadline, Ready&& ready) noexcept {
  if (ready()) return true;
  if (!slot) return false;
  for (;;) {
    for (int i = 0; i < 16; ++i) {
      cpu_relax();
      if (ready()) return true;
    }
    if (spin_clock() > deadline) return ready();
  }
}

}  // namespace uvsqlite::detail

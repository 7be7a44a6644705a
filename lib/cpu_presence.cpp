#include "cpu_presence.hpp"

#include <atomic>

#if defined(__linux__)
#include <sched.h>
#endif

namespace uvsqlite::detail {

namespace {
// Counted threads per CPU, each counter on a cache line of its own. CPUs beyond the table (and
// systems without sched_getcpu) are not counted: their threads are never crowded.
constexpr int kTrackedCpus = 256;
struct alignas(64) CpuCount {
  std::atomic<int> threads{0};
};
CpuCount g_counts[kTrackedCpus];

int current_cpu() noexcept {
#if defined(__linux__)
  const int cpu = sched_getcpu();  // rdpid or the vDSO: about a nanosecond
  return cpu >= 0 && cpu < kTrackedCpus ? cpu : -1;
#else
  return -1;
#endif
}

// Relaxed throughout: a count is a hint for spinners. A stale one costs a spin or a wake-up,
// never correctness.
void count(int cpu, int delta) noexcept {
  if (cpu >= 0) g_counts[cpu].threads.fetch_add(delta, std::memory_order_relaxed);
}
}  // namespace

void CpuPresence::enter() noexcept {
  if (entered_) return;
  entered_ = true;
  cpu_ = current_cpu();
  count(cpu_, 1);
}

void CpuPresence::leave() noexcept {
  if (!entered_) return;
  entered_ = false;
  count(cpu_, -1);
  cpu_ = -1;
}

bool CpuPresence::crowded() noexcept {
  if (!entered_) return false;
  if (const int now = current_cpu(); now != cpu_) {
    count(cpu_, -1);
    cpu_ = now;
    count(cpu_, 1);
  }
  return cpu_ >= 0 && g_counts[cpu_].threads.load(std::memory_order_relaxed) > 1;
}

}  // namespace uvsqlite::detail

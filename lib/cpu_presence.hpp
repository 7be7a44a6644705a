#pragma once
// Which CPUs this process's busy threads are on: each worker while it is awake (running jobs or
// looking for the next), the loop thread while it delivers or waits for completions, a future's
// caller while it waits briefly. "Busy" is approximate, a hint: a worker blocked inside a job
// (a busy timeout's sleep, a backup holding it) still counts, and a thread's count moves with it
// only when it looks (crowded()).
//
// A worker that spins for its next job on a CPU where another busy thread of the process sits
// only takes that CPU from it: with more busy threads than CPUs (four connections and their
// loop on two CPUs), or when the scheduler keeps two threads that never sleep on one CPU (each
// is cache-hot, so the load balancer declines to move either; some hypervisors' guests also pack
// busy threads onto fewer vCPUs on purpose). Such a worker stops spinning and sleeps at once.

namespace uvsqlite::detail {

/// The calling thread, counted on the CPU it runs on. One thread enters, refreshes and leaves.
class CpuPresence {
 public:
  /// Counts the calling thread on its current CPU.
  CpuPresence() noexcept { enter(); }
  CpuPresence(const CpuPresence&) = delete;
  CpuPresence& operator=(const CpuPresence&) = delete;
  ~CpuPresence() { leave(); }

  /// Counts the thread again (after leave(), once it woke); no-op when counted.
  void enter() noexcept;
  /// Stops counting the thread (before it blocks).
  void leave() noexcept;
  /// True when another counted thread was last seen on the CPU this thread runs on now (the
  /// thread's own count follows it there first, should it have migrated).
  [[nodiscard]] bool crowded() noexcept;

 private:
  int cpu_ = -1;  // the CPU counted, or -1 (not counted, or a CPU beyond the table)
  bool entered_ = false;
};

}  // namespace uvsqlite::detail

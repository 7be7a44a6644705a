#pragma once
// The mutex of the loop bridge's completion list. Its critical sections are a handful of
// instructions, but the worker and the loop take it at a high rate when jobs are pipelined;
// std::mutex then sleeps on every collision, and on a VM each sleep costs a vCPU wake-up.
// This one spins briefly before it sleeps (a futex through std::atomic::wait), which almost
// always suffices for a critical section this short.

#include <atomic>

#include "spin.hpp"

namespace uvsqlite::detail {

class ShortMutex {
 public:
  ShortMutex() = default;
  ShortMutex(const ShortMutex&) = delete;
  ShortMutex& operator=(const ShortMutex&) = delete;

  void lock() noexcept {
    int expected = kFree;
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire)) return;
    for (int i = 0; i < kSpins; ++i) {
      cpu_relax();
      expected = kFree;
      if (state_.load(std::memory_order_relaxed) == kFree &&
          state_.compare_exchange_weak(expected, kLocked, std::memory_order_acquire)) {
        return;
      }
    }
    // Sleep, marking the lock contended so that unlock() knows to wake someone.
    while (state_.exchange(kContended, std::memory_order_acquire) != kFree) state_.wait(kContended);
  }

  bool try_lock() noexcept {
    int expected = kFree;
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire);
  }

  void unlock() noexcept {
    if (state_.exchange(kFree, std::memory_order_release) == kContended) state_.notify_one();
  }

 private:
  static constexpr int kFree = 0;
  static constexpr int kLocked = 1;
  static constexpr int kContended = 2;
  static constexpr int kSpins = 200;

  std::atomic<int> state_{kFree};
};

}  // namespace uvsqlite::detail

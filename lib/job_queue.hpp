#pragma once
// A connection's job queue: any thread pushes, the worker takes. Lock-free (a Treiber stack that
// the worker empties in one exchange and reverses), because a round trip through a mutex and a
// deque moves half a dozen cache lines between the two CPUs, at about 0.1 us each on a VM; here
// the pusher and the worker share one line (the head) besides the job itself. Closing (only
// when empty) swaps in a marker that makes every later push fail.

#include <atomic>
#include <cstdint>
#include <memory>

#include "intrusive_chain.hpp"
#include "job.hpp"

namespace uvsqlite::detail {

/// An owned list of jobs, oldest first.
class JobChain {
 public:
  JobChain() = default;
  explicit JobChain(Job* first) noexcept : first_(first) {}
  JobChain(JobChain&& other) noexcept : first_(other.first_) { other.first_ = nullptr; }
  JobChain& operator=(JobChain&&) = delete;
  JobChain(const JobChain&) = delete;
  JobChain& operator=(const JobChain&) = delete;
  ~JobChain() {
    while (pop()) {
    }
  }

  /// The oldest job, or null when none is left.
  std::unique_ptr<Job> pop() noexcept {
    Job* job = first_;
    if (job == nullptr) return nullptr;
    first_ = job->queue_next;
    job->queue_next = nullptr;
    return std::unique_ptr<Job>(job);
  }

 private:
  Job* first_ = nullptr;
};

class JobQueue {
 public:
  JobQueue() = default;
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;
  ~JobQueue() {
    Job* head = head_.load(std::memory_order_acquire);
    if (head != closed()) JobChain{reverse(head)};  // never run, never failed: just freed
  }

  /// Any thread: appends `job` (taking it). False, with `job` untouched, once closed.
  bool push(std::unique_ptr<Job>& job) noexcept {
    Job* j = job.get();
    // Acquire: a pusher that finds the queue closed then sees everything the worker did before
    // closing it (the caller fails the job and frees it, touching what the close touched).
    Job* head = head_.load(std::memory_order_acquire);
    do {
      if (head == closed()) return false;
      j->queue_next = head;
      // seq_cst: ordered before the pusher's look at whether the worker sleeps (Worker::push).
    } while (!head_.compare_exchange_weak(head, j, std::memory_order_seq_cst, std::memory_order_acquire));
    (void)job.release();
    return true;
  }

  /// True when nothing is queued (seq_cst: see Worker::run's sleep).
  [[nodiscard]] bool empty() const noexcept { return head_.load(std::memory_order_seq_cst) == nullptr; }

  /// Every job pushed so far, oldest first. One exchange: several threads may take at once
  /// (each gets its own jobs).
  JobChain take() noexcept { return JobChain(reverse(head_.exchange(nullptr, std::memory_order_acquire))); }

  /// Worker: makes every later push fail, if nothing is queued (false otherwise: take first).
  bool close_if_empty() noexcept {
    Job* expected = nullptr;
    return head_.compare_exchange_strong(expected, closed(), std::memory_order_acq_rel,
                                         std::memory_order_acquire);
  }

 private:
  // A marker no job can have as its address.
  static Job* closed() noexcept { return reinterpret_cast<Job*>(std::uintptr_t{1}); }

  static Job* reverse(Job* head) noexcept { return oldest_first(head, &Job::queue_next); }

  // Alone on its cache line: the only line pushers and the worker both write.
  alignas(64) std::atomic<Job*> head_{nullptr};
  [[maybe_unused]] char pad_[64 - sizeof(std::atomic<Job*>)]{};
};

}  // namespace uvsqlite::detail

#include "worker.hpp"

#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <utility>

#include "close_job.hpp"
#include "cpu_presence.hpp"
#include "spin.hpp"
#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

namespace {
// The worker whose thread this is, if any.
thread_local const Worker* t_current_worker = nullptr;
// How long finished jobs wait for a submitter to come back and destroy them (see sleep_until_work).
constexpr std::chrono::milliseconds kFinishedGrace{2};
}  // namespace

std::exception_ptr closed_database_error() {
  return std::make_exception_ptr(ProgrammingError("Cannot operate on a closed database."));
}

void Worker::spin_for_work(CpuPresence& here) const noexcept {
  const SpinSlot slot;
  // Sharing the CPU with another busy thread of the process, a spin only delays that thread
  // (which is often the one that will submit the next job): sleep instead (cpu_presence.hpp).
  spin_until(
      slot, spin_clock() + kSpinNanoseconds, [this] { return !queue_.empty(); },
      [&here] { return here.crowded(); });
}

bool Worker::is_current_thread() const noexcept { return t_current_worker == this; }

std::shared_ptr<Worker> Worker::start(std::unique_ptr<Session> session, std::shared_ptr<LoopBridge> bridge) {
  std::shared_ptr<Worker> worker(new Worker(std::move(session), std::move(bridge)));
  worker->self_ = worker;
  if (uv_thread_create(&worker->thread_, &Worker::entry, worker.get()) != 0) {
    worker->self_.reset();
    throw OperationalError("cannot start the connection's worker thread");
  }
  return worker;
}

Worker::Worker(std::unique_ptr<Session> session, std::shared_ptr<LoopBridge> bridge)
    : session_(std::move(session)), bridge_(std::move(bridge)) {}

Worker::~Worker() = default;

void Worker::entry(void* arg) { static_cast<Worker*>(arg)->run(); }

bool Worker::push(std::unique_ptr<Job>& job) {
  if (!queue_.push(job)) return false;
  // After the push (both seq_cst): either the thread, about to sleep, sees the job, or this
  // sees it sleeping and wakes it.
  if (sleeping_.load(std::memory_order_seq_cst)) wake();
  // Destroy the jobs the worker finished (while it runs this one): most were made here.
  release_finished();
  return true;
}

void Worker::release_finished() noexcept {
  if (finished_.empty()) return;
  const JobChain done = finished_.take();
}

void Worker::wake() noexcept {
  // Taking the mutex waits until the thread is inside wait(): the notification cannot fall
  // between its last look at the queue and its sleep.
  { const std::lock_guard lock(mutex_); }
  wake_.notify_one();
}

void Worker::sleep_until_work() {
  // Idle with finished jobs no submitter came back for: they die here, since they may hold the
  // last reference to the connection (whose end queues the close this thread waits for), but
  // only after a grace period. A submitter usually comes back within it and destroys them
  // itself after queueing its next job, beside that job's run; destroyed here first, they would
  // hold that job up (the rows of a 100,000-row executemany take a millisecond to free).
  if (!finished_.empty()) {
    if (wait_for_work(kFinishedGrace)) return;
    release_finished();
  }
  (void)wait_for_work(std::nullopt);
}

bool Worker::wait_for_work(std::optional<std::chrono::milliseconds> at_most) {
  const auto has_work = [this] { return !queue_.empty(); };
  std::unique_lock lock(mutex_);
  sleeping_.store(true, std::memory_order_seq_cst);
  if (at_most) {
    (void)wake_.wait_for(lock, *at_most, has_work);
  } else {
    wake_.wait(lock, has_work);
  }
  sleeping_.store(false, std::memory_order_relaxed);
  return has_work();
}

void Worker::run() {
  // From here on the thread owns a reference: the Worker outlives every front-end handle.
  std::shared_ptr<Worker> keep = std::move(self_);
  t_current_worker = this;
  CpuPresence presence;  // counted while awake
  for (;;) {
    // A caller awaiting one result usually submits its next job within microseconds: look for
    // it briefly before sleeping, which saves a futex wake-up on each round trip. A closed
    // session takes no more work: exit at once, for close() joins this thread.
    if (!session_->is_closed()) spin_for_work(presence);
    if (queue_.empty()) {
      // Closed only while empty: every job the queue accepted is then failed here, in order,
      // before any push can fail (and its submitter fail it out of order).
      if (session_->is_closed() && queue_.close_if_empty()) break;
      if (session_->is_closed()) continue;
      presence.leave();
      sleep_until_work();
      presence.enter();
    }
    // Every queued job, run in order. A job that closes the session turns the rest into
    // failures, still in order.
    JobChain batch = queue_.take();
    while (std::unique_ptr<Job> job = batch.pop()) {
      if (session_->is_closed()) {
        job->fail(closed_database_error());
      } else {
        job->run(*session_);
      }
      if (std::unique_ptr<Job> done = Job::finish(std::move(job))) (void)finished_.push(done);
    }
  }
  presence.leave();
  release_finished();
  bool detach = false;
  {
    std::lock_guard lock(mutex_);
    exited_ = true;
    detach = abandoned_ && !joined_;
  }
  if (detach) pthread_detach(pthread_self());
}

void Worker::reap() {
  {
    std::lock_guard lock(mutex_);
    if (joined_ || abandoned_) return;
    joined_ = true;
  }
#if defined(__GLIBC__)
  // The thread is on its way out (its close job just completed): wait for it with the shared
  // bounded spin rather than block, since a blocked loop thread's wake-up costs more than the
  // thread's exit. The spin yields after its first microseconds, which the exiting thread needs
  // when it shares this CPU.
  const SpinSlot slot;
  if (spin_until(slot, spin_clock() + kSpinNanoseconds,
                 [this] { return pthread_tryjoin_np(thread_, nullptr) == 0; })) {
    return;
  }
#endif
  uv_thread_join(&thread_);
}

void Worker::abandon() {
  std::unique_ptr<Job> close = make_close_job(nullptr, nullptr);
  (void)push(close);  // once the thread has exited, the push fails and the job is freed here
  bool join_now = false;
  {
    std::lock_guard lock(mutex_);
    if (joined_ || abandoned_) return;
    if (exited_) {
      join_now = true;
      joined_ = true;
    } else {
      abandoned_ = true;
    }
  }
  if (join_now) uv_thread_join(&thread_);
}

}  // namespace uvsqlite::detail

#include "worker.hpp"

#include <pthread.h>

#include <utility>

#include "close_job.hpp"
#include "spin.hpp"
#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

namespace {
// The worker whose thread this is, if any.
thread_local const Worker* t_current_worker = nullptr;
}  // namespace

std::exception_ptr closed_database_error() {
  return std::make_exception_ptr(ProgrammingError("Cannot operate on a closed database."));
}

void Worker::spin_for_work() const noexcept {
  const SpinSlot slot;
  spin_until(slot, spin_clock() + kSpinNanoseconds,
             [this] { return pending_.load(std::memory_order_acquire) != 0; });
}

bool Worker::is_current_thread() const noexcept { return t_current_worker == this; }

std::shared_ptr<Worker> Worker::start(std::unique_ptr<Session> session) {
  std::shared_ptr<Worker> worker(new Worker(std::move(session)));
  worker->self_ = worker;
  if (uv_thread_create(&worker->thread_, &Worker::entry, worker.get()) != 0) {
    worker->self_.reset();
    throw OperationalError("cannot start the connection's worker thread");
  }
  return worker;
}

Worker::Worker(std::unique_ptr<Session> session) : session_(std::move(session)) {}

Worker::~Worker() = default;

void Worker::entry(void* arg) { static_cast<Worker*>(arg)->run(); }

bool Worker::push(std::unique_ptr<Job>& job) {
  bool sleeping = false;
  {
    std::lock_guard lock(mutex_);
    if (exited_) return false;
    queue_.push_back(std::move(job));
    sleeping = sleeping_;
  }
  // The spinning worker's hint, raised after the unlock so that it does not come for the mutex
  // while this thread still holds it (a late hint only costs it one empty look).
  pending_.store(1, std::memory_order_release);
  if (sleeping) wake_.notify_one();
  return true;
}

void Worker::run() {
  // From here on the thread owns a reference: the Worker outlives every front-end handle.
  std::shared_ptr<Worker> keep = std::move(self_);
  t_current_worker = this;
  std::deque<std::unique_ptr<Job>> batch;
  for (;;) {
    // A caller awaiting one result usually submits its next job within microseconds: look for
    // it briefly before sleeping, which saves a futex wake-up on each round trip. A closed
    // session takes no more work: exit at once, for close() joins this thread.
    if (!session_->is_closed()) spin_for_work();
    {
      std::unique_lock lock(mutex_);
      if (queue_.empty() && session_->is_closed()) {
        exited_ = true;
        break;
      }
      if (queue_.empty()) {
        sleeping_ = true;
        wake_.wait(lock, [&] { return !queue_.empty(); });
        sleeping_ = false;
      }
      batch.swap(queue_);
      pending_.store(0, std::memory_order_relaxed);
    }
    // Take every queued job in one lock; run them in order. A job that closes the session
    // turns the rest of the batch into failures, still in order.
    for (auto& job : batch) {
      if (session_->is_closed()) {
        job->fail(closed_database_error());
      } else {
        job->run(*session_);
      }
      Job::dispose(std::move(job));
    }
    batch.clear();
  }
  bool detach = false;
  {
    std::lock_guard lock(mutex_);
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
  uv_thread_join(&thread_);
}

void Worker::abandon() {
  auto close = make_close_job(nullptr, nullptr);
  bool join_now = false;
  {
    std::lock_guard lock(mutex_);
    if (!exited_) {
      queue_.push_back(std::move(close));
      pending_.store(1, std::memory_order_release);
    }
    if (joined_ || abandoned_) return;
    if (exited_) {
      join_now = true;
      joined_ = true;
    } else {
      abandoned_ = true;
    }
  }
  wake_.notify_one();
  if (join_now) uv_thread_join(&thread_);
}

}  // namespace uvsqlite::detail

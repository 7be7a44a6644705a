#include "connection_core.hpp"

#include "close_job.hpp"

namespace uvsqlite::detail {

ConnectionCore::ConnectionCore(uv_loop_t* loop, std::string path, Options options)
    : options_(std::move(options)), shared_(std::make_shared<SharedState>()) {
  if (options_.iter_chunk_size == 0) options_.iter_chunk_size = 1;
  if (loop != nullptr) {
    bridge_ = std::make_shared<LoopBridge>(loop);
    bridge_->open();
  }
  try {
    worker_ = Worker::start(std::make_unique<Session>(std::move(path), options_, shared_), bridge_);
  } catch (...) {
    if (bridge_) bridge_->retire();
    throw;
  }
}

ConnectionCore::~ConnectionCore() {
  if (bridge_) bridge_->abandon();
  worker_->abandon();
}

std::shared_ptr<ConnectionCore> ConnectionCore::front() {
  std::lock_guard lock(front_mutex_);
  if (auto existing = front_.lock()) return existing;
  // A handle with its own control block: the deleter keeps the core alive until the last front
  // handle is gone, then retires the bridge on that thread. The deleter drops its reference
  // when called, since the control block (and the deleter) live on while front_ observes it.
  std::shared_ptr<ConnectionCore> handle(this, [keep = shared_from_this()](ConnectionCore* core) mutable {
    if (core->bridge_) core->bridge_->retire();
    keep.reset();
  });
  front_ = handle;
  return handle;
}

std::exception_ptr ConnectionCore::reentrancy_error() {
  return std::make_exception_ptr(ProgrammingError(
      "Cannot wait on this connection from its own worker thread (inside a SQL function or hook "
      "of the same connection): it would deadlock"));
}

void ConnectionCore::expect_loop() {
  if (!bridge_) {
    throw ProgrammingError("this connection has no loop: only the future form is available");
  }
  bridge_->expect();
}

void ConnectionCore::submit_close(PendingCompletion<void> completion) {
  const bool on_loop = completion->on_loop();
  // What may throw comes before the bridge counts a delivery that would then never come.
  CompletionPtr<void> owned = std::move(completion).to_heap();
  if (worker_->is_current_thread()) {
    if (on_loop) expect_loop();
    // close() from inside a SQL function or hook: the statement that called it is still running.
    Outcome<void> outcome;
    outcome.error = std::make_exception_ptr(
        ProgrammingError("Cannot close the connection from inside one of its SQL functions or hooks"));
    finish(owned, std::move(outcome), bridge_.get());
    return;
  }
  std::unique_ptr<Job> close = make_close_job(std::move(owned), bridge_, worker_);
  if (on_loop) expect_loop();
  // Close the loop handle as soon as nothing is outstanding; from the loop thread this happens
  // now when close() is awaited through a future, so the loop can finish.
  if (bridge_) bridge_->retire();
  submit_internal(std::move(close));
}

void ConnectionCore::interrupt() const {
  shared_->interrupts.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(shared_->mutex);
  if (shared_->interruptible != nullptr) sqlite3_interrupt(shared_->interruptible);
}

}  // namespace uvsqlite::detail

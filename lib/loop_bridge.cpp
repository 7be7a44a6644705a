#include "loop_bridge.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>

#include "cpu_presence.hpp"
#include "spin.hpp"
#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

namespace {
// Bridges spinning on this (loop) thread. With more than one, each spins in short slices so
// that one bridge's wait never holds up another's delivery: their idle callbacks take turns.
thread_local int t_spinning_bridges = 0;
constexpr std::uint64_t kSliceNanoseconds = 2'000;

// The longest one idle callback delivers and waits for chained completions before it lets the
// loop poll for I/O and run timers.
constexpr std::uint64_t kTurnNanoseconds = 50'000;
}  // namespace

// The uv handles and the reference that keeps the bridge alive until both close callbacks ran.
struct LoopBridge::AsyncHandle {
  uv_async_t async{};
  uv_idle_t idle{};
  int open_handles = 2;
  std::shared_ptr<LoopBridge> bridge;
};

LoopBridge::LoopBridge(uv_loop_t* loop) : loop_(loop), loop_thread_(uv_thread_self()) {}

void LoopBridge::open() {
  std::lock_guard lock(mutex_);
  open_locked();
}

bool LoopBridge::on_loop_thread() const noexcept {
  const uv_thread_t self = uv_thread_self();
  return uv_thread_equal(&self, &loop_thread_) != 0;
}

void LoopBridge::open_locked() {
  auto* h = new AsyncHandle;
  if (const int rc = uv_async_init(loop_, &h->async, &LoopBridge::on_async); rc != 0) {
    delete h;
    throw OperationalError(std::string("uv_async_init failed: ") + uv_strerror(rc));
  }
  uv_idle_init(loop_, &h->idle);  // cannot fail
  h->bridge = shared_from_this();
  h->async.data = h;
  h->idle.data = h;
  uv_unref(reinterpret_cast<uv_handle_t*>(&h->async));
  uv_unref(reinterpret_cast<uv_handle_t*>(&h->idle));
  handle_ = h;
}

void LoopBridge::close_locked() noexcept {
  stop_spinning_locked();
  AsyncHandle* h = handle_;
  handle_ = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&h->async), &LoopBridge::on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&h->idle), &LoopBridge::on_close);
}

void LoopBridge::on_close(uv_handle_t* handle) {
  auto* h = static_cast<AsyncHandle*>(handle->data);
  if (--h->open_handles == 0) delete h;
}

void LoopBridge::start_spinning_locked() noexcept {
  spin_deadline_ = spin_clock() + kSpinNanoseconds;
  if (!spinning_ && handle_ != nullptr) {
    spinning_ = true;
    ++t_spinning_bridges;
    uv_idle_start(&handle_->idle, &LoopBridge::on_idle);
  }
}

void LoopBridge::stop_spinning_locked() noexcept {
  if (!spinning_) return;
  spinning_ = false;
  --t_spinning_bridges;
  uv_idle_stop(&handle_->idle);
}

void LoopBridge::expect() {
  std::lock_guard lock(mutex_);
  const bool here = on_loop_thread();
  if (handle_ == nullptr) {
    if (!here) {
      throw ProgrammingError(
          "Cannot operate on a closed database: its loop handle is gone (submit from the loop thread to be "
          "called back)");
    }
    open_locked();
  }
  if (++outstanding_ == 1 && !here) {
    uv_async_send(&handle_->async);  // the loop thread references the handle in drain()
    return;
  }
  if (here) {
    if (outstanding_ == 1) uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->async));
    // The caller will most likely wait for this job next: be spinning when it completes.
    start_spinning_locked();
  }
}

void LoopBridge::post(std::unique_ptr<Delivery> delivery) noexcept {
  std::lock_guard lock(mutex_);
  ready_.push_back(std::move(delivery));
  // The spinning loop's hint. Raised under the mutex: once the loop can take the delivery, this
  // bridge may go (the delivery can hold its last reference), so the unlock is the last touch.
  // (When the mutex was contended, the unlock's futex wake may name an address freed meanwhile;
  // the kernel treats that as a wake of nobody, as with any futex mutex.)
  has_ready_.store(true, std::memory_order_release);
  // outstanding_ > 0 keeps the handle open until this delivery ran. A spinning loop thread
  // finds the delivery on its own: it stops spinning under this mutex and then looks at ready_
  // itself, so none is missed.
  if (!spinning_) uv_async_send(&handle_->async);
}

void LoopBridge::retire() noexcept {
  std::lock_guard lock(mutex_);
  retired_ = true;
  if (handle_ == nullptr || outstanding_ != 0) return;
  if (on_loop_thread()) {
    close_locked();
  } else {
    uv_async_send(&handle_->async);
  }
}

void LoopBridge::set_error_handler(ErrorHandler handler) {
  std::lock_guard lock(mutex_);
  error_handler_ = std::move(handler);
}

void LoopBridge::on_async(uv_async_t* handle) {
  // Keep the bridge alive while delivering: a callback may drop the last connection handle.
  std::shared_ptr<LoopBridge> self = static_cast<AsyncHandle*>(handle->data)->bridge;
  const CpuPresence here;  // busy delivering: a worker on this CPU sleeps rather than spin
  self->drain();
}

void LoopBridge::on_idle(uv_idle_t* handle) {
  std::shared_ptr<LoopBridge> self = static_cast<AsyncHandle*>(handle->data)->bridge;
  self->spin();
}

void LoopBridge::spin() {
  // A delivery usually submits the next job at once: keep waiting for it in this callback, for
  // a bounded turn, rather than going round the loop (an epoll_wait per round trip).
  const std::uint64_t turn_end =
      spin_clock() + (t_spinning_bridges > 1 ? kSliceNanoseconds : kTurnNanoseconds);
  const SpinSlot slot;
  const CpuPresence here;  // a worker that shares this CPU then sleeps rather than spin
  for (;;) {
    spin_until(slot, std::min(spin_deadline_, turn_end),
               [&] { return has_ready_.load(std::memory_order_acquire); });
    if (has_ready_.load(std::memory_order_acquire)) {
      drain();
      // spinning_ is written on this thread only: no lock needed to read it here.
      if (!spinning_ || loop_->stop_flag != 0 || spin_clock() > turn_end) return;
      continue;
    }
    // The turn is over, but not this wait: let the loop go round (other bridges, timers, I/O).
    if (slot && spin_clock() <= spin_deadline_) return;
    // Spun out, or no spinning slot free: block in epoll; post() signals the async handle again.
    std::lock_guard lock(mutex_);
    stop_spinning_locked();
    if (!ready_.empty()) uv_async_send(&handle_->async);
    return;
  }
}

void LoopBridge::drain() {
  std::vector<std::unique_ptr<Delivery>> batch;
  std::size_t delivered = 0;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      outstanding_ -= delivered;
      batch.clear();
      batch.swap(ready_);
      has_ready_.store(false, std::memory_order_relaxed);
      if (batch.empty()) {
        if (handle_ != nullptr) {
          if (outstanding_ != 0) {
            uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->async));
            // A fresh wait begins for the jobs still outstanding.
            if (delivered != 0 || !spinning_) start_spinning_locked();
          } else {
            stop_spinning_locked();
            if (retired_) {
              close_locked();
            } else {
              uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->async));
            }
          }
        }
        return;
      }
    }
    // Deliver without the lock: callbacks submit new work and may retire the connection.
    for (auto& d : batch) {
      try {
        d->deliver();
      } catch (...) {
        report(std::current_exception());
      }
      d.reset();
    }
    delivered = batch.size();
  }
}

void LoopBridge::report(std::exception_ptr error) noexcept {
  ErrorHandler handler;
  {
    std::lock_guard lock(mutex_);
    handler = error_handler_;
  }
  if (handler) {
    try {
      handler(error);
      return;
    } catch (...) {
      error = std::current_exception();
    }
  }
  // As an uncaught exception would: say what it was, then terminate.
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uvsqlite: exception escaped a callback: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "uvsqlite: exception escaped a callback\n");
  }
  std::terminate();
}

}  // namespace uvsqlite::detail

#include "loop_bridge.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>

#include "cpu_presence.hpp"
#include "intrusive_chain.hpp"
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

// With more completions than this outstanding, and no other bridge spinning on the thread, the
// loop thread naps before each look (kPatientNap, plus the kernel's timer slack) instead of
// spinning, and after a look that found nothing it blocks in epoll, as a spin that ran out does:
// each look takes the cache line the worker's next post must take back, and on the virtual
// machines measured a spinning vCPU slowed the worker's, which is the bottleneck then, more than
// the naps delay a caller awaiting many results (they are delivered in batches). Measured on W3p
// (10,000 pipelined inserts), medians of 7 runs side by side: 0.703 of raw SQLite when spinning
// with a look every 2-3 us, 0.728 with 5 us naps, 0.749 with 20 us, 0.754 with 50 us, 0.723 with
// 100 us. While completions keep coming, the loop still goes round once a turn
// (kTurnNanoseconds, plus the nap in progress).
constexpr std::size_t kPatientBacklog = 16;
constexpr std::uint64_t kPatientNap = 20'000;

// The loop thread's wait for `ready()` until `until`, as its situation calls for: a nap with a
// backlog (above), yields with several bridges waiting, else a spin. False when it may not wait
// at all (no spinning slot free); napping and yielding need no slot, as they give the CPU away.
template <class Ready>
bool wait_for_posts(std::size_t backlog, std::uint64_t until, std::optional<SpinSlot>& slot,
                    CpuPresence& here, Ready&& ready) {
  if (t_spinning_bridges > 1) {
    // Several connections wait here, each with a worker of its own: more busy threads than a
    // small machine has CPUs, so look between yields (never pause), as the model of W5's floor
    // does. W5 (4 connections on 2 vCPUs), medians of 7 runs side by side: 0.309 pausing, 0.360
    // yielding (the model's floor: 0.356).
    slot.reset();
    yield_until(until, ready);
    return true;
  }
  if (backlog > kPatientBacklog) {
    slot.reset();
    if (!ready()) {
      here.leave();  // asleep, it crowds no worker off this CPU
      nap(kPatientNap);
      here.enter();
    }
    return true;
  }
  if (!slot) slot.emplace();
  spin_until(*slot, until, ready);
  return static_cast<bool>(*slot);
}
}  // namespace

// The uv handles and the reference that keeps the bridge alive until both close callbacks ran.
struct LoopBridge::AsyncHandle {
  uv_async_t async{};
  uv_idle_t idle{};
  int open_handles = 2;
  std::shared_ptr<LoopBridge> bridge;
};

LoopBridge::LoopBridge(uv_loop_t* loop) : loop_(loop), loop_thread_(uv_thread_self()) {}

LoopBridge::~LoopBridge() {
  // Nothing is left here in practice (the handle, which holds the bridge, stays open until
  // every expected delivery ran); should anything be, it is freed, not leaked.
  for (Delivery* d = posted_.exchange(nullptr, std::memory_order_acquire); d != nullptr;) {
    std::unique_ptr<Delivery> owned(d);
    d = d->posted_next;
  }
}

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
  if (--h->open_handles != 0) return;
  ErrorHandler handler;  // destroyed here, on the loop thread, after the lock
  {
    std::lock_guard lock(h->bridge->mutex_);
    if (h->bridge->abandoned_ && h->bridge->handle_ == nullptr)
      handler = std::move(h->bridge->error_handler_);
  }
  delete h;
}

void LoopBridge::start_spinning_locked() noexcept {
  deadline_stale_ = true;  // the clock is read once spin() runs, not once per submission
  if (!spinning_.load(std::memory_order_relaxed) && handle_ != nullptr) {
    spinning_.store(true, std::memory_order_relaxed);
    ++t_spinning_bridges;
    uv_idle_start(&handle_->idle, &LoopBridge::on_idle);
  }
}

void LoopBridge::stop_spinning_locked() noexcept {
  if (!spinning_.load(std::memory_order_relaxed)) return;
  // seq_cst, as post()'s push and look: either the poster sees the loop not spinning (and
  // signals), or the loop's next look at posted_ (after this) sees the delivery.
  spinning_.store(false, std::memory_order_seq_cst);
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
    backlog_ = outstanding_;
    if (outstanding_ == 1) uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->async));
    // The caller will most likely wait for this job next: be spinning when it completes.
    start_spinning_locked();
  }
}

void LoopBridge::post(std::unique_ptr<Delivery> delivery) noexcept {
  Delivery* d = delivery.release();
  Delivery* head = posted_.load(std::memory_order_relaxed);
  do {
    d->posted_next = head;
  } while (!posted_.compare_exchange_weak(head, d, std::memory_order_seq_cst, std::memory_order_relaxed));
  // A spinning loop thread finds the delivery on its own (it looks at posted_ again after it
  // stops spinning). The delivery may be gone already; the bridge is the caller's to keep.
  if (spinning_.load(std::memory_order_seq_cst)) return;
  std::lock_guard lock(mutex_);
  // outstanding_ > 0 keeps the handle open until the delivery ran; a null handle means it ran.
  if (handle_ != nullptr) uv_async_send(&handle_->async);
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

void LoopBridge::abandon() noexcept {
  {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
  }
  retire();
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
  const std::uint64_t now = spin_clock();
  const std::uint64_t turn_end = now + (t_spinning_bridges > 1 ? kSliceNanoseconds : kTurnNanoseconds);
  if (deadline_stale_) {
    spin_deadline_ = now + kSpinNanoseconds;
    deadline_stale_ = false;
  }
  std::optional<SpinSlot> slot;  // claimed to spin; a napping thread is not spinning
  CpuPresence here;              // a worker that shares this CPU then sleeps rather than spin
  for (;;) {
    const auto has_posts = [&] { return posted_.load(std::memory_order_acquire) != nullptr; };
    const bool may_wait = wait_for_posts(backlog_, std::min(spin_deadline_, turn_end), slot, here, has_posts);
    if (has_posts()) {
      drain();
      // spinning_ is written on this thread only.
      if (!spinning_.load(std::memory_order_relaxed) || loop_->stop_flag != 0) return;
      const std::uint64_t after = spin_clock();
      if (after > turn_end) return;
      if (deadline_stale_) {  // the deliveries submitted more: a fresh wait
        spin_deadline_ = after + kSpinNanoseconds;
        deadline_stale_ = false;
      }
      continue;
    }
    // The turn is over, but not this wait: let the loop go round (other bridges, timers, I/O).
    if (may_wait && spin_clock() <= spin_deadline_) return;
    // Spun out (a nap that found nothing usually outlasts the wait), or no spinning slot free:
    // block in epoll; post() signals the async handle again.
    std::lock_guard lock(mutex_);
    stop_spinning_locked();
    if (posted_.load(std::memory_order_seq_cst) != nullptr) uv_async_send(&handle_->async);
    return;
  }
}

void LoopBridge::drain() {
  std::size_t delivered = 0;
  for (;;) {
    Delivery* newest = posted_.exchange(nullptr, std::memory_order_acquire);
    if (newest == nullptr || delivered != 0) {
      std::lock_guard lock(mutex_);
      outstanding_ -= delivered;
      backlog_ = outstanding_;
      // Nothing posted (a post from now on finds the loop spinning, or signals it): settle the
      // handle's state for what is still outstanding.
      if (newest == nullptr) {
        if (handle_ != nullptr) {
          if (outstanding_ != 0) {
            uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->async));
            // A fresh wait begins for the jobs still outstanding.
            if (delivered != 0 || !spinning_.load(std::memory_order_relaxed)) start_spinning_locked();
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
    Delivery* oldest = oldest_first(newest, &Delivery::posted_next);  // as posted
    // Deliver without the lock: callbacks submit new work and may retire the connection.
    delivered = 0;
    while (oldest != nullptr) {
      std::unique_ptr<Delivery> d(oldest);
      oldest = oldest->posted_next;
      try {
        d->deliver();
      } catch (...) {
        report(std::current_exception());
      }
      ++delivered;
    }
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

#include "loop_bridge.hpp"

#include <cstdio>
#include <exception>

#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

// The uv handle and the reference that keeps the bridge alive until the close callback.
struct LoopBridge::AsyncHandle {
  uv_async_t async{};
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
  h->bridge = shared_from_this();
  h->async.data = h;
  uv_unref(reinterpret_cast<uv_handle_t*>(&h->async));
  handle_ = h;
}

void LoopBridge::close_locked() noexcept {
  AsyncHandle* h = handle_;
  handle_ = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&h->async), &LoopBridge::on_close);
}

void LoopBridge::on_close(uv_handle_t* handle) { delete static_cast<AsyncHandle*>(handle->data); }

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
  if (++outstanding_ == 1) {
    if (here) {
      uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->async));
    } else {
      uv_async_send(&handle_->async);  // the loop thread references the handle in drain()
    }
  }
}

void LoopBridge::post(std::unique_ptr<Delivery> delivery) noexcept {
  std::lock_guard lock(mutex_);
  ready_.push_back(std::move(delivery));
  // outstanding_ > 0 keeps the handle open until this delivery ran.
  uv_async_send(&handle_->async);
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
  self->drain();
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
      if (batch.empty()) {
        if (handle_ != nullptr) {
          if (outstanding_ != 0) {
            uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->async));
          } else if (retired_) {
            close_locked();
          } else {
            uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->async));
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

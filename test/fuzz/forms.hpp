#pragma once
// Runs one uvsqlite operation to its end in the completion form an input chose (future,
// callback on the loop, or co_await on the loop) and returns its result or rethrows its error,
// so that a fuzz target writes each operation once and covers all three forms.

#include <uv.h>

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "uvsqlite/uvsqlite.hpp"

namespace uvsqlite::fuzz {

/// A completion form.
enum class Form { Future, Callback, Awaitable };

/// A coroutine that starts at once and frees itself when its body ends.
struct DetachedTask {
  struct promise_type {
    DetachedTask get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    // The bodies below catch everything; an exception here is a harness bug.
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

/// Where a callback or coroutine leaves an operation's outcome.
template <class T>
struct Outcome {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
};
/// void has no value: a completed void operation leaves `true`.
struct Done {};

namespace detail {

template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, Done, T>;

template <class T, class Op>
DetachedTask await_into(Op op, Outcome<Stored<T>>& out) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await op(use_awaitable);
      out.value.emplace();
    } else {
      out.value.emplace(co_await op(use_awaitable));
    }
  } catch (...) {
    out.error = std::current_exception();
  }
  out.done = true;
}

}  // namespace detail

/// Runs `op(token)`, an operation returning T, in `form`. The callback and awaitable forms need
/// `loop` (the connection's), which runs until the operation completes; a lost completion
/// therefore hangs here, and libFuzzer reports the hang.
template <class T, class Op>
T complete(uv_loop_t* loop, Form form, Op op) {
  if (form == Form::Future || loop == nullptr) return op(use_future).get();
  Outcome<detail::Stored<T>> out;
  if (form == Form::Callback) {
    if constexpr (std::is_void_v<T>) {
      op([&out](std::exception_ptr e) {
        out.error = std::move(e);
        if (!out.error) out.value.emplace();
        out.done = true;
      });
    } else {
      op([&out](std::exception_ptr e, T v) {
        out.error = std::move(e);
        if (!out.error) out.value.emplace(std::move(v));
        out.done = true;
      });
    }
  } else {
    detail::await_into<T>(op, out);
  }
  while (!out.done) uv_run(loop, UV_RUN_ONCE);
  if (out.error) std::rethrow_exception(out.error);
  if constexpr (!std::is_void_v<T>) return std::move(*out.value);
}

}  // namespace uvsqlite::fuzz

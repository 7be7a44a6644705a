#pragma once
/// @file completion.hpp
/// The three completion forms of every asynchronous operation, produced by one mechanism.
///
/// An operation is written once as a "start" function that hands a Completion<T> to the
/// connection's worker. The last argument of the public call (the completion token) picks the
/// Completion implementation:
///
/// | token                | returns          | where the result arrives                          |
/// |----------------------|------------------|---------------------------------------------------|
/// | none / use_future    | std::future<T>   | fulfilled on the worker thread                    |
/// | callable             | void             | `fn(std::exception_ptr, T)` on the loop thread    |
/// | use_awaitable        | an awaitable of T| `co_await` resumes on the loop thread             |
///
/// Loop forms are never invoked inside the initiating call: they are always posted through the
/// connection's uv_async_t, even when the outcome is known at once.

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace uvsqlite {

/// Token: complete through a std::future (the default when no token is given).
struct use_future_t {};
/// Token for the std::future form.
inline constexpr use_future_t use_future{};

/// Token: return an awaitable for C++20 `co_await`, resumed on the connection's loop thread.
struct use_awaitable_t {};
/// Token for the awaitable form.
inline constexpr use_awaitable_t use_awaitable{};

/// Receives exceptions that escape user callbacks on the loop thread (they never unwind through
/// libuv). The default handler prints the exception and calls std::terminate.
using ErrorHandler = std::function<void(std::exception_ptr)>;

/// A Node-style error-first callback for a result of type T: `void(std::exception_ptr, T)`, or
/// `void(std::exception_ptr)` when T is void. Move-only callables are accepted.
template <class H, class T>
concept CompletionHandler =
    (std::is_void_v<T> && std::is_invocable_v<H&, std::exception_ptr>) ||
    (!std::is_void_v<T> &&
     std::is_invocable_v<H&, std::exception_ptr, std::conditional_t<std::is_void_v<T>, int, T>>);

/// Anything that may be passed as the last argument of an operation completing with T.
template <class Token, class T>
concept CompletionToken = std::is_same_v<std::remove_cvref_t<Token>, use_future_t> ||
    std::is_same_v<std::remove_cvref_t<Token>, use_awaitable_t> ||
    CompletionHandler<std::remove_cvref_t<Token>, T>;

namespace detail {

/// What an operation produced: an exception, or a value (none for void).
template <class T>
struct Outcome {
  std::exception_ptr error;
  std::optional<T> value;
};
template <>
struct Outcome<void> {
  std::exception_ptr error;
};

/// A settled completion as the loop bridge sees it: something to run on the loop thread.
class Delivery {
 public:
  Delivery() = default;
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;
  virtual ~Delivery() = default;
  /// Loop thread. What it throws is caught by the bridge and given to the error handler.
  virtual void deliver() = 0;

  /// The delivery posted before this one, while both wait in a loop bridge.
  Delivery* posted_next = nullptr;
};

/// The receiving end of one operation. The worker calls settle() exactly once; loop forms are
/// then posted to the loop bridge, which calls deliver() on the loop thread and deletes them.
template <class T>
class Completion : public Delivery {
 public:
  explicit Completion(bool on_loop) noexcept : on_loop_(on_loop) {}
  /// True when deliver() must run on the loop thread (callback and awaitable forms).
  [[nodiscard]] bool on_loop() const noexcept { return on_loop_; }
  /// Worker thread (or the submitting thread for a job that never reached a worker).
  virtual void settle(Outcome<T>&& outcome) noexcept = 0;

 protected:
  // For a completion moved out of its initiating frame (PendingCompletion): the moved one is in
  // no bridge's list.
  Completion(Completion&& other) noexcept : Delivery(), on_loop_(other.on_loop_) {}

 private:
  bool on_loop_;
};

/// A completion on the heap, owned.
template <class T>
using CompletionPtr = std::unique_ptr<Completion<T>>;

/// True when a completion of type C may live in the initiating call's frame and be moved into
/// the job's own allocation (see PendingCompletion).
template <class C>
inline constexpr bool relocatable_v = std::is_nothrow_move_constructible_v<C> &&
                                      alignof(C) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__;

/// The completion a start function receives: owned on the heap, or still in the initiating
/// call's frame (the common case, to spare an allocation). A start function consumes it before
/// it returns: the job takes it (moving a framed one into the job's own allocation), or it is
/// settled there, or moved to the heap with to_heap() to be kept longer.
template <class T>
class PendingCompletion {
 public:
  /// Owns `owned`.
  explicit PendingCompletion(CompletionPtr<T> owned) noexcept : completion_(owned.release()) {}
  /// Borrows `framed`, which lives in the initiating call's frame; its type, known here, says
  /// how to move it.
  template <class C>
  static PendingCompletion framed(C& framed) noexcept {
    static_assert(std::is_base_of_v<Completion<T>, C> && std::is_final_v<C> && relocatable_v<C>,
                  "only a final completion that can move is left in the frame");
    PendingCompletion pending;
    pending.completion_ = &framed;
    pending.framed_size_ = sizeof(C);
    pending.move_to_ = [](Completion<T>* from, void* where) noexcept -> Completion<T>* {
      return ::new (where) C(std::move(static_cast<C&>(*from)));
    };
    return pending;
  }

  PendingCompletion(PendingCompletion&& other) noexcept
      : completion_(std::exchange(other.completion_, nullptr)),
        move_to_(std::exchange(other.move_to_, nullptr)),
        framed_size_(std::exchange(other.framed_size_, 0)) {}
  PendingCompletion& operator=(PendingCompletion&& other) noexcept {
    if (this != &other) {
      reset();
      completion_ = std::exchange(other.completion_, nullptr);
      move_to_ = std::exchange(other.move_to_, nullptr);
      framed_size_ = std::exchange(other.framed_size_, 0);
    }
    return *this;
  }
  PendingCompletion(const PendingCompletion&) = delete;
  PendingCompletion& operator=(const PendingCompletion&) = delete;
  ~PendingCompletion() { reset(); }

  Completion<T>* operator->() const noexcept { return completion_; }
  Completion<T>& operator*() const noexcept { return *completion_; }
  [[nodiscard]] Completion<T>* get() const noexcept { return completion_; }
  explicit operator bool() const noexcept { return completion_ != nullptr; }
  /// Lets go: an owned completion is destroyed; a framed one is left to its frame.
  void reset() noexcept {
    if (move_to_ == nullptr) delete completion_;
    completion_ = nullptr;
    move_to_ = nullptr;
    framed_size_ = 0;
  }

  /// The bytes a job must set aside to take this completion in: 0 when it is owned already.
  [[nodiscard]] std::size_t footprint() const noexcept { return framed_size_; }
  /// Moves a framed completion into `where` (footprint() bytes, aligned as operator new
  /// aligns), or hands over an owned one; the caller owns the result (destroying it in place,
  /// or deleting it).
  Completion<T>* take(void* where) noexcept {
    Completion<T>* taken = move_to_ == nullptr ? completion_ : move_to_(completion_, where);
    completion_ = nullptr;
    reset();
    return taken;
  }
  /// An owned completion on the heap, moving a framed one there. @throws std::bad_alloc
  CompletionPtr<T> to_heap() && {
    if (move_to_ == nullptr) return CompletionPtr<T>(std::exchange(completion_, nullptr));
    return CompletionPtr<T>(take(::operator new(framed_size_)));
  }

 private:
  PendingCompletion() noexcept = default;
  Completion<T>* completion_ = nullptr;
  // Framed only: moves the completion out of its frame, and the bytes its type needs.
  Completion<T>* (*move_to_)(Completion<T>*, void*) noexcept = nullptr;
  std::size_t framed_size_ = 0;
};

/// The future form: the promise is fulfilled inside settle(), on the worker.
template <class T>
class FutureCompletion final : public Completion<T> {
 public:
  FutureCompletion() noexcept : Completion<T>(false) {}
  FutureCompletion(FutureCompletion&&) noexcept = default;
  std::future<T> future() { return promise_.get_future(); }
  void settle(Outcome<T>&& outcome) noexcept override {
    if (outcome.error) {
      promise_.set_exception(std::move(outcome.error));
    } else if constexpr (std::is_void_v<T>) {
      promise_.set_value();
    } else {
      promise_.set_value(std::move(*outcome.value));
    }
  }
  void deliver() override {}

 private:
  std::promise<T> promise_;
};

/// The callback form: settle() stores the outcome, deliver() calls the handler on the loop.
template <class T, class H>
class HandlerCompletion final : public Completion<T> {
 public:
  explicit HandlerCompletion(H handler) : Completion<T>(true), handler_(std::move(handler)) {}
  // Whether it may move into a job depends on the handler's own move (see relocatable_v).
  HandlerCompletion(HandlerCompletion&&) noexcept(
      std::is_nothrow_move_constructible_v<H>&& std::is_nothrow_move_constructible_v<Outcome<T>>) = default;
  void settle(Outcome<T>&& outcome) noexcept override { outcome_ = std::move(outcome); }
  void deliver() override {
    if constexpr (std::is_void_v<T>) {
      handler_(std::move(outcome_.error));
    } else if (outcome_.error) {
      handler_(std::move(outcome_.error), T{});
    } else {
      handler_(std::exception_ptr{}, std::move(*outcome_.value));
    }
  }

 private:
  H handler_;
  Outcome<T> outcome_;
};

/// The awaitable form. Nothing starts until the coroutine suspends on it; then the operation is
/// submitted with a completion that resumes the coroutine on the loop thread.
template <class T, class Start>
class Awaitable {
 public:
  explicit Awaitable(Start start) : start_(std::move(start)) {}
  [[nodiscard]] bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle) {
    Resume resume(this, handle);
    start_(PendingCompletion<T>::framed(resume));
  }
  T await_resume() {
    if (outcome_.error) std::rethrow_exception(outcome_.error);
    if constexpr (!std::is_void_v<T>) return std::move(*outcome_.value);
  }

 private:
  class Resume final : public Completion<T> {
   public:
    Resume(Awaitable* owner, std::coroutine_handle<> handle) noexcept
        : Completion<T>(true), owner_(owner), handle_(handle) {}
    Resume(Resume&&) noexcept = default;
    // The awaitable lives in the suspended coroutine's frame until resume().
    void settle(Outcome<T>&& outcome) noexcept override { owner_->outcome_ = std::move(outcome); }
    void deliver() override { handle_.resume(); }

   private:
    Awaitable* owner_;
    std::coroutine_handle<> handle_;
  };

  Start start_;
  Outcome<T> outcome_;
};

/// User work that runs on the worker with a resource of the connection (Connection::call): a
/// Completion<void> to the library, that settles the user's Completion<T> with what the work
/// produced. `Arg` is the argument the worker hands to the work.
template <class Arg>
class WorkCompletion : public Completion<void> {
 public:
  using Completion<void>::Completion;
  /// Worker thread: runs the user's work and keeps its outcome.
  virtual void invoke(Arg arg) noexcept = 0;
};

template <class Arg, class T, class Fn>
class UserWork final : public WorkCompletion<Arg> {
 public:
  UserWork(Fn fn, PendingCompletion<T> inner)
      : WorkCompletion<Arg>(inner->on_loop()), fn_(std::move(fn)), inner_(std::move(inner).to_heap()) {}
  void invoke(Arg arg) noexcept override {
    try {
      if constexpr (std::is_void_v<T>) {
        fn_(arg);
      } else {
        result_.value.emplace(fn_(arg));
      }
    } catch (...) {
      result_.error = std::current_exception();
    }
  }
  void settle(Outcome<void>&& outcome) noexcept override {
    if (outcome.error) result_.error = std::move(outcome.error);  // the work never ran
    inner_->settle(std::move(result_));
  }
  void deliver() override { inner_->deliver(); }

 private:
  Fn fn_;
  CompletionPtr<T> inner_;
  Outcome<T> result_;
};

/// Converts an operation's result on the worker before the user's completion sees it (rows
/// into user types): a conversion that throws settles the user's completion with the exception.
template <class From, class To, class Fn>
class MapCompletion final : public Completion<From> {
 public:
  MapCompletion(Fn fn, PendingCompletion<To> inner)
      : Completion<From>(inner->on_loop()), fn_(std::move(fn)), inner_(std::move(inner).to_heap()) {}
  void settle(Outcome<From>&& outcome) noexcept override {
    Outcome<To> mapped;
    mapped.error = std::move(outcome.error);
    if (!mapped.error) {
      try {
        mapped.value.emplace(fn_(std::move(*outcome.value)));
      } catch (...) {
        mapped.error = std::current_exception();
      }
    }
    inner_->settle(std::move(mapped));
  }
  void deliver() override { inner_->deliver(); }

 private:
  Fn fn_;
  CompletionPtr<To> inner_;
};

/// A bounded spin for a future about to be handed out. Callers of the future form block on it
/// next, and a blocked thread's wake-up (a halted vCPU on virtual machines) costs more than most
/// jobs; so the submitting thread waits briefly (about 30 us at most, and only while the process
/// has a spinning slot free) until `ready(state)` is true. It counts as busy on its CPU while it
/// waits, so that a worker sharing that CPU sleeps rather than spin beside it.
void wait_briefly(bool (*ready)(const void* state), const void* state) noexcept;

/// The one mechanism: turns a completion token and a start function into the token's form.
/// `start` receives a PendingCompletion<T> and submits the operation; it may throw (for a loop
/// form on a connection without a loop) before anything was queued. The completion is made in
/// this frame when it can move (the job then takes it into its own allocation: one allocation
/// per operation), on the heap otherwise.
template <class T, class Token, class Start>
auto initiate(Token&& token, Start&& start) {
  using D = std::remove_cvref_t<Token>;
  if constexpr (std::is_same_v<D, use_future_t>) {
    FutureCompletion<T> completion;
    auto future = completion.future();
    std::forward<Start>(start)(PendingCompletion<T>::framed(completion));
    wait_briefly(
        [](const void* f) {
          return static_cast<const std::future<T>*>(f)->wait_for(std::chrono::seconds(0)) ==
                 std::future_status::ready;
        },
        &future);
    return future;
  } else if constexpr (std::is_same_v<D, use_awaitable_t>) {
    return Awaitable<T, std::decay_t<Start>>(std::forward<Start>(start));
  } else if constexpr (relocatable_v<HandlerCompletion<T, D>>) {
    HandlerCompletion<T, D> completion(std::forward<Token>(token));
    std::forward<Start>(start)(PendingCompletion<T>::framed(completion));
  } else {
    std::forward<Start>(start)(
        PendingCompletion<T>(std::make_unique<HandlerCompletion<T, D>>(std::forward<Token>(token))));
  }
}

}  // namespace detail
}  // namespace uvsqlite

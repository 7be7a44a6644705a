#pragma once
/// @file params.hpp
/// Statement parameters: a list of positional values or a map of named ones.
///
/// Thread-safety: a plain value type.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "uvsqlite/value.hpp"

namespace uvsqlite {

/// Parameters for one execution of a statement.
///
/// Positional values fill `?` and `?NNN` placeholders by index; named values fill `:name`,
/// `@name` and `$name` by name (given without the prefix character). As in Python's sqlite3,
/// extra named values are ignored, while a missing name or a wrong count of positional values is
/// a ProgrammingError when the statement runs.
///
/// @code
///   db.execute("SELECT ?, ?", {1, "x"});
///   db.execute("SELECT :a", {{"a", 1}});
/// @endcode
///
/// Up to three positional values live inside the Params itself, so the common statement's
/// parameters cost no allocation of their own (an executemany of 100,000 rows makes 100,000
/// fewer); longer lists, and vectors handed over whole, are kept in a std::vector.
class Params {
 public:
  /// No parameters.
  Params() = default;
  /// Positional values, from a braced list.
  Params(std::initializer_list<Value> positional) {  // NOLINT(google-explicit-constructor)
    if (positional.size() <= kInline) {
      for (const Value& v : positional) inline_[inline_size_++] = v;
    } else {
      heap_.assign(positional.begin(), positional.end());
    }
  }
  /// Named values, from a braced list of {name, value} pairs.
  Params(std::initializer_list<std::pair<std::string, Value>> named)  // NOLINT
      : named_(named), is_named_(true) {}
  /// Positional values built at run time (the vector is kept as it is: no copy).
  Params(std::vector<Value> positional) noexcept  // NOLINT(google-explicit-constructor)
      : heap_(std::move(positional)) {}
  /// Named values built at run time.
  Params(std::vector<std::pair<std::string, Value>> named) noexcept  // NOLINT
      : named_(std::move(named)), is_named_(true) {}
  /// Named values built at run time.
  Params(const std::map<std::string, Value>& named)  // NOLINT(google-explicit-constructor)
      : named_(named.begin(), named.end()), is_named_(true) {}

  Params(const Params&) = default;
  Params& operator=(const Params&) = default;
  /// Leaves `other` without values.
  Params(Params&& other) noexcept
      : inline_(std::move(other.inline_)),
        heap_(std::move(other.heap_)),
        named_(std::move(other.named_)),
        inline_size_(std::exchange(other.inline_size_, 0)),
        is_named_(other.is_named_) {}
  /// Leaves `other` without values.
  Params& operator=(Params&& other) noexcept {
    inline_ = std::move(other.inline_);
    heap_ = std::move(other.heap_);
    named_ = std::move(other.named_);
    inline_size_ = std::exchange(other.inline_size_, 0);
    is_named_ = other.is_named_;
    return *this;
  }
  ~Params() = default;

  /// True when the values are named (a mapping), false for a positional list.
  [[nodiscard]] bool is_named() const noexcept { return is_named_; }
  /// The positional values (empty when named).
  [[nodiscard]] std::span<const Value> positional() const noexcept {
    if (inline_size_ != 0) return {inline_.data(), inline_size_};
    return {heap_.data(), heap_.size()};
  }
  /// The named values (empty when positional).
  [[nodiscard]] const std::vector<std::pair<std::string, Value>>& named() const noexcept { return named_; }
  /// Number of values given.
  [[nodiscard]] std::size_t size() const noexcept { return is_named_ ? named_.size() : positional().size(); }

 private:
  static constexpr std::size_t kInline = 3;
  std::array<Value, kInline> inline_{};  // the first inline_size_ are the values, when short
  std::vector<Value> heap_;              // the values otherwise
  std::vector<std::pair<std::string, Value>> named_;
  std::uint8_t inline_size_ = 0;
  bool is_named_ = false;
};

/// Yields executemany()'s parameter sets one at a time; std::nullopt ends the sequence.
///
/// Called on the connection's worker thread, one call per row just before that row runs, the way
/// aiosqlite consumes an iterator on its thread: rows are made as they are inserted, so a long
/// sequence never has to sit in memory whole. It is also destroyed there, when executemany()
/// ends, before its completion. Like every hook, it must not wait for a future of
/// its own connection. An exception it throws ends executemany() with that exception; the rows
/// already run stay in the open transaction, as in Python.
using ParamsSource = std::function<std::optional<Params>()>;

/// Anything a ParamsSource can be made from: a copyable callable whose result is exactly
/// std::optional<Params>. (A callable returning Params, which would convert to an engaged
/// optional every time and never end the sequence, is refused at compile time.)
template <class S>
concept ParamsGenerator = std::copy_constructible<S> && std::is_invocable_v<S&> &&
    std::same_as<std::remove_cvref_t<std::invoke_result_t<S&>>, std::optional<Params>>;

}  // namespace uvsqlite

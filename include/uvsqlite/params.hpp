#pragma once
/// @file params.hpp
/// Statement parameters: a list of positional values or a map of named ones.
///
/// Thread-safety: a plain value type.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <new>
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
/// Up to three positional values live inside the Params, so the common statement's
/// parameters cost no allocation of their own (an executemany of 100,000 rows makes 100,000
/// fewer); longer lists, and vectors handed over whole, are kept in a std::vector. The three
/// forms share one storage, which keeps a Params at 80 bytes: an executemany's rows are read
/// on the worker and destroyed where they were made, so their size is memory crossed twice.
class Params {
 public:
  /// No parameters.
  Params() noexcept = default;
  /// Positional values, from a braced list.
  Params(std::initializer_list<Value> positional) {  // NOLINT(google-explicit-constructor)
    if (positional.size() <= kInline) {
      copy_inline(positional.begin(), positional.size());
    } else {
      ::new (static_cast<void*>(storage_)) Positional(positional.begin(), positional.end());
      form_ = Form::Heap;
    }
  }
  /// Named values, from a braced list of {name, value} pairs.
  Params(std::initializer_list<std::pair<std::string, Value>> named)  // NOLINT
  {
    ::new (static_cast<void*>(storage_)) Named(named);
    form_ = Form::Named;
  }
  /// Positional values built at run time (the vector is kept as it is: no copy).
  Params(std::vector<Value> positional) noexcept  // NOLINT(google-explicit-constructor)
  {
    ::new (static_cast<void*>(storage_)) Positional(std::move(positional));
    form_ = Form::Heap;
  }
  /// Named values built at run time.
  Params(std::vector<std::pair<std::string, Value>> named) noexcept  // NOLINT
  {
    ::new (static_cast<void*>(storage_)) Named(std::move(named));
    form_ = Form::Named;
  }
  /// Named values built at run time.
  Params(const std::map<std::string, Value>& named)  // NOLINT(google-explicit-constructor)
      : Params(Named(named.begin(), named.end())) {}

  Params(const Params& other) {
    switch (other.form_) {
      case Form::Inline:
        copy_inline(other.inline_values(), other.size_);
        break;
      case Form::Heap:
        ::new (static_cast<void*>(storage_)) Positional(other.heap());
        break;
      case Form::Named:
        ::new (static_cast<void*>(storage_)) Named(other.named_list());
        break;
    }
    form_ = other.form_;
  }
  Params& operator=(const Params& other) {
    if (this != &other) *this = Params(other);
    return *this;
  }
  /// Leaves `other` without values.
  Params(Params&& other) noexcept { take(other); }
  /// Leaves `other` without values.
  Params& operator=(Params&& other) noexcept {
    if (this != &other) {
      clear();
      take(other);
    }
    return *this;
  }
  ~Params() { clear(); }

  /// True when the values are named (a mapping), false for a positional list.
  [[nodiscard]] bool is_named() const noexcept { return form_ == Form::Named; }
  /// The positional values (empty when named).
  [[nodiscard]] std::span<const Value> positional() const noexcept {
    switch (form_) {
      case Form::Inline:
        return {inline_values(), size_};
      case Form::Heap:
        return {heap().data(), heap().size()};
      case Form::Named:
        break;
    }
    return {};
  }
  /// The named values (empty when positional).
  [[nodiscard]] const std::vector<std::pair<std::string, Value>>& named() const noexcept {
    static const Named none;
    return form_ == Form::Named ? named_list() : none;
  }
  /// Number of values given.
  [[nodiscard]] std::size_t size() const noexcept {
    return is_named() ? named_list().size() : positional().size();
  }

 private:
  using Positional = std::vector<Value>;
  using Named = std::vector<std::pair<std::string, Value>>;
  static constexpr std::size_t kInline = 3;
  enum class Form : std::uint8_t { Inline, Heap, Named };

  Value* inline_values() noexcept { return std::launder(reinterpret_cast<Value*>(storage_)); }
  [[nodiscard]] const Value* inline_values() const noexcept {
    return std::launder(reinterpret_cast<const Value*>(storage_));
  }
  Positional& heap() noexcept { return *std::launder(reinterpret_cast<Positional*>(storage_)); }
  [[nodiscard]] const Positional& heap() const noexcept {
    return *std::launder(reinterpret_cast<const Positional*>(storage_));
  }
  Named& named_list() noexcept { return *std::launder(reinterpret_cast<Named*>(storage_)); }
  [[nodiscard]] const Named& named_list() const noexcept {
    return *std::launder(reinterpret_cast<const Named*>(storage_));
  }

  // Copies `n` values in (this holds none); a copy that throws leaves none.
  void copy_inline(const Value* values, std::size_t n) {
    try {
      for (; size_ < n; ++size_) ::new (static_cast<void*>(inline_values() + size_)) Value(values[size_]);
    } catch (...) {
      clear();
      throw;
    }
  }
  // Moves other's values in (this holds none) and leaves other empty.
  void take(Params& other) noexcept {
    if (other.form_ == Form::Inline) {
      Value* to = inline_values();
      Value* from = other.inline_values();
      for (std::uint8_t i = 0; i < other.size_; ++i)
        ::new (static_cast<void*>(to + i)) Value(std::move(from[i]));
      size_ = other.size_;
      other.size_ = 0;  // what a move leaves is NULL, with nothing to destroy
      return;
    }
    if (other.form_ == Form::Heap) {
      ::new (static_cast<void*>(storage_)) Positional(std::move(other.heap()));
    } else {
      ::new (static_cast<void*>(storage_)) Named(std::move(other.named_list()));
    }
    form_ = other.form_;
    other.clear();
  }
  // Destroys the values: an empty positional list remains.
  void clear() noexcept {
    switch (form_) {
      case Form::Inline:
        std::destroy_n(inline_values(), size_);
        break;
      case Form::Heap:
        std::destroy_at(&heap());
        break;
      case Form::Named:
        std::destroy_at(&named_list());
        break;
    }
    size_ = 0;
    form_ = Form::Inline;
  }

  static constexpr std::size_t kStorage =
      std::max({kInline * sizeof(Value), sizeof(Positional), sizeof(Named)});
  std::uint8_t size_ = 0;  // constructed inline values (Form::Inline)
  Form form_ = Form::Inline;
  alignas(Value) alignas(Positional) alignas(Named) unsigned char storage_[kStorage];
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

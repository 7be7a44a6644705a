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
  Params() noexcept {}  // NOLINT(modernize-use-equals-default): the union stays unconstructed
  /// Positional values, from a braced list.
  Params(std::initializer_list<Value> positional) {  // NOLINT(google-explicit-constructor)
    if (positional.size() <= kInline) {
      copy_inline(positional.begin(), positional.size());
    } else {
      std::construct_at(&heap_, positional.begin(), positional.end());
      form_ = Form::Heap;
    }
  }
  /// Named values, from a braced list of {name, value} pairs.
  Params(std::initializer_list<std::pair<std::string, Value>> named)  // NOLINT
  {
    std::construct_at(&named_, named);
    form_ = Form::Named;
  }
  /// Positional values built at run time (the vector is kept as it is: no copy).
  Params(std::vector<Value> positional) noexcept  // NOLINT(google-explicit-constructor)
  {
    std::construct_at(&heap_, std::move(positional));
    form_ = Form::Heap;
  }
  /// Named values built at run time.
  Params(std::vector<std::pair<std::string, Value>> named) noexcept  // NOLINT
  {
    std::construct_at(&named_, std::move(named));
    form_ = Form::Named;
  }
  /// Named values built at run time.
  Params(const std::map<std::string, Value>& named)  // NOLINT(google-explicit-constructor)
      : Params(Named(named.begin(), named.end())) {}

  Params(const Params& other) {
    switch (other.form_) {
      case Form::Inline:
        copy_inline(other.inline_, other.size_);
        break;
      case Form::Heap:
        std::construct_at(&heap_, other.heap_);
        break;
      case Form::Named:
        std::construct_at(&named_, other.named_);
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
        return {inline_, size_};
      case Form::Heap:
        return {heap_.data(), heap_.size()};
      case Form::Named:
        break;
    }
    return {};
  }
  /// The named values (empty when positional).
  [[nodiscard]] const std::vector<std::pair<std::string, Value>>& named() const noexcept {
    static const Named none;
    return form_ == Form::Named ? named_ : none;
  }
  /// Number of values given.
  [[nodiscard]] std::size_t size() const noexcept { return is_named() ? named_.size() : positional().size(); }

 private:
  using Positional = std::vector<Value>;
  using Named = std::vector<std::pair<std::string, Value>>;
  static constexpr std::size_t kInline = 3;
  enum class Form : std::uint8_t { Inline, Heap, Named };

  // Copies `n` values in (this holds none); a copy that throws leaves none.
  void copy_inline(const Value* values, std::size_t n) {
    try {
      for (; size_ < n && size_ < kInline; ++size_) std::construct_at(inline_ + size_, values[size_]);
    } catch (...) {
      clear();
      throw;
    }
  }
  // Moves other's values in (this holds none) and leaves other empty.
  void take(Params& other) noexcept {
    if (other.form_ == Form::Inline) {
      for (std::size_t i = 0; i < kInline && i < other.size_; ++i)  // (the bound, for the compiler)
        std::construct_at(inline_ + i, std::move(other.inline_[i]));
      size_ = other.size_;
      // The moved-from values are NULL, whose destructor does nothing: they are not destroyed.
      other.size_ = 0;
      return;
    }
    if (other.form_ == Form::Heap) {
      std::construct_at(&heap_, std::move(other.heap_));
    } else {
      std::construct_at(&named_, std::move(other.named_));
    }
    form_ = other.form_;
    other.clear();
  }
  // Destroys the values: an empty positional list remains.
  void clear() noexcept {
    switch (form_) {
      case Form::Inline:
        std::destroy_n(inline_, std::min<std::size_t>(size_, kInline));
        break;
      case Form::Heap:
        std::destroy_at(&heap_);
        break;
      case Form::Named:
        std::destroy_at(&named_);
        break;
    }
    size_ = 0;
    form_ = Form::Inline;
  }

  std::uint8_t size_ = 0;  // constructed values of inline_ (Form::Inline)
  Form form_ = Form::Inline;
  union {  // the member form_ names
    Value inline_[kInline];
    Positional heap_;
    Named named_;
  };
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

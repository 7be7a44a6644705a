#pragma once
/// @file value.hpp
/// One SQLite value: NULL, 64-bit integer, double, UTF-8 text or blob.
///
/// Thread-safety: a Value is a plain value type; distinct objects may be used from any thread.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "uvsqlite/errors.hpp"

namespace uvsqlite {

/// The storage class of a Value (SQLite's fundamental datatypes).
enum class Type { Null, Integer, Real, Text, Blob };

/// Binary data; an empty Blob is an empty blob, never NULL.
using Blob = std::vector<std::byte>;

/// Name of a Type, for messages ("NULL", "INTEGER", "REAL", "TEXT", "BLOB").
[[nodiscard]] const char* type_name(Type type) noexcept;

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
[[noreturn]] void throw_wrong_type(Type actual, const char* wanted);
[[noreturn]] void throw_out_of_range(const char* what);
}  // namespace detail

/// A single SQLite value, owned (text and blobs are copies).
///
/// Constructed implicitly from nullptr / std::nullopt (NULL), any integral type (bool binds as
/// 0/1), floating types, string-likes, Blob and std::optional of those. Read back with get<T>(),
/// which never converts silently between storage classes: reading TEXT as an integer throws
/// InterfaceError. The one allowed conversion is INTEGER read as a floating type.
class Value {
 public:
  /// NULL.
  Value() noexcept = default;
  /// NULL.
  Value(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
  /// NULL.
  Value(std::nullopt_t) noexcept {}  // NOLINT(google-explicit-constructor)

  /// An INTEGER. Unsigned values above INT64_MAX throw DataError, as Python raises OverflowError.
  template <std::integral I>
  Value(I v) {  // NOLINT(google-explicit-constructor)
    if constexpr (std::is_same_v<I, bool>) {
      v_ = std::int64_t{v ? 1 : 0};
    } else if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
      if (v > static_cast<I>(std::numeric_limits<std::int64_t>::max())) {
        detail::throw_out_of_range("integer too large to convert to SQLite INTEGER");
      }
      v_ = static_cast<std::int64_t>(v);
    } else {
      v_ = static_cast<std::int64_t>(v);
    }
  }

  /// A REAL. A NaN is kept here and binds as NULL, as in Python.
  template <std::floating_point F>
  Value(F v) : v_(static_cast<double>(v)) {}  // NOLINT(google-explicit-constructor)

  /// TEXT (UTF-8; embedded NUL bytes are kept).
  Value(std::string s) noexcept : v_(std::move(s)) {}  // NOLINT(google-explicit-constructor)
  /// TEXT.
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  /// TEXT; a null pointer is NULL.
  Value(const char* s) {  // NOLINT(google-explicit-constructor)
    if (s != nullptr) v_ = std::string(s);
  }
  /// BLOB.
  Value(Blob b) noexcept : v_(std::move(b)) {}  // NOLINT(google-explicit-constructor)

  /// NULL when empty, else the contained value.
  template <class T>
  Value(const std::optional<T>& o) {  // NOLINT(google-explicit-constructor)
    if (o) *this = Value(*o);
  }

  /// The storage class.
  [[nodiscard]] Type type() const noexcept { return static_cast<Type>(v_.index()); }
  /// True for NULL.
  [[nodiscard]] bool is_null() const noexcept { return v_.index() == 0; }

  /// The value as T: integral types, floating types, std::string, std::string_view (a view into
  /// this Value), Blob, std::span<const std::byte> (a view into this Value), or std::optional<T>
  /// of those (nullopt for NULL).
  /// @throws InterfaceError when the storage class does not fit T; DataError when an integer
  ///         does not fit a narrower integral T.
  template <class T>
  [[nodiscard]] T get() const;

  /// Same storage class and same value.
  bool operator==(const Value&) const = default;

 private:
  std::variant<std::monostate, std::int64_t, double, std::string, Blob> v_;
};

template <class T>
T Value::get() const {
  if constexpr (detail::is_optional<T>::value) {
    if (is_null()) return std::nullopt;
    return get<typename T::value_type>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (const auto* i = std::get_if<std::int64_t>(&v_)) return *i != 0;
    detail::throw_wrong_type(type(), "bool");
  } else if constexpr (std::is_integral_v<T>) {
    const auto* i = std::get_if<std::int64_t>(&v_);
    if (i == nullptr) detail::throw_wrong_type(type(), "an integer");
    if (!std::in_range<T>(*i)) detail::throw_out_of_range("integer does not fit the requested type");
    return static_cast<T>(*i);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (const auto* d = std::get_if<double>(&v_)) return static_cast<T>(*d);
    if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<T>(*i);
    detail::throw_wrong_type(type(), "a real");
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    if (const auto* s = std::get_if<std::string>(&v_)) return T(*s);
    detail::throw_wrong_type(type(), "text");
  } else if constexpr (std::is_same_v<T, Blob> || std::is_same_v<T, std::span<const std::byte>>) {
    if (const auto* b = std::get_if<Blob>(&v_)) {
      if constexpr (std::is_same_v<T, Blob>) {
        return *b;
      } else {
        return T(b->data(), b->size());
      }
    }
    detail::throw_wrong_type(type(), "a blob");
  } else {
    static_assert(std::is_same_v<T, Value>, "Value::get<T>: unsupported type");
    return *this;
  }
}

}  // namespace uvsqlite

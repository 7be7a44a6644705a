#pragma once
/// @file factories.hpp
/// The C++ forms of Python's text_factory and row_factory.
///
/// - A TextFactory makes the Value of every TEXT column a connection or cursor reads (on the
///   worker thread): text_factory_str (the default, std::string), text_factory_bytes (a Blob, as
///   `text_factory = bytes` in Python), or any function.
/// - Rows become user types through row_cast<T>(row): a specialization of RowTraits<T>, a
///   constructor T(const Row&), or a std::tuple / std::pair of the column types.

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "uvsqlite/row.hpp"
#include "uvsqlite/value.hpp"

namespace uvsqlite {

/// Makes the Value of a TEXT column from its UTF-8 bytes.
using TextFactory = std::function<Value(std::string_view text)>;

/// TEXT as std::string (the default).
inline Value text_factory_str(std::string_view text) { return std::string(text); }

/// TEXT as a Blob of its bytes.
inline Value text_factory_bytes(std::string_view text) {
  const auto* p = reinterpret_cast<const std::byte*>(text.data());
  return Blob(p, p + text.size());
}

/// Customization point: specialize with `static T from_row(const Row&)` to fetch rows as T.
template <class T>
struct RowTraits;

namespace detail {
template <class T>
concept HasRowTraits = requires(const Row& row) {
  { RowTraits<T>::from_row(row) } -> std::convertible_to<T>;
};
template <class T>
struct TupleRow : std::false_type {};
template <class... Ts>
struct TupleRow<std::tuple<Ts...>> : std::true_type {
  static std::tuple<Ts...> from(const Row& row) { return row.as<Ts...>(); }
};
template <class A, class B>
struct TupleRow<std::pair<A, B>> : std::true_type {
  static std::pair<A, B> from(const Row& row) {
    auto [a, b] = row.as<A, B>();
    return {std::move(a), std::move(b)};
  }
};
}  // namespace detail

/// A row as T: RowTraits<T>::from_row(row), else T(row), else the columns unpacked into a
/// std::tuple or std::pair. @throws InterfaceError when the values do not fit.
template <class T>
T row_cast(const Row& row) {
  if constexpr (detail::HasRowTraits<T>) {
    return RowTraits<T>::from_row(row);
  } else if constexpr (std::is_constructible_v<T, const Row&>) {
    return T(row);
  } else if constexpr (detail::TupleRow<T>::value) {
    return detail::TupleRow<T>::from(row);
  } else {
    static_assert(detail::TupleRow<T>::value, "row_cast<T>: specialize uvsqlite::RowTraits<T>");
  }
}

}  // namespace uvsqlite

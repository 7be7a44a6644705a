#pragma once
/// @file adapters.hpp
/// Adapters (any C++ type as a statement parameter) and converters (a column's raw value into
/// any C++ object), as Python's sqlite3.register_adapter / register_converter.
///
/// Thread-safety: both registries are process-wide and may be used from any thread at any time.
/// Adapters and converters run on the worker thread of the connection that binds or reads.

#include <functional>
#include <string>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>

#include "uvsqlite/value.hpp"

namespace uvsqlite {

namespace detail {
using ErasedAdapter = std::function<Value(const Object&)>;
using ErasedConverter = std::function<Value(const Value& raw)>;
void register_adapter(std::type_index type, ErasedAdapter adapter);
void register_converter(std::string type_name, ErasedConverter converter);

// Only std::function and function pointers can be empty; a lambda never is.
template <class F>
struct can_be_empty : std::is_pointer<F> {};
template <class Sig>
struct can_be_empty<std::function<Sig>> : std::true_type {};
}  // namespace detail

/// Lets a value of type T be bound as a parameter: `fn(const T&)` returns the Value to bind
/// (NULL, integer, real, text or blob). Replaces an earlier adapter for T; an empty `fn` removes
/// it. A T bound without an adapter fails that execution with ProgrammingError.
template <class T, class F>
requires std::is_invocable_r_v<Value, F&, const T&>
void register_adapter(F fn) {
  if constexpr (detail::can_be_empty<F>::value) {
    if (!fn) {
      detail::register_adapter(typeid(T), nullptr);
      return;
    }
  }
  detail::register_adapter(typeid(T), [fn = std::move(fn)](const detail::Object& o) mutable -> Value {
    return fn(static_cast<const detail::ObjectOf<T>&>(o).value);
  });
}

/// Converts the non-NULL values of columns whose declared type (Options::detect_types with
/// PARSE_DECLTYPES: the first word of the type) or alias (PARSE_COLNAMES: `AS "x [type_name]"`)
/// names `type_name`, compared case-insensitively. `fn(const Value& raw)` may return a Value
/// (which replaces the raw one) or any C++ object R, which `row.get<R>(i)` then returns. An
/// empty `fn` removes the converter.
template <class F>
requires std::is_invocable_v<F&, const Value&>
void register_converter(std::string type_name, F fn) {
  using R = std::invoke_result_t<F&, const Value&>;
  if constexpr (detail::can_be_empty<F>::value) {
    if (!fn) {
      detail::register_converter(std::move(type_name), nullptr);
      return;
    }
  }
  if constexpr (std::is_same_v<R, Value>) {
    detail::register_converter(std::move(type_name), std::move(fn));
  } else {
    detail::register_converter(std::move(type_name), [fn = std::move(fn)](const Value& raw) mutable -> Value {
      return Value::converted(raw, fn(raw));
    });
  }
}

}  // namespace uvsqlite

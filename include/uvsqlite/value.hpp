#pragma once
/// @file value.hpp
/// One SQLite value: NULL, 64-bit integer, double, UTF-8 text or blob.
///
/// Thread-safety: a Value is a plain value type; distinct objects may be used from any thread.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
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
[[noreturn]] void throw_wrong_object(Type actual, const std::type_info* held, const std::type_info& wanted);

/// A C++ object carried by a Value: one awaiting its adapter (a parameter), or one a converter
/// made from a column's raw value.
class Object {
 public:
  Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  virtual ~Object() = default;
  [[nodiscard]] virtual const std::type_info& type() const noexcept = 0;
};

template <class T>
class ObjectOf final : public Object {
 public:
  explicit ObjectOf(T v) : value(std::move(v)) {}
  [[nodiscard]] const std::type_info& type() const noexcept override { return typeid(T); }
  T value;
};
}  // namespace detail

class Value;
class Params;
class Row;

/// A type that binds through an adapter (register_adapter<T>) rather than directly.
///
/// The exclusions come before std::copy_constructible: checking whether Value itself is copy
/// constructible from inside Value's constructors recurses (clang rejects it; GCC lets it pass).
template <class T>
concept Adaptable =
    std::is_class_v<T> && !std::is_same_v<T, Value> && !std::is_same_v<T, Blob> &&
    !std::is_same_v<T, std::span<const std::byte>> && !std::is_same_v<T, Params> && !std::is_same_v<T, Row> &&
    !std::is_same_v<T, std::nullopt_t> && !detail::is_optional<T>::value && std::copy_constructible<T> &&
    !std::is_convertible_v<const T&, std::string_view>;

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
  /// BLOB (a copy of the bytes).
  Value(std::span<const std::byte> b)  // NOLINT(google-explicit-constructor)
      : v_(Blob(b.begin(), b.end())) {}

  /// NULL when empty, else the contained value.
  template <class T>
  Value(const std::optional<T>& o) {  // NOLINT(google-explicit-constructor)
    if (o) *this = Value(*o);
  }

  /// Any other type: bound through the adapter registered for T (register_adapter), looked up
  /// when the statement runs; without one, that execution fails with ProgrammingError naming
  /// the type. Until then the Value is NULL with the object attached.
  template <Adaptable T>
  Value(T object)  // NOLINT(google-explicit-constructor)
      : object_(std::make_shared<const detail::ObjectOf<T>>(std::move(object))) {}

  /// A converter's result: the column's `raw` value, with the C++ `object` made from it, which
  /// get<T>() returns.
  template <class T>
  static Value converted(Value raw, T object) {
    raw.object_ = std::make_shared<const detail::ObjectOf<T>>(std::move(object));
    return raw;
  }

  /// The storage class.
  [[nodiscard]] Type type() const noexcept { return static_cast<Type>(v_.index()); }
  /// True for NULL.
  [[nodiscard]] bool is_null() const noexcept { return v_.index() == 0; }
  /// The C++ object this Value carries (awaiting an adapter, or made by a converter), if any.
  [[nodiscard]] const detail::Object* object() const noexcept { return object_.get(); }

  /// The value as T: integral types, floating types, std::string, std::string_view (a view into
  /// this Value), Blob, std::span<const std::byte> (a view into this Value), the type of the
  /// object a converter made, or std::optional<T> of those (nullopt for NULL).
  /// @throws InterfaceError when the storage class does not fit T; DataError when an integer
  ///         does not fit a narrower integral T.
  template <class T>
  [[nodiscard]] T get() const;

  /// Same storage class and same value (and the same carried object, if any).
  bool operator==(const Value&) const = default;

 private:
  std::variant<std::monostate, std::int64_t, double, std::string, Blob> v_;
  std::shared_ptr<const detail::Object> object_;
};

template <class T>
T Value::get() const {
  if constexpr (!detail::is_optional<T>::value && !std::is_same_v<T, Value>) {
    // A converted column gives its object to a get<> of the object's exact type.
    if (object_ && object_->type() == typeid(T))
      return static_cast<const detail::ObjectOf<T>&>(*object_).value;
  }
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
  } else if constexpr (std::is_same_v<T, Value>) {
    return *this;
  } else {
    detail::throw_wrong_object(type(), object_ ? &object_->type() : nullptr, typeid(T));
  }
}

}  // namespace uvsqlite

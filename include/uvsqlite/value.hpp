#pragma once
/// @file value.hpp
/// One SQLite value: NULL, 64-bit integer, double, UTF-8 text or blob.
///
/// Thread-safety: a Value is a plain value type; distinct objects may be used from any thread.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
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
///
/// 24 bytes: text and blobs of up to 22 bytes are kept inline, longer ones in a std::string or
/// Blob of their own (moved in, not copied, when built from one). Rows and parameter lists are
/// arrays of Values, so their size is what a scan or an executemany touches per column.
/// A moved-from Value is NULL.
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
      set_integer(v ? 1 : 0);
    } else if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
      if (v > static_cast<I>(std::numeric_limits<std::int64_t>::max())) {
        detail::throw_out_of_range("integer too large to convert to SQLite INTEGER");
      }
      set_integer(static_cast<std::int64_t>(v));
    } else {
      set_integer(static_cast<std::int64_t>(v));
    }
  }

  /// A REAL. A NaN is kept here and binds as NULL, as in Python.
  template <std::floating_point F>
  Value(F v) noexcept {  // NOLINT(google-explicit-constructor)
    const auto d = static_cast<double>(v);
    std::memcpy(data_, &d, sizeof d);
    kind_ = Kind::Real;
  }

  /// TEXT (UTF-8; embedded NUL bytes are kept).
  Value(std::string s) {  // NOLINT(google-explicit-constructor)
    if (s.size() <= kInline) {
      set_inline(Kind::InlineText, s.data(), s.size());
    } else {
      set_pointer(Kind::Text, new std::string(std::move(s)));
    }
  }
  /// TEXT.
  Value(std::string_view s) { set_text(s); }  // NOLINT(google-explicit-constructor)
  /// TEXT; a null pointer is NULL.
  Value(const char* s) {  // NOLINT(google-explicit-constructor)
    if (s != nullptr) set_text(s);
  }
  /// BLOB.
  Value(Blob b) {  // NOLINT(google-explicit-constructor)
    if (b.size() <= kInline) {
      set_inline(Kind::InlineBlob, b.data(), b.size());
    } else {
      set_pointer(Kind::Blob, new Blob(std::move(b)));
    }
  }
  /// BLOB (a copy of the bytes).
  Value(std::span<const std::byte> b) {  // NOLINT(google-explicit-constructor)
    if (b.size() <= kInline) {
      set_inline(Kind::InlineBlob, b.data(), b.size());
    } else {
      set_pointer(Kind::Blob, new Blob(b.begin(), b.end()));
    }
  }

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
  {
    box(Value(), std::make_shared<const detail::ObjectOf<T>>(std::move(object)));
  }

  /// A converter's result: the column's `raw` value, with the C++ `object` made from it, which
  /// get<T>() returns.
  template <class T>
  static Value converted(Value raw, T object) {
    Value out;
    out.box(std::move(raw), std::make_shared<const detail::ObjectOf<T>>(std::move(object)));
    return out;
  }

  Value(const Value& other) : kind_(other.kind_), inline_size_(other.inline_size_) {
    if (other.owns_memory()) {
      copy_owned(other);
    } else {
      std::memcpy(data_, other.data_, sizeof data_);
    }
  }
  Value(Value&& other) noexcept : kind_(other.kind_), inline_size_(other.inline_size_) {
    std::memcpy(data_, other.data_, sizeof data_);
    other.kind_ = Kind::Null;
  }
  Value& operator=(const Value& other) {
    if (this == &other) return *this;
    if (other.owns_memory()) return *this = Value(other);
    // Nothing to allocate: a plain copy of the bytes (how a braced parameter list is filled).
    take_bytes(other);
    return *this;
  }
  Value& operator=(Value&& other) noexcept {
    if (this != &other) {
      take_bytes(other);
      other.kind_ = Kind::Null;
    }
    return *this;
  }
  ~Value() {
    if (owns_memory()) release();
  }

  /// The storage class.
  [[nodiscard]] Type type() const noexcept;
  /// True for NULL.
  [[nodiscard]] bool is_null() const noexcept { return type() == Type::Null; }
  /// The C++ object this Value carries (awaiting an adapter, or made by a converter), if any.
  [[nodiscard]] const detail::Object* object() const noexcept;

  /// The value as T: integral types, floating types, std::string, std::string_view (a view into
  /// this Value), Blob, std::span<const std::byte> (a view into this Value), the type of the
  /// object a converter made, or std::optional<T> of those (nullopt for NULL).
  /// @throws InterfaceError when the storage class does not fit T; DataError when an integer
  ///         does not fit a narrower integral T.
  template <class T>
  [[nodiscard]] T get() const;

  /// Calls `f` with the SQLite value, as std::visit does: std::nullptr_t for NULL,
  /// std::int64_t, double, std::string_view for TEXT or std::span<const std::byte> for BLOB
  /// (the views point into this Value). A converted Value visits its column's raw value, and a
  /// Value holding an object that awaits its adapter visits NULL (see object()). Every call
  /// must return the same type.
  /// @code
  ///   v.visit([](auto x) { std::cout << sizeof x; });
  /// @endcode
  template <class F>
  decltype(auto) visit(F&& f) const;

  /// Same storage class and same value (and the same carried object, if any).
  bool operator==(const Value& other) const noexcept;

 private:
  // Which member of the storage is live. Inline kinds keep their bytes in data_; Text, Blob and
  // Object own a heap object whose pointer is in data_.
  enum class Kind : unsigned char { Null, Integer, Real, InlineText, InlineBlob, Text, Blob, Object };
  static constexpr std::size_t kInline = 22;
  struct Boxed;  // an Object kind's raw value and object

  [[nodiscard]] bool owns_memory() const noexcept { return kind_ >= Kind::Text; }
  [[nodiscard]] const Value& raw() const noexcept;
  [[nodiscard]] std::int64_t integer() const noexcept {
    std::int64_t i = 0;
    std::memcpy(&i, data_, sizeof i);
    return i;
  }
  [[nodiscard]] double real() const noexcept {
    double d = 0;
    std::memcpy(&d, data_, sizeof d);
    return d;
  }
  template <class P>
  [[nodiscard]] P* pointer() const noexcept {
    P* p = nullptr;
    std::memcpy(&p, data_, sizeof p);
    return p;
  }
  // Text or blob bytes of the raw value (only for those kinds).
  [[nodiscard]] std::string_view text() const noexcept {
    return kind_ == Kind::InlineText ? std::string_view(data_, inline_size_) : *pointer<std::string>();
  }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    if (kind_ == Kind::InlineBlob) return {reinterpret_cast<const std::byte*>(data_), inline_size_};
    const Blob& b = *pointer<Blob>();
    return {b.data(), b.size()};
  }
  void set_integer(std::int64_t i) noexcept {
    std::memcpy(data_, &i, sizeof i);
    kind_ = Kind::Integer;
  }
  void set_inline(Kind kind, const void* bytes, std::size_t size) noexcept {
    if (size != 0) std::memcpy(data_, bytes, size);
    inline_size_ = static_cast<unsigned char>(size);
    kind_ = kind;
  }
  void set_pointer(Kind kind, const void* p) noexcept {
    std::memcpy(data_, &p, sizeof p);
    kind_ = kind;
  }
  void set_text(std::string_view s) {
    if (s.size() <= kInline) {
      set_inline(Kind::InlineText, s.data(), s.size());
    } else {
      set_pointer(Kind::Text, new std::string(s));
    }
  }
  // Releases what this owns and takes other's kind and bytes (other keeps them too).
  void take_bytes(const Value& other) noexcept {
    if (owns_memory()) release();
    kind_ = other.kind_;
    inline_size_ = other.inline_size_;
    std::memcpy(data_, other.data_, sizeof data_);
  }
  void box(Value raw, std::shared_ptr<const detail::Object> object);
  void copy_owned(const Value& other);
  void release() noexcept;

  alignas(std::int64_t) char data_[kInline]{};
  Kind kind_ = Kind::Null;
  unsigned char inline_size_ = 0;
};

static_assert(sizeof(Value) == 24);

template <class T>
T Value::get() const {
  if constexpr (!detail::is_optional<T>::value && !std::is_same_v<T, Value>) {
    // A converted column gives its object to a get<> of the object's exact type.
    if (const detail::Object* held = object(); held != nullptr && held->type() == typeid(T))
      return static_cast<const detail::ObjectOf<T>&>(*held).value;
  }
  const Value& v = raw();
  if constexpr (detail::is_optional<T>::value) {
    if (v.kind_ == Kind::Null) return std::nullopt;
    return get<typename T::value_type>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (v.kind_ == Kind::Integer) return v.integer() != 0;
    detail::throw_wrong_type(type(), "bool");
  } else if constexpr (std::is_integral_v<T>) {
    if (v.kind_ != Kind::Integer) detail::throw_wrong_type(type(), "an integer");
    const std::int64_t i = v.integer();
    if (!std::in_range<T>(i)) detail::throw_out_of_range("integer does not fit the requested type");
    return static_cast<T>(i);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (v.kind_ == Kind::Real) return static_cast<T>(v.real());
    if (v.kind_ == Kind::Integer) return static_cast<T>(v.integer());
    detail::throw_wrong_type(type(), "a real");
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    if (v.kind_ == Kind::InlineText || v.kind_ == Kind::Text) return T(v.text());
    detail::throw_wrong_type(type(), "text");
  } else if constexpr (std::is_same_v<T, Blob> || std::is_same_v<T, std::span<const std::byte>>) {
    if (v.kind_ == Kind::InlineBlob || v.kind_ == Kind::Blob) {
      const auto b = v.bytes();
      if constexpr (std::is_same_v<T, Blob>) {
        return Blob(b.begin(), b.end());
      } else {
        return b;
      }
    }
    detail::throw_wrong_type(type(), "a blob");
  } else if constexpr (std::is_same_v<T, Value>) {
    return *this;
  } else {
    const detail::Object* held = object();
    detail::throw_wrong_object(type(), held != nullptr ? &held->type() : nullptr, typeid(T));
  }
}

/// An Object kind's heap part: the raw SQLite value and the C++ object made from it or waiting
/// for an adapter.
struct Value::Boxed {
  Value raw;
  std::shared_ptr<const detail::Object> object;
};

inline const Value& Value::raw() const noexcept {
  return kind_ == Kind::Object ? pointer<Boxed>()->raw : *this;
}

inline Type Value::type() const noexcept {
  switch (raw().kind_) {
    case Kind::Null:
      return Type::Null;
    case Kind::Integer:
      return Type::Integer;
    case Kind::Real:
      return Type::Real;
    case Kind::InlineText:
    case Kind::Text:
      return Type::Text;
    case Kind::InlineBlob:
    case Kind::Blob:
    case Kind::Object:  // never: a box holds no box
      break;
  }
  return Type::Blob;
}

inline const detail::Object* Value::object() const noexcept {
  return kind_ == Kind::Object ? pointer<Boxed>()->object.get() : nullptr;
}

// Always inlined: a visit is one switch, and binding parameters visits every value.
template <class F>
[[gnu::always_inline]] inline decltype(auto) Value::visit(F&& f) const {
  const Value& v = raw();
  switch (v.kind_) {
    case Kind::Integer:
      return std::forward<F>(f)(v.integer());
    case Kind::Real:
      return std::forward<F>(f)(v.real());
    case Kind::InlineText:
    case Kind::Text:
      return std::forward<F>(f)(v.text());
    case Kind::InlineBlob:
    case Kind::Blob:
      return std::forward<F>(f)(v.bytes());
    case Kind::Null:
    case Kind::Object:  // never: a box holds no box
      break;
  }
  return std::forward<F>(f)(nullptr);
}

}  // namespace uvsqlite

#include "uvsqlite/value.hpp"

#include <algorithm>
#include <string>

#include "adapters.hpp"

namespace uvsqlite {

const char* type_name(Type type) noexcept {
  switch (type) {
    case Type::Null:
      return "NULL";
    case Type::Integer:
      return "INTEGER";
    case Type::Real:
      return "REAL";
    case Type::Text:
      return "TEXT";
    case Type::Blob:
      return "BLOB";
  }
  return "UNKNOWN";
}

void Value::box(Value raw, std::shared_ptr<const detail::Object> object) {
  // A box never holds a box: a converted value's raw part is a plain SQLite value.
  if (raw.kind_ == Kind::Object) raw = Value(raw.pointer<Boxed>()->raw);
  auto* boxed = new Boxed{std::move(raw), std::move(object)};
  if (owns_memory()) release();
  set_pointer(Kind::Object, boxed);
}

void Value::copy_owned(const Value& other) {
  switch (other.kind_) {
    case Kind::Text:
      set_pointer(Kind::Text, new std::string(*other.pointer<std::string>()));
      break;
    case Kind::Blob:
      set_pointer(Kind::Blob, new Blob(*other.pointer<Blob>()));
      break;
    case Kind::Object:
      set_pointer(Kind::Object, new Boxed(*other.pointer<Boxed>()));
      break;
    default:
      break;
  }
}

void Value::release() noexcept {
  switch (kind_) {
    case Kind::Text:
      delete pointer<std::string>();
      break;
    case Kind::Blob:
      delete pointer<Blob>();
      break;
    case Kind::Object:
      delete pointer<Boxed>();
      break;
    default:
      break;
  }
  kind_ = Kind::Null;
}

bool Value::operator==(const Value& other) const noexcept {
  if (object() != other.object()) return false;
  const Value& a = raw();
  const Value& b = other.raw();
  const Type t = a.type();
  if (t != b.type()) return false;
  switch (t) {
    case Type::Null:
      return true;
    case Type::Integer:
      return a.integer() == b.integer();
    case Type::Real:
      return a.real() == b.real();
    case Type::Text:
      return a.text() == b.text();
    case Type::Blob:
      return std::ranges::equal(a.bytes(), b.bytes());
  }
  return false;
}

namespace detail {

void throw_wrong_type(Type actual, const char* wanted) {
  throw InterfaceError(std::string("value is ") + type_name(actual) + ", not " + wanted);
}

void throw_out_of_range(const char* what) { throw DataError(what); }

void throw_wrong_object(Type actual, const std::type_info* held, const std::type_info& wanted) {
  std::string message = std::string("value is ") +
                        (held != nullptr ? readable_type_name(*held) : type_name(actual)) + ", not " +
                        readable_type_name(wanted);
  throw InterfaceError(message);
}

}  // namespace detail
}  // namespace uvsqlite

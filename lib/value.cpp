#include "uvsqlite/value.hpp"

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

#include "uvsqlite/value.hpp"

#include <string>

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

}  // namespace detail
}  // namespace uvsqlite

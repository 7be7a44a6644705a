#include "sqlite_value.hpp"

#include <cmath>
#include <cstring>
#include <new>
#include <span>
#include <string>

namespace uvsqlite::detail {

Value value_from(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_value_int64(v));
    case SQLITE_FLOAT:
      return sqlite3_value_double(v);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
      // No text for a TEXT value: SQLite could not allocate its UTF-8 form (a UTF-16 database).
      // The function's caller reports SQLITE_NOMEM for the bad_alloc.
      if (p == nullptr) throw std::bad_alloc();
      return std::string(p, static_cast<std::size_t>(sqlite3_value_bytes(v)));
    }
    case SQLITE_BLOB: {
      const void* p = sqlite3_value_blob(v);
      Blob blob(static_cast<std::size_t>(sqlite3_value_bytes(v)));
      if (!blob.empty()) std::memcpy(blob.data(), p, blob.size());
      return blob;
    }
    default:
      return nullptr;
  }
}

std::vector<Value> values_from(int argc, sqlite3_value** argv) {
  std::vector<Value> out;
  out.reserve(static_cast<std::size_t>(argc));
  for (int i = 0; i < argc; ++i) out.push_back(value_from(argv[i]));
  return out;
}

void set_result(sqlite3_context* ctx, const Value& value) noexcept {
  switch (value.type()) {
    case Type::Null:
      sqlite3_result_null(ctx);
      break;
    case Type::Integer:
      sqlite3_result_int64(ctx, value.get<std::int64_t>());
      break;
    case Type::Real: {
      const double d = value.get<double>();
      if (std::isnan(d)) {
        sqlite3_result_null(ctx);
      } else {
        sqlite3_result_double(ctx, d);
      }
      break;
    }
    case Type::Text: {
      const auto text = value.get<std::string_view>();
      sqlite3_result_text64(ctx, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
    case Type::Blob: {
      const auto blob = value.get<std::span<const std::byte>>();
      if (blob.empty()) {
        sqlite3_result_zeroblob(ctx, 0);
      } else {
        sqlite3_result_blob64(ctx, blob.data(), blob.size(), SQLITE_TRANSIENT);
      }
      break;
    }
  }
}

}  // namespace uvsqlite::detail

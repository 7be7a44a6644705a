#pragma once
// Conversions between uvsqlite::Value and SQLite's sqlite3_value / sqlite3_context, for SQL
// functions and aggregates. Worker thread only.

#include <sqlite3.h>

#include <vector>

#include "uvsqlite/value.hpp"

namespace uvsqlite::detail {

/// A protected sqlite3_value (a function argument) as a Value.
/// @throws std::bad_alloc when SQLite cannot allocate the UTF-8 form of a TEXT value.
Value value_from(sqlite3_value* v);
/// All arguments of a function call.
std::vector<Value> values_from(int argc, sqlite3_value** argv);
/// Sets a function's result.
void set_result(sqlite3_context* ctx, const Value& value) noexcept;

}  // namespace uvsqlite::detail

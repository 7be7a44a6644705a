#pragma once
// The process-wide adapter and converter registries, read on the workers.

#include <string_view>

#include "uvsqlite/adapters.hpp"

namespace uvsqlite::detail {

/// The plain value to bind for a Value that carries an object, through its adapter.
/// @throws ProgrammingError naming the type when no adapter is registered for it.
Value adapt(const Value& value, int parameter_index);

/// True when no converter is registered (the common case, checked without a lock).
bool no_converters() noexcept;

/// The converter for a declared type or alias type name, or null.
ErasedConverter find_converter(std::string_view type_name);

/// The readable name of a type, for messages.
std::string readable_type_name(const std::type_info& type);

}  // namespace uvsqlite::detail

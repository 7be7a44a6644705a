#pragma once
// Registering user SQL functions, aggregates and collations on a session. Worker thread only.
// SQLite owns each registered callable and destroys it when it is replaced or the database
// closes.

#include <string>

#include "session.hpp"
#include "uvsqlite/functions.hpp"

namespace uvsqlite::detail {

void create_function(Session& s, const std::string& name, int num_params, ScalarFunction fn,
                     bool deterministic);
void create_aggregate(Session& s, const std::string& name, int num_params, AggregateFactory factory);
void create_collation(Session& s, const std::string& name, Collation fn);

}  // namespace uvsqlite::detail

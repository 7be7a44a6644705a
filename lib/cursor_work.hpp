#pragma once
// The worker-side state of a cursor: its executing statement and the parameters that statement's
// bindings point into. Touched only on the connection's worker thread.

#include <memory>

#include "statement.hpp"
#include "uvsqlite/factories.hpp"
#include "uvsqlite/params.hpp"

namespace uvsqlite::detail {

struct CursorWork {
  std::unique_ptr<Statement> stmt;  // the statement being stepped, or null
  Params params;                    // kept alive while stmt's bindings refer to it
  bool row_ready = false;           // stmt is positioned on a row not yet fetched
  bool closed = false;              // Cursor::close() ran
  bool tracked = false;             // registered with the Session (finalized by its close)
  TextFactory text_factory;         // overrides the connection's when set
};

}  // namespace uvsqlite::detail

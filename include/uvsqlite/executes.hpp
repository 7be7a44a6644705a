#pragma once
/// @file executes.hpp
/// execute / executemany / executescript, written once for Connection (on a new cursor) and
/// Cursor (on itself): `Self` provides the private start_execute, start_executemany and
/// start_executescript that queue the work.

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "uvsqlite/completion.hpp"
#include "uvsqlite/params.hpp"
#include "uvsqlite/sql_text.hpp"

namespace uvsqlite {

class Cursor;

namespace detail {

template <class Self>
class Executes {
 public:
  /// Executes one SQL statement with `params`, stepping it once so that an error in the first
  /// row arrives here. With an isolation level set, a BEGIN is issued first before
  /// INSERT/UPDATE/DELETE/REPLACE outside a transaction. Completes with the cursor.
  template <class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto execute(SqlText sql, Params params = {}, Token&& token = {}) const {
    return initiate<Cursor>(std::forward<Token>(token),
                            [self = self_(), sql = std::move(sql),
                             params = std::move(params)](PendingCompletion<Cursor> c) mutable {
                              self.start_execute(std::move(sql), std::move(params), std::move(c));
                            });
  }
  /// execute() without parameters.
  template <class Token>
  requires CompletionToken<Token, Cursor>
  auto execute(SqlText sql, Token&& token) const {
    return execute(std::move(sql), Params{}, std::forward<Token>(token));
  }

  /// Executes a DML statement once per parameter set; rowcount sums their changes.
  /// A statement that cannot change the database is a ProgrammingError, as in Python.
  template <class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto executemany(SqlText sql, std::vector<Params> seq, Token&& token = {}) const {
    return initiate<Cursor>(
        std::forward<Token>(token),
        [self = self_(), sql = std::move(sql), seq = std::move(seq)](PendingCompletion<Cursor> c) mutable {
          self.start_executemany(std::move(sql), std::move(seq), std::move(c));
        });
  }

  /// executemany() over rows produced on the worker by `next` (see ParamsSource), for
  /// sequences too long, or too costly, to build in memory first.
  template <ParamsGenerator Source, class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto executemany(SqlText sql, Source next, Token&& token = {}) const {
    return initiate<Cursor>(std::forward<Token>(token),
                            [self = self_(), sql = std::move(sql),
                             next = ParamsSource(std::move(next))](PendingCompletion<Cursor> c) mutable {
                              self.start_executemany(std::move(sql), std::move(next), std::move(c));
                            });
  }

  /// Commits any open transaction, then runs every statement of `script` (no parameters).
  template <class Token = use_future_t>
  requires CompletionToken<Token, Cursor>
  auto executescript(std::string script, Token&& token = {}) const {
    return initiate<Cursor>(std::forward<Token>(token), [self = self_(), script = std::move(script)](
                                                            PendingCompletion<Cursor> c) mutable {
      self.start_executescript(std::move(script), std::move(c));
    });
  }

  // A stateless base: it takes no part in comparing handles.
  bool operator==(const Executes& /*other*/) const noexcept { return true; }

 private:
  [[nodiscard]] const Self& self_() const noexcept { return static_cast<const Self&>(*this); }
};

}  // namespace detail
}  // namespace uvsqlite

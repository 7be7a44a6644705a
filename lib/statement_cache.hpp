#pragma once
// The per-connection cache of prepared statements, least recently used first out.
// Worker thread only.
//
// The statement returned last waits in a slot of its own: a statement run over and over (a
// loop of inserts, a point select) comes back out with one comparison of its text, no hashing
// and no list or index update.

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "statement.hpp"

namespace uvsqlite::detail {

class StatementCache {
 public:
  explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}

  /// An idle prepared statement for exactly `sql`, removed from the cache; nullptr if none.
  std::unique_ptr<Statement> take(std::string_view sql);
  /// Returns a statement after use: reset, kept for reuse, the least recently used evicted.
  void put(std::unique_ptr<Statement> stmt) noexcept;
  /// Finalizes every cached statement (before sqlite3_close).
  void clear() noexcept;
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  using Lru = std::list<std::unique_ptr<Statement>>;
  using Index = std::unordered_multimap<std::string_view, Lru::iterator>;
  // Files a statement into the list and index, evicting beyond capacity_ - 1 (the last slot is
  // the hot one's).
  void file(std::unique_ptr<Statement> stmt) noexcept;

  std::size_t capacity_;
  std::unique_ptr<Statement> last_;  // the most recently returned statement, when not filed
  Lru lru_;                          // most recently returned first
  Index index_;                      // keys view into the statements' sql
  // The nodes of statements taken out, reused when they come back: a cache hit allocates nothing.
  Lru spare_entries_;
  std::vector<Index::node_type> spare_keys_;
};

}  // namespace uvsqlite::detail

#include "statement_cache.hpp"

namespace uvsqlite::detail {

std::unique_ptr<Statement> StatementCache::take(std::string_view sql) {
  auto it = index_.find(sql);
  if (it == index_.end()) return nullptr;
  auto pos = it->second;
  index_.erase(it);
  std::unique_ptr<Statement> out = std::move(*pos);
  lru_.erase(pos);
  return out;
}

void StatementCache::put(std::unique_ptr<Statement> stmt) noexcept {
  if (!stmt) return;
  stmt->reset();
  if (capacity_ == 0 || stmt->empty()) return;
  // Out of memory while caching: the statement is simply not kept.
  try {
    lru_.push_front(std::move(stmt));
  } catch (...) {
    return;
  }
  try {
    index_.emplace(std::string_view(lru_.front()->sql()), lru_.begin());
  } catch (...) {
    lru_.pop_front();
    return;
  }
  while (lru_.size() > capacity_) {
    auto last = std::prev(lru_.end());
    auto range = index_.equal_range(std::string_view((*last)->sql()));
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == last) {
        index_.erase(it);
        break;
      }
    }
    lru_.pop_back();
  }
}

void StatementCache::clear() noexcept {
  index_.clear();
  lru_.clear();
}

}  // namespace uvsqlite::detail

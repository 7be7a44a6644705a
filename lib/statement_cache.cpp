#include "statement_cache.hpp"

namespace uvsqlite::detail {

std::unique_ptr<Statement> StatementCache::take(std::string_view sql) {
  if (last_ && last_->sql() == sql) return std::move(last_);
  auto it = index_.find(sql);
  if (it == index_.end()) return nullptr;
  auto pos = it->second;
  // Keep both nodes for the statement's return (a cache hit then allocates nothing). Room
  // first: once extracted, a node must not be lost to a failed push_back.
  spare_keys_.reserve(spare_keys_.size() + 1);
  spare_keys_.push_back(index_.extract(it));
  std::unique_ptr<Statement> out = std::move(*pos);
  spare_entries_.splice(spare_entries_.begin(), lru_, pos);
  return out;
}

void StatementCache::put(std::unique_ptr<Statement> stmt) noexcept {
  if (!stmt) return;
  stmt->reset();
  if (capacity_ == 0 || stmt->empty()) return;
  // The newcomer takes the hot slot; the one it displaces is filed as most recently used.
  std::swap(stmt, last_);
  if (stmt) file(std::move(stmt));
}

void StatementCache::file(std::unique_ptr<Statement> stmt) noexcept {
  if (capacity_ < 2) return;  // the hot slot is the whole cache
  // Out of memory while caching: the statement is simply not kept.
  if (!spare_entries_.empty()) {
    lru_.splice(lru_.begin(), spare_entries_, spare_entries_.begin());
    lru_.front() = std::move(stmt);
  } else {
    try {
      lru_.push_front(std::move(stmt));
    } catch (...) {
      return;
    }
  }
  const std::string_view key(lru_.front()->sql());
  if (!spare_keys_.empty()) {
    Index::node_type node = std::move(spare_keys_.back());
    spare_keys_.pop_back();
    node.key() = key;
    node.mapped() = lru_.begin();
    try {
      index_.insert(std::move(node));  // may rehash, which allocates
    } catch (...) {
      lru_.pop_front();
      return;
    }
  } else {
    try {
      index_.emplace(key, lru_.begin());
    } catch (...) {
      lru_.pop_front();
      return;
    }
  }
  while (lru_.size() + 1 > capacity_) {
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
  last_.reset();
  index_.clear();
  lru_.clear();
  spare_keys_.clear();
  spare_entries_.clear();
}

}  // namespace uvsqlite::detail

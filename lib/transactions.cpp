#include "transactions.hpp"

#include <strings.h>

#include <array>

#include "uvsqlite/errors.hpp"

namespace uvsqlite::detail {

std::string_view skip_space_and_comments(std::string_view sql) noexcept {
  std::size_t i = 0;
  const std::size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      const std::size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
    } else {
      break;
    }
  }
  return sql.substr(i);
}

StatementKind statement_kind(std::string_view sql) noexcept {
  const std::string_view s = skip_space_and_comments(sql);
  auto starts = [&](std::string_view word) {
    return s.size() >= word.size() && ::strncasecmp(s.data(), word.data(), word.size()) == 0;
  };
  if (starts("insert")) return StatementKind::Insert;
  if (starts("update")) return StatementKind::Update;
  if (starts("delete")) return StatementKind::Delete;
  if (starts("replace")) return StatementKind::Replace;
  return StatementKind::Other;
}

std::optional<std::string> checked_isolation_level(const std::optional<std::string>& level) {
  if (!level) return std::nullopt;
  static constexpr std::array<const char*, 4> kLevels = {"", "DEFERRED", "IMMEDIATE", "EXCLUSIVE"};
  for (const char* allowed : kLevels) {
    if (::strcasecmp(level->c_str(), allowed) == 0 && level->find('\0') == std::string::npos) {
      return std::string(allowed);
    }
  }
  throw ProgrammingError("isolation_level string must be '', 'DEFERRED', 'IMMEDIATE', or 'EXCLUSIVE'");
}

std::string begin_statement(const std::string& level) { return "BEGIN " + level; }

}  // namespace uvsqlite::detail

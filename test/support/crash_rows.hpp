#pragma once
// The rows that the crash-durability child (crash_writer.cpp) writes and its parent test
// (crash_durability_test.cpp) checks: one table, ids 1, 2, 3, ... in transactions of
// kRowsPerTransaction rows, each row with a payload made from its id.

#include <cstdint>
#include <string>

namespace uvsqlite::test::crash {

/// Rows per transaction: the ids in the file always end at a multiple of it.
inline constexpr std::int64_t kRowsPerTransaction = 8;

inline constexpr const char* kCreate =
    "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, payload TEXT NOT NULL)";
inline constexpr const char* kInsert = "INSERT INTO t(id, payload) VALUES (?, ?)";

/// The payload of row `id`: about 1 KiB, so that a transaction spans several pages.
inline std::string payload(std::int64_t id) {
  std::string text = std::to_string(id) + ":";
  text.append(1000, static_cast<char>('a' + id % 26));
  return text;
}

}  // namespace uvsqlite::test::crash

// dump_fuzzer: the round trip of iterdump(). A database is built from the input (tables,
// indexes, views and triggers with hostile names, rows of any values: quotes, NUL bytes,
// invalid UTF-8, blobs, extreme numbers), dumped, the dump replayed into a fresh database with
// executescript (as Python's documentation does), and that database dumped again.
//
// Properties (abort() when one fails):
// - the dump in one piece (future, callback or awaitable form) equals the streamed dump, chunk
//   by chunk, whatever the chunk size;
// - the dump replays without error, and the replayed database dumps to the same lines, but for
//   the order of each table's rows (see same_rows_in_any_order()),
// except where Python 3.11's iterdump(), whose lines uvsqlite reproduces exactly, cannot round
// trip (see KnownLimits). A uvsqlite::Error while building is an ordinary outcome.
//
// Input: one options byte (bits 0-1 the form of the first dump, bits 2-7 its chunk size), then
// operations, each an operation byte followed by its arguments (see build()).

#include <sqlite3.h>
#include <uv.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "forms.hpp"
#include "fuzz_input.hpp"
#include "sandbox.hpp"
#include "settle.hpp"
#include "uvsqlite/uvsqlite.hpp"

namespace {

using uvsqlite::Connection;
using uvsqlite::Value;
using uvsqlite::fuzz::complete;
using uvsqlite::fuzz::Form;
using uvsqlite::fuzz::FuzzInput;
using Lines = std::vector<std::string>;

constexpr std::size_t kMaxOperations = 48;
constexpr std::size_t kMaxColumns = 5;

[[noreturn]] void finding(const char* what, const Lines& first = {}, const Lines& second = {}) {
  std::fprintf(stderr, "dump_fuzzer: %s\n", what);
  for (const auto& line : first) std::fprintf(stderr, "  1| %s\n", line.c_str());
  for (const auto& line : second) std::fprintf(stderr, "  2| %s\n", line.c_str());
  std::abort();
}

// Names that have broken SQL generators before: quotes of every kind, brackets, spaces,
// keywords, comment starters, the reserved prefix, case twins, non-ASCII, the empty name.
constexpr std::array<const char*, 24> kNames = {
    "t", "T",    "a b",    "it's", "say \"hi\"",      "[x]",   "`y`",       "sqlite_x",
    "",  "日本", "select", "-- c", "/* c */",         ";",     "x'00'",     "\"",
    "'", "''",   "\"\"",   "a\nb", "sqlite_sequence", "TABLE", "e\xcc\x81", "\xff\xfe"};

// Declared types and column constraints, including the ones that change how a dump looks.
constexpr std::array<const char*, 14> kTypes = {"",
                                                "INTEGER",
                                                "TEXT",
                                                "REAL",
                                                "BLOB",
                                                "NUMERIC",
                                                "\"weird type\"",
                                                "INTEGER PRIMARY KEY",
                                                "INTEGER PRIMARY KEY AUTOINCREMENT",
                                                "UNIQUE",
                                                "NOT NULL DEFAULT 'x''y'",
                                                "DEFAULT x'00ff'",
                                                "COLLATE NOCASE",
                                                "AS (1) VIRTUAL"};

std::string quoted(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string name_from(FuzzInput& in) {
  const std::uint8_t b = in.byte();
  if (b < kNames.size()) return kNames[b];
  // Raw bytes (NUL included: uvsqlite must refuse those with ProgrammingError).
  std::string out;
  for (std::size_t n = b % 12; n > 0 && !in.empty(); --n) out += static_cast<char>(in.byte());
  return out;
}

struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::size_t insertable = 0;  // columns an INSERT without a column list fills (not generated)
};

/// Where Python 3.11's iterdump() cannot round trip, found by this fuzzer and kept as Python
/// has them, since uvsqlite reproduces its lines exactly.
struct KnownLimits {
  // A table name with a single quote breaks the query that builds its INSERT lines: iterdump
  // itself fails (Python raises the same OperationalError).
  bool quote_in_table_name = false;
  // quote() writes an infinite REAL as Inf, which replays as a column name.
  bool infinity = false;
  // quote() ends a TEXT value at its first NUL byte, so the replayed value is shorter (and may
  // then take the column's affinity: '711616' into an INTEGER column).
  bool nul_in_text = false;

  [[nodiscard]] bool any() const noexcept { return quote_in_table_name || infinity || nul_in_text; }
};

Value value_from(FuzzInput& in, KnownLimits& limits) {
  Value v = in.value();
  if (v.type() == uvsqlite::Type::Real && std::isinf(v.get<double>())) limits.infinity = true;
  if (v.type() == uvsqlite::Type::Text && v.get<std::string_view>().find('\0') != std::string_view::npos) {
    limits.nul_in_text = true;
  }
  return v;
}

// UVSQLITE_FUZZ_VERBOSE=1 prints each statement and its outcome, and the dumps: for reading what
// a crashing input does.
bool verbose() {
  static const bool on = std::getenv("UVSQLITE_FUZZ_VERBOSE") != nullptr;
  return on;
}

void run(const Connection& db, const std::string& sql, uvsqlite::Params params = {}) {
  if (verbose()) std::fprintf(stderr, "build: %s\n", sql.c_str());
  try {
    (void)db.execute(sql, std::move(params)).get();
  } catch (const uvsqlite::Error& e) {
    if (verbose()) std::fprintf(stderr, "  -> %s\n", e.what());
    throw;
  }
}

// Builds the database from the input's operations. Each statement may fail (a duplicate name,
// a NUL byte, a constraint): that is an ordinary outcome, and the next one runs.
void build(const Connection& db, FuzzInput& in, std::vector<Table>& tables, KnownLimits& limits) {
  auto table = [&]() -> const Table* {
    return tables.empty() ? nullptr : &tables[in.byte() % tables.size()];
  };
  for (std::size_t i = 0; i < kMaxOperations && !in.empty(); ++i) {
    const std::uint8_t op = in.byte();
    try {
      switch (op % 10) {
        case 0: {  // CREATE TABLE
          Table t{name_from(in), {}, 0};
          const std::size_t ncols = 1 + in.byte() % kMaxColumns;
          const std::uint8_t flags = in.byte();
          std::string sql = "CREATE TABLE " + quoted(t.name) + "(";
          bool has_rowid_alias = false;
          for (std::size_t c = 0; c < ncols; ++c) {
            std::string column = name_from(in);
            const char* type = kTypes[in.byte() % kTypes.size()];
            if (std::string_view(type).starts_with("INTEGER PRIMARY KEY")) {
              if (has_rowid_alias) type = "INTEGER";
              has_rowid_alias = true;
            }
            if (!std::string_view(type).starts_with("AS ")) ++t.insertable;
            sql += (c ? ", " : "") + quoted(column) + " " + type;
            t.columns.push_back(std::move(column));
          }
          const bool without_rowid = (flags & 1) != 0 && !has_rowid_alias;
          if (without_rowid) sql += ", PRIMARY KEY(" + quoted(t.columns[0]) + ")";
          sql += ")";
          if (without_rowid) sql += " WITHOUT ROWID";
          if ((flags & 2) != 0) sql += without_rowid ? ", STRICT" : " STRICT";
          run(db, sql);
          if (t.name.find('\'') != std::string::npos) limits.quote_in_table_name = true;
          tables.push_back(std::move(t));
          break;
        }
        case 1:
        case 2: {  // INSERT, a few rows
          const Table* t = table();
          if (t == nullptr) break;
          const std::size_t rows = 1 + in.byte() % 4;
          for (std::size_t r = 0; r < rows; ++r) {
            std::vector<Value> values;
            std::string marks;
            for (std::size_t c = 0; c < t->insertable; ++c) {
              values.push_back(value_from(in, limits));
              marks += c ? ",?" : "?";
            }
            run(db, "INSERT INTO " + quoted(t->name) + " VALUES(" + marks + ")", std::move(values));
          }
          break;
        }
        case 3: {  // CREATE [UNIQUE] INDEX
          const Table* t = table();
          if (t == nullptr) break;
          const std::uint8_t b = in.byte();
          run(db, std::string("CREATE ") + ((b & 1) != 0 ? "UNIQUE " : "") + "INDEX " +
                      quoted(name_from(in)) + " ON " + quoted(t->name) + "(" +
                      quoted(t->columns[b % t->columns.size()]) + ")");
          break;
        }
        case 4: {  // CREATE VIEW
          const Table* t = table();
          if (t == nullptr) break;
          run(db, "CREATE VIEW " + quoted(name_from(in)) + " AS SELECT * FROM " + quoted(t->name));
          break;
        }
        case 5: {  // CREATE TRIGGER
          const Table* t = table();
          if (t == nullptr) break;
          run(db, "CREATE TRIGGER " + quoted(name_from(in)) + " AFTER INSERT ON " + quoted(t->name) +
                      " BEGIN SELECT RAISE(IGNORE) WHERE 0; END");
          break;
        }
        case 6: {  // DELETE some rows (AUTOINCREMENT keeps the highest rowid in sqlite_sequence)
          const Table* t = table();
          if (t == nullptr) break;
          run(db, "DELETE FROM " + quoted(t->name) + ((in.byte() & 1) != 0 ? " WHERE rowid % 2 = 0" : ""));
          break;
        }
        case 7: {  // UPDATE a column to a value
          const Table* t = table();
          if (t == nullptr) break;
          const std::string& column = t->columns[in.byte() % t->columns.size()];
          run(db, "UPDATE " + quoted(t->name) + " SET " + quoted(column) + " = ?", {value_from(in, limits)});
          break;
        }
        case 8: {  // ALTER TABLE ... ADD COLUMN
          Table* t = tables.empty() ? nullptr : &tables[in.byte() % tables.size()];
          if (t == nullptr) break;
          std::string column = name_from(in);
          run(db, "ALTER TABLE " + quoted(t->name) + " ADD COLUMN " + quoted(column) + " DEFAULT " +
                      std::to_string(in.byte()));
          t->columns.push_back(std::move(column));
          ++t->insertable;
          break;
        }
        case 9:  // ANALYZE (the dump then has sqlite_stat1 rows)
          run(db, "ANALYZE");
          break;
      }
    } catch (const uvsqlite::Error&) {
    }
  }
}

// The dump in one piece, in `form`.
Lines dump(uv_loop_t* loop, const Connection& db, Form form) {
  return complete<Lines>(loop, form, [&](auto t) { return db.iterdump(std::move(t)); });
}

// The dump streamed `chunk` lines at a time, checking each chunk's size.
Lines dump_streamed(uv_loop_t* loop, const Connection& db, std::size_t chunk) {
  Lines lines;
  bool done = false;
  std::exception_ptr error;
  db.iterdump(
      [&](Lines part) {
        if (part.empty() || part.size() > chunk) finding("a streamed chunk has a wrong size");
        for (auto& line : part) lines.push_back(std::move(line));
      },
      [&](std::exception_ptr e) {
        error = std::move(e);
        done = true;
      },
      chunk);
  while (!done) uv_run(loop, UV_RUN_ONCE);
  if (error) std::rethrow_exception(error);
  return lines;
}

// iterdump() reads each table with a SELECT that has no ORDER BY, as Python's does, so the rows
// come in the order of the plan SQLite picks: the table's own order, or that of a covering
// index, and the choice can differ between a database and its replay (their sqlite_stat1
// statistics are loaded at different times). Found by this fuzzer; the rows themselves must be
// the same. True when the dumps are equal once each run of INSERT lines into one table is sorted.
bool same_rows_in_any_order(Lines a, Lines b) {
  auto sort_runs = [](Lines& lines) {
    auto table_of = [](const std::string& line) {
      if (!line.starts_with("INSERT INTO ")) return std::string_view{};
      const std::string_view rest(line);
      return rest.substr(0, rest.find(" VALUES("));
    };
    for (std::size_t begin = 0; begin < lines.size();) {
      const std::string_view table = table_of(lines[begin]);
      std::size_t end = begin + 1;
      while (!table.empty() && end < lines.size() && table_of(lines[end]) == table) ++end;
      std::sort(lines.begin() + static_cast<std::ptrdiff_t>(begin),
                lines.begin() + static_cast<std::ptrdiff_t>(end));
      begin = end;
    }
  };
  sort_runs(a);
  sort_runs(b);
  return a == b;
}

std::string joined(const Lines& lines) {
  std::string script;
  for (const auto& line : lines) script += line + "\n";
  return script;
}

// Builds, dumps, replays into `copy` and dumps again; returns early where a known limit or the
// budget stops the round trip.
void round_trip(uv_loop_t* loop, FuzzInput& in, const Connection& original, const Connection& copy,
                uvsqlite::fuzz::Budget& budget) {
  const std::uint8_t option_bits = in.byte();
  const auto form = static_cast<Form>((option_bits & 3) % 3);
  const std::size_t chunk = 1 + (option_bits >> 2);

  std::vector<Table> tables;
  KnownLimits limits;
  build(original, in, tables, limits);

  // Dumping and replaying are bounded by what was built: a wall-time budget only, which an
  // interrupted statement reports (not a finding).
  budget.refill(1L << 40, std::chrono::seconds(10));
  Lines first;
  try {
    first = dump(loop, original, form);
    if (verbose()) {
      for (const auto& line : first) std::fprintf(stderr, "dump: %s\n", line.c_str());
    }
  } catch (const uvsqlite::Error& e) {
    if (verbose()) std::fprintf(stderr, "iterdump: %s\n", e.what());
    if (budget.spent() || limits.quote_in_table_name) return;
    finding("iterdump failed");
  }
  try {
    if (dump_streamed(loop, original, chunk) != first) finding("the streamed dump differs", first);
  } catch (const uvsqlite::Error&) {
    finding("the streamed dump failed where the whole one did not", first);
  }

  try {
    copy.executescript(joined(first)).get();
  } catch (const uvsqlite::Error& e) {
    if (budget.spent() || limits.any()) return;
    std::fprintf(stderr, "replay: %s\n", e.what());
    finding("the dump does not replay", first);
  }
  Lines second;
  try {
    second = dump(loop, copy, Form::Future);
  } catch (const uvsqlite::Error&) {
    if (budget.spent()) return;
    finding("the replayed database does not dump", first);
  }
  if (second != first && !limits.any() && !same_rows_in_any_order(first, second)) {
    finding("the replayed database dumps differently", first, second);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  uvsqlite::fuzz::limit_sqlite_heap();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uv_loop_t* loop = uvsqlite::fuzz::fuzz_loop();
  const std::size_t threads = uvsqlite::fuzz::thread_count();
  {
    FuzzInput in(std::string_view(reinterpret_cast<const char*>(data), size));
    auto budget = std::make_shared<uvsqlite::fuzz::Budget>(1000, std::chrono::seconds(2));
    const Connection original = uvsqlite::fuzz::open_sandbox(loop, {}, budget);
    // No DEFENSIVE flag here: the dump of a virtual table writes sqlite_master, as Python's does.
    const Connection copy = uvsqlite::fuzz::open_sandbox(loop, {}, budget, false);
    round_trip(loop, in, original, copy, *budget);
    original.close().get();
    copy.close().get();
  }
  if (!uvsqlite::fuzz::settle(loop, threads)) finding("a worker thread or uv handle outlived its connection");
  return 0;
}

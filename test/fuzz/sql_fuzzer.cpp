// sql_fuzzer: fuzzed SQL and parameters through every way uvsqlite runs a statement, in all
// three completion forms, on a fresh in-memory database with a small schema.
//
// Property: every operation completes, with a result or a uvsqlite::Error (or Warning); rows
// are consistent (as many values as columns, name lookup agrees with position, values read back
// as their own type and refuse another). Anything else (a crash, a sanitizer report, a leak, a
// hang, another exception) is a finding.
//
// Input: one options byte, then records separated by 0x1e. A record is an operation byte, the
// SQL text, and optionally 0x1f followed by parameters (see FuzzInput::params; executemany
// takes several sets separated by '|'). The operation byte: bits 0-3 choose the operation
// (enum Operation below), bits 4-5 the completion form, bits 6-7 a small number (which kept cursor,
// how many rows to fetch at a time). The options byte: bits 0-1 cached_statements, bits 2-3
// detect_types, bit 4 the bytes text factory, bit 5 autocommit, bits 6-7 iter_chunk_size. The
// input's size chooses how the connection ends (closed in either form, or dropped unclosed).

#include <uv.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
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
using uvsqlite::Cursor;
using uvsqlite::Params;
using uvsqlite::Row;
using uvsqlite::Value;
using uvsqlite::fuzz::complete;
using uvsqlite::fuzz::Form;

constexpr const char* kSchema =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b REAL, c BLOB, d, e tagged, f sized);"
    "CREATE TABLE u(k TEXT PRIMARY KEY, v INTEGER NOT NULL DEFAULT 0 CHECK (v > -1000)) WITHOUT ROWID;"
    "CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, msg TEXT);"
    "CREATE INDEX t_a ON t(a);"
    "CREATE VIEW tv AS SELECT id, a AS \"A\", b AS a FROM t WHERE id % 2 = 0;"
    "CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO log(msg) VALUES ('t ' || new.id); END;"
    "INSERT INTO t VALUES (1, 'one', 1.5, x'01', NULL, 'e1', 'f1'), (2, 'two', -2.0, x'', 2, NULL, ''),"
    "  (3, NULL, NULL, NULL, '3', 3, x'00'), (4, 'it''s', 1e300, x'00ff', 'x', 'é', 'ff');"
    "INSERT INTO u VALUES ('a', 1), ('b', 2);";

constexpr std::size_t kMaxRecords = 24;
constexpr std::size_t kMaxParamSets = 32;
constexpr std::size_t kKeptCursors = 4;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "sql_fuzzer: %s\n", what);
  std::abort();
}

// Reads a value back as its own type, and as another one, which must be refused.
void check_value(const Value& v) {
  switch (v.type()) {
    case uvsqlite::Type::Null:
      if (v.get<std::optional<std::int64_t>>()) finding("NULL read as a present integer");
      return;
    case uvsqlite::Type::Integer:
      (void)v.get<std::int64_t>();
      (void)v.get<double>();  // the one allowed conversion
      break;
    case uvsqlite::Type::Real:
      (void)v.get<double>();
      break;
    case uvsqlite::Type::Text:
      if (v.get<std::string>().size() != v.get<std::string_view>().size()) finding("text size differs");
      break;
    case uvsqlite::Type::Blob:
      if (v.get<uvsqlite::Blob>().size() != v.get<std::span<const std::byte>>().size()) {
        finding("blob size differs");
      }
      break;
  }
  if (v.type() != uvsqlite::Type::Text && v.type() != uvsqlite::Type::Blob) {
    try {
      (void)v.get<std::string>();
      finding("a non-text value read as text");
    } catch (const uvsqlite::InterfaceError&) {
    }
  }
}

// `width`: the cursor's description size when known (-1 when not).
void check_row(const Row& row, long width) {
  if (row.size() != row.columns().size()) finding("row values and columns differ in number");
  if (width >= 0 && row.size() != static_cast<std::size_t>(width))
    finding("row width is not the description's");
  const std::vector<std::string> keys = row.keys();
  if (keys.size() != row.size()) finding("keys and values differ in number");
  if (!keys.empty() && !(row[keys.front()] == row[0])) finding("the first column's name finds another value");
  for (const Value& v : row) check_value(v);
  const Row copy = row;
  if (!(copy == row)) finding("a copied row differs");
}

void check_rows(const std::vector<Row>& rows, long width) {
  for (const Row& row : rows) check_row(row, width);
}

long width_of(const Cursor& cursor) { return static_cast<long>(cursor.description().size()); }

// Fetches every row one at a time, in chunks or all at once, by `how` (0-3).
void drain(uv_loop_t* loop, Form form, const Cursor& cursor, unsigned how) {
  const long width = width_of(cursor);
  switch (how) {
    case 0:
      check_rows(
          complete<std::vector<Row>>(loop, form, [&](auto t) { return cursor.fetchall(std::move(t)); }),
          width);
      return;
    case 1:
      while (auto row = complete<std::optional<Row>>(loop, form,
                                                     [&](auto t) { return cursor.fetchone(std::move(t)); })) {
        check_row(*row, width);
      }
      return;
    default: {
      const std::size_t size = how == 2 ? 2 : 7;
      for (;;) {
        auto rows = complete<std::vector<Row>>(loop, form,
                                               [&](auto t) { return cursor.fetchmany(size, std::move(t)); });
        if (rows.size() > size) finding("fetchmany returned more rows than asked");
        check_rows(rows, width);
        if (rows.size() < size) return;
      }
    }
  }
}

// Iterates with Cursor::each (callback form) or co_await next() (awaitable form).
void iterate(uv_loop_t* loop, const Cursor& cursor, bool coroutine) {
  const long width = width_of(cursor);
  bool done = false;
  std::exception_ptr error;
  if (coroutine) {
    [](Cursor c, long w, bool& finished, std::exception_ptr& failure) -> uvsqlite::fuzz::DetachedTask {
      try {
        while (auto row = co_await c.next()) check_row(*row, w);
      } catch (...) {
        failure = std::current_exception();
      }
      finished = true;
    }(cursor, width, done, error);
  } else {
    cursor.each([width](Row row) { check_row(row, width); },
                [&](std::exception_ptr e) {
                  error = std::move(e);
                  done = true;
                });
  }
  while (!done) uv_run(loop, UV_RUN_ONCE);
  if (error) std::rethrow_exception(error);
}

struct State {
  Connection db;
  std::array<std::optional<Cursor>, kKeptCursors> kept;
};

enum Operation : unsigned {
  kExecuteFetch,      // execute, then drain by n
  kExecuteIterate,    // execute, then each() or next()
  kExecuteFetchall,   // execute_fetchall
  kExecutemany,       // executemany with each parameter set
  kExecutescript,     // executescript
  kExecuteInsert,     // execute_insert
  kCommit,            // commit
  kRollback,          // rollback
  kKeep,              // execute on a new cursor kept as kept[n]
  kKeptFetchone,      // fetchone on kept[n]
  kKeptDrain,         // drain kept[n]
  kKeptExecute,       // execute again on kept[n] (its statement changes under it)
  kKeptClose,         // close kept[n]
  kKeptDrop,          // drop the handle kept[n]
  kIsolationLevel,    // set_isolation_level by n
  kCursorExecutemany  // executemany on a new cursor from cursor()
};

void run_record(uv_loop_t* loop, State& state, std::string_view record) {
  uvsqlite::fuzz::FuzzInput in(record);
  const unsigned op = in.byte();
  const auto form = static_cast<Form>(((op >> 4) & 3) % 3);
  const unsigned n = op >> 6;
  std::string sql = in.until(uvsqlite::fuzz::kFieldSeparator);
  if (uvsqlite::fuzz::may_call_printf(sql)) return;
  Params params = in.params();
  const Connection& db = state.db;
  std::optional<Cursor>& kept = state.kept[n % kKeptCursors];

  switch (static_cast<Operation>(op & 15)) {
    case kExecuteFetch: {
      Cursor c = complete<Cursor>(loop, form, [&](auto t) { return db.execute(sql, params, std::move(t)); });
      drain(loop, form, c, n);
      break;
    }
    case kExecuteIterate: {
      Cursor c = complete<Cursor>(loop, form, [&](auto t) { return db.execute(sql, params, std::move(t)); });
      iterate(loop, c, (n & 1) != 0);
      break;
    }
    case kExecuteFetchall:
      check_rows(complete<std::vector<Row>>(
                     loop, form, [&](auto t) { return db.execute_fetchall(sql, params, std::move(t)); }),
                 -1);
      break;
    case kExecutemany:
    case kCursorExecutemany: {
      std::vector<Params> seq{std::move(params)};
      while (!in.empty() && seq.size() < kMaxParamSets) seq.push_back(in.params());
      if ((op & 15) == kExecutemany) {
        (void)complete<Cursor>(loop, form, [&](auto t) { return db.executemany(sql, seq, std::move(t)); });
      } else {
        Cursor c = complete<Cursor>(loop, form, [&](auto t) { return db.cursor(std::move(t)); });
        (void)complete<Cursor>(loop, form, [&](auto t) { return c.executemany(sql, seq, std::move(t)); });
        if (c.rowcount() < -1) finding("negative rowcount");
      }
      break;
    }
    case kExecutescript:
      (void)complete<Cursor>(loop, form, [&](auto t) { return db.executescript(sql, std::move(t)); });
      break;
    case kExecuteInsert:
      (void)complete<std::optional<std::int64_t>>(
          loop, form, [&](auto t) { return db.execute_insert(sql, params, std::move(t)); });
      break;
    case kCommit:
      complete<void>(loop, form, [&](auto t) { return db.commit(std::move(t)); });
      break;
    case kRollback:
      complete<void>(loop, form, [&](auto t) { return db.rollback(std::move(t)); });
      break;
    case kKeep:
      kept.reset();
      kept = complete<Cursor>(loop, form, [&](auto t) { return db.execute(sql, params, std::move(t)); });
      break;
    case kKeptFetchone:
      if (kept) {
        const long width = width_of(*kept);
        if (auto row = complete<std::optional<Row>>(loop, form,
                                                    [&](auto t) { return kept->fetchone(std::move(t)); })) {
          check_row(*row, width);
        }
      }
      break;
    case kKeptDrain:
      if (kept) drain(loop, form, *kept, n);
      break;
    case kKeptExecute:
      if (kept)
        (void)complete<Cursor>(loop, form, [&](auto t) { return kept->execute(sql, params, std::move(t)); });
      break;
    case kKeptClose:
      if (kept) complete<void>(loop, form, [&](auto t) { return kept->close(std::move(t)); });
      break;
    case kKeptDrop:
      kept.reset();
      break;
    case kIsolationLevel: {
      static const std::array<std::optional<std::string>, 4> kLevels = {std::nullopt, "", "IMMEDIATE",
                                                                        "EXCLUSIVE"};
      complete<void>(loop, form, [&](auto t) { return db.set_isolation_level(kLevels[n], std::move(t)); });
      break;
    }
  }
}

uvsqlite::Options options_from(std::uint8_t bits) {
  uvsqlite::Options options;
  static constexpr std::array<int, 4> kCache = {0, 1, 128, 128};
  static constexpr std::array<std::size_t, 4> kChunk = {1, 3, 64, 64};
  options.cached_statements = kCache[bits & 3];
  options.detect_types = (bits >> 2) & 3;
  if ((bits & 32) != 0) options.isolation_level = std::nullopt;
  options.iter_chunk_size = kChunk[bits >> 6];
  return options;
}

// The SQL functions and converters the schema's columns and fuzzed SQL can reach.
void register_functions(const Connection& db) {
  db.create_function("echo", -1, [](std::span<const Value> args) {
      return args.empty() ? Value() : args[0];
    }).get();
  db.create_function("boom", 1, [](std::span<const Value>) -> Value {
      throw std::runtime_error("boom");
    }).get();
  db.create_collation("rev", [](std::string_view a, std::string_view b) { return b.compare(a); }).get();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  uvsqlite::fuzz::limit_sqlite_heap();
  // Process-wide, like Python's: a converter that keeps a Value, and one that makes an object.
  uvsqlite::register_converter("tagged", [](const Value& raw) { return Value(raw); });
  uvsqlite::register_converter("sized", [](const Value& raw) {
    return raw.type() == uvsqlite::Type::Blob ? raw.get<uvsqlite::Blob>().size() : std::size_t{0};
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  uv_loop_t* loop = uvsqlite::fuzz::fuzz_loop();
  const std::size_t threads = uvsqlite::fuzz::thread_count();
  const std::uint8_t option_bits = input.empty() ? 0 : static_cast<std::uint8_t>(input[0]);
  {
    State state;
    auto budget = std::make_shared<uvsqlite::fuzz::Budget>(1000, std::chrono::seconds(2));
    state.db = uvsqlite::fuzz::open_sandbox(loop, options_from(option_bits), budget);
    register_functions(state.db);
    state.db.executescript(kSchema).get();
    if ((option_bits & 16) != 0) state.db.set_text_factory(uvsqlite::text_factory_bytes).get();

    const auto records = uvsqlite::fuzz::split(input.empty() ? input : input.substr(1),
                                               uvsqlite::fuzz::kRecordSeparator, kMaxRecords);
    for (std::string_view record : records) {
      try {
        run_record(loop, state, record);
      } catch (const uvsqlite::Error&) {
        // An ordinary outcome of bad SQL, bad parameters or a spent budget.
      } catch (const uvsqlite::Warning&) {
      }
    }
    // The end, chosen by the input's size: close (future or callback form) or drop the last
    // handle without closing; with the kept cursors dropped first or still held.
    if ((size / 3) % 2 != 0) state.kept = {};
    if (size % 3 != 2) {
      complete<void>(loop, size % 3 == 0 ? Form::Future : Form::Callback,
                     [&](auto t) { return state.db.close(std::move(t)); });
    }
  }
  if (!uvsqlite::fuzz::settle(loop, threads)) finding("a worker thread or uv handle outlived its connection");
  return 0;
}

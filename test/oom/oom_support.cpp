#include "oom_support.hpp"

#include <sqlite3.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <typeinfo>

namespace uvsqlite::test::oom {

void abort_on_hang() {
  std::fprintf(stderr, "an operation did not complete within %lld s: hang\n",
               static_cast<long long>(kHangLimit.count()));
  std::abort();
}

std::exception_ptr settle(std::future<void> future) {
  wait_or_abort(future);
  try {
    future.get();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

void expect_nomem(const std::exception_ptr& error, const std::string& operation) {
  ASSERT_TRUE(error) << operation;
  try {
    std::rethrow_exception(error);
  } catch (const OperationalError& e) {
    EXPECT_EQ(e.sqlite_errorcode(), SQLITE_NOMEM) << operation << ": " << e.what();
    EXPECT_EQ(e.sqlite_errorname(), "SQLITE_NOMEM") << operation;
    EXPECT_STREQ(e.what(), "out of memory") << operation;
  } catch (const std::exception& e) {
    ADD_FAILURE() << operation << " failed with " << typeid(e).name() << ": " << e.what();
  } catch (...) {
    ADD_FAILURE() << operation << " failed with a non-std exception";
  }
}

Failures::~Failures() {
  if (mode_ == FailMode::Once) {
    EXPECT_LE(count_, 1) << "one failed allocation failed several operations";
  }
}

namespace {
std::int64_t g_failed_operations = 0;  // test thread only
}  // namespace

std::int64_t failed_operations() { return g_failed_operations; }

bool Failures::check(const std::exception_ptr& error, const std::string& operation) {
  if (!error) return true;
  ++count_;
  ++g_failed_operations;
  expect_nomem(error, operation);
  return false;
}

Record record(std::int64_t id, std::int64_t batch) {
  Record r{id, batch, "name " + std::to_string(id) + " \xc3\xa9t\xc3\xa9", std::nullopt, {}};
  if (id % 5 != 0) r.score = static_cast<double>(id) * 0.25;
  r.payload.resize(static_cast<std::size_t>(id % 7) * 3 + 1, static_cast<std::byte>(id & 0xff));
  return r;
}

Params params_of(const Record& r) { return {r.id, r.batch, r.name, r.score, r.payload}; }

bool holds(const Row& row, const Record& r) {
  return row.size() == 5 && row[0] == Value(r.id) && row[1] == Value(r.batch) && row[2] == Value(r.name) &&
         row[3] == Value(r.score) && row[4] == Value(r.payload);
}

void expect_rows(const std::vector<Row>& rows, const std::vector<Record>& records, const std::string& what) {
  ASSERT_EQ(rows.size(), records.size()) << what;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_TRUE(holds(rows[i], records[i])) << what << ": row " << i;
  }
}

namespace {

struct CloseDb {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

Db open_raw(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return nullptr;
  }
  return db;
}

void exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << (message ? message : "?");
  }
  sqlite3_free(message);
}

// The record a row of kSelect holds, read through the C API.
Record read_record(sqlite3_stmt* stmt) {
  Record r{sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1), {}, std::nullopt, {}};
  if (const auto* text = sqlite3_column_text(stmt, 2)) {
    r.name.assign(reinterpret_cast<const char*>(text),
                  static_cast<std::size_t>(sqlite3_column_bytes(stmt, 2)));
  }
  if (sqlite3_column_type(stmt, 3) != SQLITE_NULL) r.score = sqlite3_column_double(stmt, 3);
  const auto* blob = static_cast<const std::byte*>(sqlite3_column_blob(stmt, 4));
  if (blob != nullptr) r.payload.assign(blob, blob + sqlite3_column_bytes(stmt, 4));
  return r;
}

bool same(const Record& a, const Record& b) {
  return a.id == b.id && a.batch == b.batch && a.name == b.name && a.score == b.score &&
         a.payload == b.payload;
}

}  // namespace

std::vector<Record> seed(const std::string& path, int count, const std::string& encoding) {
  EXPECT_FALSE(armed()) << "seed with the faults off";
  Db db = open_raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  std::vector<Record> records;
  if (!db) return records;
  exec(db.get(), "PRAGMA encoding = '" + encoding + "'; " + kSchema + "; BEGIN");
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.get(), kInsert, -1, &stmt, nullptr), SQLITE_OK);
  for (int id = 1; id <= count; ++id) {
    Record r = record(id, 0);
    sqlite3_bind_int64(stmt, 1, r.id);
    sqlite3_bind_int64(stmt, 2, r.batch);
    sqlite3_bind_text(stmt, 3, r.name.data(), static_cast<int>(r.name.size()), SQLITE_STATIC);
    if (r.score) {
      sqlite3_bind_double(stmt, 4, *r.score);
    } else {
      sqlite3_bind_null(stmt, 4);
    }
    sqlite3_bind_blob(stmt, 5, r.payload.data(), static_cast<int>(r.payload.size()), SQLITE_STATIC);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_reset(stmt);
    records.push_back(std::move(r));
  }
  sqlite3_finalize(stmt);
  exec(db.get(), "COMMIT");
  return records;
}

std::string query_text(const std::string& path, const std::string& sql) {
  Db db = open_raw(path, SQLITE_OPEN_READONLY);
  if (!db) return {};
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db.get());
    return {};
  }
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    if (const auto* text = sqlite3_column_text(stmt, 0)) out = reinterpret_cast<const char*>(text);
  }
  sqlite3_finalize(stmt);
  return out;
}

void verify_file(const std::string& path, const Ledger& ledger) {
  ASSERT_FALSE(armed()) << "verify with the faults off";
  if (!std::filesystem::exists(path) ||
      query_text(path, "SELECT count(*) FROM sqlite_master WHERE name = 't'") != "1") {
    // The table was never created: nothing can have been committed into it.
    for (const auto& batch : ledger.batches) {
      EXPECT_NE(batch.fate, Fate::Committed) << "the table is gone";
    }
    if (std::filesystem::exists(path)) {
      EXPECT_EQ(query_text(path, "PRAGMA integrity_check"), "ok") << path;
    }
    return;
  }
  EXPECT_EQ(query_text(path, "PRAGMA integrity_check"), "ok") << path;
  Db db = open_raw(path, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db);
  std::map<std::int64_t, Record> found;
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), kSelect, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db.get());
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Record r = read_record(stmt);
    found.emplace(r.id, std::move(r));
  }
  sqlite3_finalize(stmt);
  ASSERT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db.get());

  std::size_t expected_rows = 0;
  for (std::size_t b = 0; b < ledger.batches.size(); ++b) {
    const auto& batch = ledger.batches[b];
    std::size_t present = 0;
    for (const Record& r : batch.records) {
      auto it = found.find(r.id);
      if (it == found.end()) continue;
      ++present;
      EXPECT_TRUE(same(it->second, r)) << "row " << r.id << " holds other values";
    }
    expected_rows += present;
    switch (batch.fate) {
      case Fate::Committed:
        EXPECT_EQ(present, batch.records.size()) << "batch " << b << " was committed, rows are missing";
        break;
      case Fate::Absent:
        EXPECT_EQ(present, 0u) << "batch " << b << " was never committed, yet rows of it are there";
        break;
      case Fate::Either:
        EXPECT_TRUE(present == 0 || present == batch.records.size())
            << "batch " << b << ": " << present << " of " << batch.records.size() << " rows (not atomic)";
        break;
    }
  }
  EXPECT_EQ(found.size(), expected_rows) << "rows that no batch wrote";
}

bool write_batch(const Connection& db, Ledger& ledger, std::int64_t batch, std::int64_t first_id, int count,
                 WriteKind kind, Failures& failures) {
  std::vector<Record> records;
  for (int i = 0; i < count; ++i) records.push_back(record(first_id + i, batch));
  ledger.batches.push_back({records, Fate::Absent});
  const std::size_t index = ledger.batches.size() - 1;
  const std::string name = "batch " + std::to_string(batch) + ": ";

  bool written = true;
  switch (kind) {
    case WriteKind::Execute:
      for (const Record& r : records) {
        auto out = settle(db.execute(kInsert, params_of(r)));
        written = failures.check(out.error, name + "execute(INSERT)");
        if (!written) break;
        EXPECT_EQ(out.value->rowcount(), 1);
        EXPECT_EQ(out.value->lastrowid(), r.id);
      }
      break;
    case WriteKind::ExecuteMany: {
      std::vector<Params> seq;
      for (const Record& r : records) seq.push_back(params_of(r));
      auto out = settle(db.executemany(kInsert, std::move(seq)));
      written = failures.check(out.error, name + "executemany(INSERT)");
      if (written) {
        EXPECT_EQ(out.value->rowcount(), count);
      }
      break;
    }
    case WriteKind::ExecuteInsert:
      for (const Record& r : records) {
        auto out = settle(db.execute_insert(kInsert, params_of(r)));
        written = failures.check(out.error, name + "execute_insert");
        if (!written) break;
        EXPECT_EQ(*out.value, std::optional<std::int64_t>(r.id));
      }
      break;
  }
  if (written) {
    EXPECT_TRUE(db.in_transaction()) << name << "the implicit BEGIN";
    if (failures.check(settle(db.commit()), name + "commit")) {
      ledger.batches[index].fate = Fate::Committed;
      EXPECT_FALSE(db.in_transaction()) << name << "after commit";
      return true;
    }
    // SQLite may or may not have rolled the transaction back itself; the file shows which.
    ledger.batches[index].fate = Fate::Either;
  }
  if (!failures.check(settle(db.rollback()), name + "rollback")) return false;
  EXPECT_FALSE(db.in_transaction()) << name << "after rollback";
  return true;
}

namespace {
std::filesystem::path scratch_base() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}
}  // namespace

OomTest::OomTest() : files_(scratch_base()) {}

void OomTest::SetUp() {
  LoopTest::SetUp();
  threads_before_ = thread_count();
}

void OomTest::TearDown() {
  disarm();
  LoopTest::TearDown();
}

std::string OomTest::fresh(const std::string& name) const {
  const std::string path = files_.file(name);
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

OomTest::Iterated OomTest::iterate(Cursor& cursor) {
  Iterated out;
  cursor.each([&](Row row) { out.rows.push_back(std::move(row)); },
              [&](std::exception_ptr e) {
                out.error = e;
                out.finished = true;
              });
  run_until([&] { return out.finished; }, kHangLimit);
  return out;
}

void OomTest::expect_no_worker_left() const {
  for (int i = 0; i < 400 && thread_count() > threads_before_; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(thread_count(), threads_before_) << "a worker thread is left";
}

void PrintTo(FailMode mode, std::ostream* os) { *os << (mode == FailMode::Once ? "Once" : "Persistent"); }

std::string mode_name(const ::testing::TestParamInfo<FailMode>& info) {
  return info.param == FailMode::Once ? "Once" : "Persistent";
}

}  // namespace uvsqlite::test::oom

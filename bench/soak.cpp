// The soak program: a long mixed load on one WAL database, every result checked against a
// model, memory watched. Eight connections share the file: four driven by four plain threads in
// the future form, four driven by the uv loop in the callback form. Each connection is a lane
// that owns a range of keys, so that it knows exactly what each of its reads must return;
// reads across lanes check that each row is consistent in itself.
//
// A row of lane L, index i, after `version` updates: k = L * 1e9 + i, v = i * 1e6 + version,
// s = "L:i:version", lane = L. The operations, chosen at random per lane: insert
// (execute_insert), update (execute, rowcount), point select and range scan (execute_fetchall),
// executemany of 8 inserts, iteration of a range (Cursor::each on the loop, fetchmany and
// fetchone on the threads), a scan of another lane, a count and sum of the lane's rows, commit
// and rollback (a transaction ends after at most kMaxTransactionOps operations). At the end:
// every row of the table compared with the models, the counts and sums per lane, and PRAGMA
// integrity_check.
//
// Prints one JSON line: operations done, elapsed time, RSS at the start, after the warm-up
// (the first 10% of the operations), at the end of the load and at its peak, SQLite's own heap,
// and whether RSS stayed flat (its growth after the warm-up, less SQLite's heap growth, within
// kFlatBoundMiB). Exit code: 0 when every check passed, 1 on any mismatch or error, 2 for bad
// arguments. When no operation completes for 5 s, it prints what each lane is doing.
//
// Usage: uvsqlite_soak [--ops N] [--quick]     (default 1,000,000 operations; --quick: 20,000)

#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <uvsqlite/uvsqlite.hpp>
#include <vector>

namespace {

using uvsqlite::Connection;
using uvsqlite::Cursor;
using uvsqlite::Row;
using Clock = std::chrono::steady_clock;
using Next = std::function<void()>;

constexpr int kThreadLanes = 4;
constexpr int kLoopLanes = 4;
constexpr int kLanes = kThreadLanes + kLoopLanes;
constexpr std::int64_t kLaneSpan = 1'000'000'000;  // keys per lane
constexpr std::int64_t kVersionSpan = 1'000'000;   // updates a row may have
constexpr std::uint32_t kScanWidth = 48;           // keys per range scan
constexpr std::size_t kManyRows = 8;               // rows per executemany
constexpr std::size_t kIterChunk = 16;             // rows per fetchmany when iterating
constexpr int kMaxTransactionOps = 6;              // operations in a transaction before it ends
// Page cache per connection: small, so that the caches are full by the end of the warm-up.
constexpr int kCacheKiB = 512;
// How much RSS may grow after the warm-up, beyond the growth of SQLite's own heap
// (sqlite3_memory_used: the page caches filling up as the database grows), and still count as
// flat: allocator slack, and the WAL index, which grows with the WAL file between checkpoints.
constexpr double kFlatBoundMiB = 4.0;

std::int64_t key_of(int lane, std::uint32_t i) { return lane * kLaneSpan + i; }
std::int64_t value_of(std::uint32_t i, std::uint32_t version) { return i * kVersionSpan + version; }
std::string text_of(int lane, std::uint32_t i, std::uint32_t version) {
  return std::to_string(lane) + ":" + std::to_string(i) + ":" + std::to_string(version);
}

// SQLite's own busy handler sleeps up to 100 ms between looks at the lock, so a waiting writer
// misses most of the moments the lock is free and one lane takes it again and again. This one
// looks every 100 us (for up to 30 s), so that eight writers share it.
/// Set at the first failure: every lane stops, and waiting writers give up the lock at once.
std::atomic<bool> g_stop{false};

int busy_poll(void* /*unused*/, int count) {
  if (count >= 300'000 || g_stop.load(std::memory_order_relaxed)) return 0;
  if (count < 16) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return 1;
}

// Under ASan, freed memory waits in a quarantine (256 MiB by default) before reuse: RSS grows
// whatever the program does, so the JSON line says "asan":true and leaves rss_flat null.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

std::string json_escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

double mib(std::size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0;
  std::size_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::size_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::size_t>(usage.ru_maxrss) * 1024;
}

std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "a non-std exception";
  }
}

/// Failures of every lane: counted, the first few printed.
class Failures {
 public:
  void add(const std::string& what) {
    std::lock_guard lock(mutex_);
    if (count_ < 10) std::fprintf(stderr, "soak: %s\n", what.c_str());
    if (count_ == 0) first_ = what;
    ++count_;
  }
  [[nodiscard]] long count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  [[nodiscard]] std::string first() const {
    std::lock_guard lock(mutex_);
    return first_;
  }

 private:
  mutable std::mutex mutex_;
  long count_ = 0;
  std::string first_;
};

Failures g_failures;
std::atomic<long> g_ops_done{0};

/// What a lane's rows must be: the committed state and the writes of the open transaction.
class Model {
 public:
  /// Version + 1 of row i as this lane's connection sees it (0: no such row).
  [[nodiscard]] std::uint32_t seen(std::uint32_t i) const {
    if (auto it = pending_.find(i); it != pending_.end()) return it->second;
    return i < committed_.size() ? committed_[i] : 0;
  }
  [[nodiscard]] std::uint32_t committed(std::uint32_t i) const {
    return i < committed_.size() ? committed_[i] : 0;
  }
  [[nodiscard]] std::uint32_t next_index() const { return next_; }
  std::uint32_t take_index() { return next_++; }

  void write(std::uint32_t i, std::uint32_t seen_version) {
    const std::uint32_t before = seen(i);
    pending_[i] = seen_version;
    if (before == 0) ++pending_count_;
    pending_sum_ += value_of(i, seen_version - 1) - (before == 0 ? 0 : value_of(i, before - 1));
  }
  void commit() {
    for (const auto& [i, v] : pending_) {
      if (i >= committed_.size()) committed_.resize(std::max<std::size_t>(i + 1, committed_.size() * 2), 0);
      committed_[i] = v;
    }
    count_ += pending_count_;
    sum_ += pending_sum_;
    rollback();
  }
  void rollback() {
    pending_.clear();
    pending_count_ = 0;
    pending_sum_ = 0;
  }
  [[nodiscard]] std::int64_t count() const { return count_ + pending_count_; }
  [[nodiscard]] std::int64_t sum() const { return sum_ + pending_sum_; }
  [[nodiscard]] std::int64_t committed_count() const { return count_; }
  [[nodiscard]] std::int64_t committed_sum() const { return sum_; }
  /// Sizes the committed state for `n` rows now, so that its memory counts before the warm-up.
  void presize(std::size_t n) { committed_.assign(n, 0); }

 private:
  std::vector<std::uint32_t> committed_;  // index i: version + 1, 0 when absent
  std::unordered_map<std::uint32_t, std::uint32_t> pending_;
  std::uint32_t next_ = 0;
  std::int64_t count_ = 0, sum_ = 0;
  std::int64_t pending_count_ = 0, pending_sum_ = 0;
};

/// The next index each lane will hand out, for the scans of other lanes.
std::array<std::atomic<std::uint32_t>, kLanes> g_published{};

/// One connection and the operations it runs, written once in continuation-passing style: the
/// future form (plain threads) calls each continuation before the operation returns; the
/// callback form (loop) calls it from the loop.
class Lane {
 public:
  Lane(int id, Connection db, bool on_loop, long quota, std::uint64_t seed)
      : id_(id), db_(std::move(db)), on_loop_(on_loop), quota_(quota), rng_(seed) {
    model_.presize(static_cast<std::size_t>(quota / 2 + 64));
  }

  /// Runs the lane's operations: on a plain thread, to the end; on the loop, the first one, each
  /// later one from the previous one's completion.
  void start() {
    if (on_loop_) {
      loop_next();
    } else {
      while (done_ < quota_ && !g_stop.load()) run_one([] {});
    }
  }
  /// Commits what is left open (future form, any thread), and the model with it.
  void commit_now() {
    db_.commit().get();
    model_.commit();
  }
  [[nodiscard]] bool failed() const { return failed_; }
  [[nodiscard]] const Model& model() const { return model_; }
  [[nodiscard]] const Connection& db() const { return db_; }
  [[nodiscard]] int id() const { return id_; }
  /// For a stall report: operations done and the dice of the current one.
  [[nodiscard]] std::string state() const {
    return "lane " + std::to_string(id_) + ": done " + std::to_string(done_) + ", op dice " +
           std::to_string(state_.load(std::memory_order_relaxed)) + (failed_ ? ", failed" : "");
  }

 private:
  void loop_next() {
    if (done_ < quota_ && !g_stop.load()) run_one([this] { loop_next(); });
  }

  // The first failure stops every lane; what fails after it (waiting writers giving up the
  // lock) follows from it and is not counted.
  void fail(const std::string& what, const Next& next) {
    if (!g_stop.exchange(true)) g_failures.add("lane " + std::to_string(id_) + ": " + what);
    failed_ = true;
    // Give up this lane's write lock, if it holds one, for the others to stop promptly.
    if (on_loop_) {
      db_.rollback([](std::exception_ptr) {});
    } else {
      try {
        db_.rollback().get();
      } catch (const std::exception&) {
      }
    }
    next();
  }

  // Counts the operation, then continues.
  void finish(const Next& next) {
    ++done_;
    g_ops_done.fetch_add(1, std::memory_order_relaxed);
    next();
  }

  template <class T, class Op, class K>
  void step(Op op, K k) {
    if (on_loop_) {
      op([k = std::move(k)](std::exception_ptr e, T v) mutable { k(std::move(e), std::move(v)); });
      return;
    }
    std::exception_ptr error;
    T value{};
    try {
      value = op(uvsqlite::use_future).get();
    } catch (...) {
      error = std::current_exception();
    }
    k(std::move(error), std::move(value));
  }

  template <class Op, class K>
  void step_void(Op op, K k) {
    if (on_loop_) {
      op([k = std::move(k)](std::exception_ptr e) mutable { k(std::move(e)); });
      return;
    }
    std::exception_ptr error;
    try {
      op(uvsqlite::use_future).get();
    } catch (...) {
      error = std::current_exception();
    }
    k(std::move(error));
  }

  std::uint32_t random_below(std::uint32_t n) {
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng_);
  }

  // An index whose row exists (for this connection), or nullopt.
  std::optional<std::uint32_t> existing() {
    const std::uint32_t n = model_.next_index();
    if (n == 0) return std::nullopt;
    std::uint32_t i = random_below(n);
    for (int probe = 0; probe < 8; ++probe, i = (i + 1) % n) {
      if (model_.seen(i) != 0) return i;
    }
    return std::nullopt;
  }

  void run_one(const Next& next) {
    // A transaction holds the write lock from its first write to its end: keep it short, and
    // never leave one open after the lane's last operation, or the other lanes wait for it.
    const bool last = done_ + 1 >= quota_;
    if (db_.in_transaction()) {
      if (last || ++transaction_ops_ > kMaxTransactionOps) {
        state_.store(100, std::memory_order_relaxed);
        return random_below(8) == 0 ? rollback(next) : commit(next);
      }
    } else {
      transaction_ops_ = 0;
      if (last) return scan(next);
    }
    const std::uint32_t dice = random_below(100);
    state_.store(dice, std::memory_order_relaxed);
    if (dice < 18) return insert(next);
    if (dice < 32) return update(next);
    if (dice < 56) return point_select(next);
    if (dice < 64) return scan(next);
    if (dice < 68) return insert_many(next);
    if (dice < 76) return iterate(next);
    if (dice < 81) return scan_other_lane(next);
    if (dice < 85) return count(next);
    if (dice < 97) return commit(next);
    return rollback(next);
  }

  // Checks a row (k, v, s) against the model; `lane` is the row's lane.
  bool check_row(const Row& row, std::uint32_t expect_i, std::uint32_t seen, const Next& next) {
    const auto k = row.get<std::int64_t>(0);
    const auto v = row.get<std::int64_t>(1);
    const auto s = row.get<std::string>(2);
    if (k != key_of(id_, expect_i) || v != value_of(expect_i, seen - 1) ||
        s != text_of(id_, expect_i, seen - 1)) {
      fail("row " + std::to_string(k) + " = (" + std::to_string(v) + ", " + s + "), expected key " +
               std::to_string(key_of(id_, expect_i)) + " version " + std::to_string(seen - 1),
           next);
      return false;
    }
    return true;
  }

  // The indexes in [first, first + kScanWidth) whose rows exist, in order.
  std::vector<std::uint32_t> expected_range(std::uint32_t first) const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = first; i < first + kScanWidth && i < model_.next_index(); ++i) {
      if (model_.seen(i) != 0) out.push_back(i);
    }
    return out;
  }

  void insert(const Next& next) {
    const std::uint32_t i = model_.take_index();
    g_published[static_cast<std::size_t>(id_)].store(model_.next_index(), std::memory_order_relaxed);
    uvsqlite::Params params{key_of(id_, i), value_of(i, 0), text_of(id_, i, 0), id_};
    step<std::optional<std::int64_t>>(
        [&](auto t) {
          return db_.execute_insert("INSERT INTO kv(k, v, s, lane) VALUES (?, ?, ?, ?)", params,
                                    std::move(t));
        },
        [this, i, next](std::exception_ptr e, std::optional<std::int64_t> rowid) {
          if (e) return fail("insert: " + describe(e), next);
          if (rowid != key_of(id_, i)) return fail("insert: wrong rowid", next);
          model_.write(i, 1);
          finish(next);
        });
  }

  void update(const Next& next) {
    const auto i = existing();
    if (!i) return insert(next);
    const std::uint32_t version = model_.seen(*i);  // the new version, + 1 for the model
    uvsqlite::Params params{value_of(*i, version), text_of(id_, *i, version), key_of(id_, *i)};
    step<Cursor>(
        [&](auto t) { return db_.execute("UPDATE kv SET v = ?, s = ? WHERE k = ?", params, std::move(t)); },
        [this, i = *i, version, next](std::exception_ptr e, Cursor c) {
          if (e) return fail("update: " + describe(e), next);
          if (c.rowcount() != 1) return fail("update: rowcount " + std::to_string(c.rowcount()), next);
          model_.write(i, version + 1);
          finish(next);
        });
  }

  void point_select(const Next& next) {
    // One in eight looks for a row that does not exist (never inserted, or rolled back).
    std::optional<std::uint32_t> i = random_below(8) == 0
                                         ? std::optional<std::uint32_t>(model_.next_index() + random_below(4))
                                         : existing();
    if (!i) return scan(next);
    uvsqlite::Params params{key_of(id_, *i)};
    step<std::vector<Row>>(
        [&](auto t) {
          return db_.execute_fetchall("SELECT k, v, s FROM kv WHERE k = ?", params, std::move(t));
        },
        [this, i = *i, next](std::exception_ptr e, std::vector<Row> rows) {
          if (e) return fail("select: " + describe(e), next);
          const std::uint32_t seen = model_.seen(i);
          if (rows.size() != (seen != 0 ? 1u : 0u)) {
            return fail(
                "select: " + std::to_string(rows.size()) + " rows for key " + std::to_string(key_of(id_, i)),
                next);
          }
          if (seen != 0 && !check_row(rows[0], i, seen, next)) return;
          finish(next);
        });
  }

  void scan(const Next& next) {
    const std::uint32_t first = random_below(model_.next_index() + 1);
    uvsqlite::Params params{key_of(id_, first), key_of(id_, first + kScanWidth - 1)};
    step<std::vector<Row>>(
        [&](auto t) {
          return db_.execute_fetchall("SELECT k, v, s FROM kv WHERE k BETWEEN ? AND ? ORDER BY k", params,
                                      std::move(t));
        },
        [this, first, next](std::exception_ptr e, std::vector<Row> rows) {
          if (e) return fail("scan: " + describe(e), next);
          const auto expected = expected_range(first);
          if (rows.size() != expected.size()) return fail("scan: wrong row count", next);
          for (std::size_t r = 0; r < rows.size(); ++r) {
            if (!check_row(rows[r], expected[r], model_.seen(expected[r]), next)) return;
          }
          finish(next);
        });
  }

  void insert_many(const Next& next) {
    std::vector<uvsqlite::Params> seq;
    std::vector<std::uint32_t> indexes;
    for (std::size_t n = 0; n < kManyRows; ++n) {
      const std::uint32_t i = model_.take_index();
      indexes.push_back(i);
      seq.push_back(uvsqlite::Params{key_of(id_, i), value_of(i, 0), text_of(id_, i, 0), id_});
    }
    g_published[static_cast<std::size_t>(id_)].store(model_.next_index(), std::memory_order_relaxed);
    step<Cursor>(
        [&](auto t) {
          return db_.executemany("INSERT INTO kv(k, v, s, lane) VALUES (?, ?, ?, ?)", seq, std::move(t));
        },
        [this, indexes = std::move(indexes), next](std::exception_ptr e, Cursor c) {
          if (e) return fail("executemany: " + describe(e), next);
          if (c.rowcount() != static_cast<std::int64_t>(kManyRows))
            return fail("executemany: rowcount", next);
          for (std::uint32_t i : indexes) model_.write(i, 1);
          finish(next);
        });
  }

  // Iterates a range: Cursor::each on the loop; fetchmany or fetchone (alternately) on a thread.
  void iterate(const Next& next) {
    const std::uint32_t first = random_below(model_.next_index() + 1);
    uvsqlite::Params params{key_of(id_, first), key_of(id_, first + kScanWidth - 1)};
    step<Cursor>(
        [&](auto t) {
          return db_.execute("SELECT k, v, s FROM kv WHERE k BETWEEN ? AND ? ORDER BY k", params,
                             std::move(t));
        },
        [this, first, next](std::exception_ptr e, Cursor c) {
          if (e) return fail("iterate: " + describe(e), next);
          auto expected = std::make_shared<std::vector<std::uint32_t>>(expected_range(first));
          if (on_loop_) {
            auto seen_rows = std::make_shared<std::size_t>(0);
            auto ok = std::make_shared<bool>(true);
            c.each(
                [this, expected, seen_rows, ok](Row row) {
                  if (!*ok) return;
                  const std::size_t r = (*seen_rows)++;
                  if (r >= expected->size() ||
                      !check_row(row, (*expected)[r], model_.seen((*expected)[r]), [] {})) {
                    *ok = false;
                  }
                },
                [this, expected, seen_rows, ok, next](std::exception_ptr error) {
                  if (error) return fail("iterate: " + describe(error), next);
                  if (!*ok) return next();  // check_row reported it
                  if (*seen_rows != expected->size()) return fail("iterate: wrong row count", next);
                  finish(next);
                });
            return;
          }
          std::size_t r = 0;
          const bool one_by_one = random_below(2) == 0;
          for (;;) {
            std::vector<Row> rows;
            try {
              if (one_by_one) {
                if (auto row = c.fetchone().get()) rows.push_back(std::move(*row));
              } else {
                rows = c.fetchmany(kIterChunk).get();
              }
            } catch (...) {
              return fail("iterate: " + describe(std::current_exception()), next);
            }
            for (const Row& row : rows) {
              if (r >= expected->size()) return fail("iterate: too many rows", next);
              if (!check_row(row, (*expected)[r], model_.seen((*expected)[r]), next)) return;
              ++r;
            }
            if (rows.empty() || (!one_by_one && rows.size() < kIterChunk)) break;
          }
          if (r != expected->size()) return fail("iterate: too few rows", next);
          finish(next);
        });
  }

  // Another lane's rows: which exist depends on that lane's commits, but each must be whole.
  void scan_other_lane(const Next& next) {
    const int other =
        static_cast<int>((static_cast<std::uint32_t>(id_) + 1 + random_below(kLanes - 1)) % kLanes);
    const std::uint32_t limit = g_published[static_cast<std::size_t>(other)].load(std::memory_order_relaxed);
    const std::uint32_t first = random_below(limit + 1);
    uvsqlite::Params params{key_of(other, first), key_of(other, first + kScanWidth - 1)};
    step<std::vector<Row>>(
        [&](auto t) {
          return db_.execute_fetchall("SELECT k, v, s, lane FROM kv WHERE k BETWEEN ? AND ? ORDER BY k",
                                      params, std::move(t));
        },
        [this, other, next](std::exception_ptr e, std::vector<Row> rows) {
          if (e) return fail("scan of another lane: " + describe(e), next);
          for (const Row& row : rows) {
            const auto k = row.get<std::int64_t>(0);
            const auto v = row.get<std::int64_t>(1);
            const auto i = static_cast<std::uint32_t>(k - other * kLaneSpan);
            const auto version = static_cast<std::uint32_t>(v - value_of(i, 0));
            if (row.get<std::int64_t>(3) != other || v / kVersionSpan != i ||
                row.get<std::string>(2) != text_of(other, i, version)) {
              return fail("scan of another lane: inconsistent row " + std::to_string(k), next);
            }
          }
          finish(next);
        });
  }

  void count(const Next& next) {
    uvsqlite::Params params{id_};
    step<std::vector<Row>>(
        [&](auto t) {
          return db_.execute_fetchall("SELECT count(*), coalesce(sum(v), 0) FROM kv WHERE lane = ?", params,
                                      std::move(t));
        },
        [this, next](std::exception_ptr e, std::vector<Row> rows) {
          if (e) return fail("count: " + describe(e), next);
          if (rows.size() != 1 || rows[0].get<std::int64_t>(0) != model_.count() ||
              rows[0].get<std::int64_t>(1) != model_.sum()) {
            return fail("count: the lane's count or sum differs from the model", next);
          }
          finish(next);
        });
  }

  void commit(const Next& next) {
    step_void([&](auto t) { return db_.commit(std::move(t)); },
              [this, next](std::exception_ptr e) {
                if (e) return fail("commit: " + describe(e), next);
                if (db_.in_transaction()) return fail("commit: still in a transaction", next);
                model_.commit();
                finish(next);
              });
  }

  void rollback(const Next& next) {
    step_void([&](auto t) { return db_.rollback(std::move(t)); },
              [this, next](std::exception_ptr e) {
                if (e) return fail("rollback: " + describe(e), next);
                model_.rollback();
                finish(next);
              });
  }

  int id_;
  Connection db_;
  bool on_loop_;
  long quota_;
  std::atomic<long> done_{0};  // written by the lane, read by a stall report
  std::atomic<bool> failed_{false};
  std::mt19937_64 rng_;
  Model model_;
  std::atomic<std::uint32_t> state_{0};
  int transaction_ops_ = 0;
};

/// Samples RSS every 10 ms: the peak, and the value once the warm-up is done.
class RssMonitor {
 public:
  /// `on_stall` runs (on the monitor's thread) when no operation completed for 5 s.
  RssMonitor(long warmup_ops, std::function<void()> on_stall)
      : warmup_ops_(warmup_ops), on_stall_(std::move(on_stall)), thread_([this] { run(); }) {}
  ~RssMonitor() { stop(); }
  RssMonitor(const RssMonitor&) = delete;
  RssMonitor& operator=(const RssMonitor&) = delete;

  void stop() {
    if (!stop_.exchange(true)) thread_.join();
  }
  [[nodiscard]] std::size_t peak() const { return peak_.load(); }
  [[nodiscard]] std::size_t warm() const { return warm_.load(); }
  /// SQLite's heap (sqlite3_memory_used) when warm() was taken.
  [[nodiscard]] std::size_t warm_sqlite() const { return warm_sqlite_.load(); }

 private:
  void run() {
    long last_done = -1;
    auto last_progress = Clock::now();
    while (!stop_.load()) {
      const std::size_t now = rss_bytes();
      peak_.store(std::max(peak_.load(), now));
      const long done = g_ops_done.load(std::memory_order_relaxed);
      if (warm_.load() == 0 && done >= warmup_ops_) {
        warm_sqlite_.store(static_cast<std::size_t>(sqlite3_memory_used()));
        warm_.store(now);
      }
      if (done != last_done) {
        last_done = done;
        last_progress = Clock::now();
      } else if (Clock::now() - last_progress > std::chrono::seconds(5)) {
        on_stall_();
        last_progress = Clock::now() + std::chrono::hours(1);  // once
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  long warmup_ops_;
  std::function<void()> on_stall_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> peak_{0};
  std::atomic<std::size_t> warm_{0};
  std::atomic<std::size_t> warm_sqlite_{0};
  std::thread thread_;
};

// Every row of the table, in key order, against the lanes' committed models; then the counts
// and sums per lane, and the integrity check. Returns the number of rows.
std::int64_t verify_table(const Connection& db, const std::vector<std::unique_ptr<Lane>>& lanes) {
  Cursor c = db.execute("SELECT k, v, s, lane FROM kv ORDER BY k").get();
  int lane = 0;
  std::uint32_t i = 0;
  std::int64_t rows_seen = 0;
  // The next index of `lane` at or after `i` whose row exists, moving on to the next lanes.
  auto advance = [&]() {
    while (lane < kLanes) {
      const Model& m = lanes[static_cast<std::size_t>(lane)]->model();
      while (i < m.next_index() && m.committed(i) == 0) ++i;
      if (i < m.next_index()) return;
      ++lane;
      i = 0;
    }
  };
  advance();
  for (;;) {
    const auto rows = c.fetchmany(4096).get();
    for (const Row& row : rows) {
      ++rows_seen;
      if (lane >= kLanes) {
        g_failures.add("final scan: an unexpected row " + std::to_string(row.get<std::int64_t>(0)));
        return rows_seen;
      }
      const std::uint32_t version = lanes[static_cast<std::size_t>(lane)]->model().committed(i) - 1;
      if (row.get<std::int64_t>(0) != key_of(lane, i) || row.get<std::int64_t>(1) != value_of(i, version) ||
          row.get<std::string>(2) != text_of(lane, i, version) || row.get<std::int64_t>(3) != lane) {
        g_failures.add("final scan: row " + std::to_string(row.get<std::int64_t>(0)) + " differs from key " +
                       std::to_string(key_of(lane, i)));
        return rows_seen;
      }
      ++i;
      advance();
    }
    if (rows.size() < 4096) break;
  }
  if (lane < kLanes)
    g_failures.add("final scan: rows are missing, from key " + std::to_string(key_of(lane, i)));

  for (const auto& l : lanes) {
    const auto rows =
        db.execute_fetchall("SELECT count(*), coalesce(sum(v), 0) FROM kv WHERE lane = ?", {l->id()}).get();
    if (rows.at(0).get<std::int64_t>(0) != l->model().committed_count() ||
        rows.at(0).get<std::int64_t>(1) != l->model().committed_sum()) {
      g_failures.add("final count: lane " + std::to_string(l->id()) + " differs from its model");
    }
  }
  const auto check = db.execute_fetchall("PRAGMA integrity_check").get();
  if (check.size() != 1 || check[0].get<std::string>(0) != "ok") g_failures.add("integrity_check failed");
  return rows_seen;
}

}  // namespace

int main(int argc, char** argv) {
  long ops = 1'000'000;
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--quick") == 0) {
      ops = 20'000;
    } else if (std::strcmp(argv[a], "--ops") == 0 && a + 1 < argc) {
      ops = std::strtol(argv[++a], nullptr, 10);
    } else {
      ops = 0;
    }
    if (ops <= 0) {
      std::fprintf(stderr, "usage: %s [--ops N] [--quick]\n", argv[0]);
      return 2;
    }
  }

  const auto dir = std::filesystem::temp_directory_path() / ("uvsqlite-soak-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "soak.db").string();
  const std::size_t rss_start = rss_bytes();

  uv_loop_t loop;
  uv_loop_init(&loop);
  uvsqlite::Options options;
  options.isolation_level = "IMMEDIATE";  // writers queue on the busy timeout instead of failing
  options.timeout = 30.0;

  std::vector<std::unique_ptr<Lane>> lanes;
  std::int64_t rows = 0;
  double elapsed = 0;
  std::size_t rss_warm = 0;
  std::size_t sqlite_warm = 0;
  std::size_t sqlite_end = 0;
  std::size_t rss_end = 0;
  std::size_t rss_peak = 0;
  try {
    {
      Connection setup = uvsqlite::connect(path, options).get();
      setup.execute("PRAGMA journal_mode=WAL").get();
      setup
          .execute(
              "CREATE TABLE kv(k INTEGER PRIMARY KEY, v INTEGER NOT NULL, s TEXT NOT NULL, lane INTEGER NOT "
              "NULL)")
          .get();
      setup.execute("CREATE INDEX kv_lane ON kv(lane)").get();
      setup.close().get();
    }
    for (int id = 0; id < kLanes; ++id) {
      const bool on_loop = id >= kThreadLanes;
      Connection db =
          on_loop ? uvsqlite::connect(&loop, path, options).get() : uvsqlite::connect(path, options).get();
      db.execute("PRAGMA synchronous=NORMAL").get();
      // A small page cache fills during the warm-up, so that later RSS growth is not SQLite's.
      db.execute("PRAGMA cache_size=-" + std::to_string(kCacheKiB)).get();
      db.call([](sqlite3* raw) { sqlite3_busy_handler(raw, &busy_poll, nullptr); }).get();
      const long quota = ops / kLanes + (id < ops % kLanes ? 1 : 0);
      lanes.push_back(
          std::make_unique<Lane>(id, std::move(db), on_loop, quota, 0x50a4 + static_cast<unsigned>(id)));
    }

    RssMonitor monitor(ops / 10, [&lanes] {
      std::fprintf(stderr, "soak: no operation completed for 5 s\n");
      for (const auto& lane : lanes) std::fprintf(stderr, "  %s\n", lane->state().c_str());
    });
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int id = 0; id < kThreadLanes; ++id)
      threads.emplace_back([&lanes, id] { lanes[static_cast<std::size_t>(id)]->start(); });
    for (int id = kThreadLanes; id < kLanes; ++id) lanes[static_cast<std::size_t>(id)]->start();
    uv_run(&loop, UV_RUN_DEFAULT);  // returns when the loop lanes have nothing outstanding
    if (std::getenv("SOAK_DEBUG")) std::fprintf(stderr, "uv_run returned after %ld ops\n", g_ops_done.load());
    for (auto& t : threads) t.join();
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    rss_end = rss_bytes();
    sqlite_end = static_cast<std::size_t>(sqlite3_memory_used());
    monitor.stop();
    rss_warm = monitor.warm() != 0 ? monitor.warm() : rss_end;
    sqlite_warm = monitor.warm() != 0 ? monitor.warm_sqlite() : sqlite_end;
    rss_peak = std::max({monitor.peak(), rss_end});

    // What is left open is committed, then every row is checked from a connection of its own.
    if (g_stop.load()) throw std::runtime_error("stopped at the first failure: the final check is skipped");
    for (auto& lane : lanes) lane->commit_now();
    Connection checker = uvsqlite::connect(path, options).get();
    rows = verify_table(checker, lanes);
    checker.close().get();
    for (auto& lane : lanes) lane->db().close().get();
  } catch (const std::exception& e) {
    if (!g_stop.load()) g_failures.add(std::string("setup or final check: ") + e.what());
  }
  lanes.clear();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  std::filesystem::remove_all(dir);

  rss_peak = std::max(rss_peak, peak_rss_bytes());
  const double growth = mib(rss_end) - mib(rss_warm);
  const double sqlite_growth = mib(sqlite_end) - mib(sqlite_warm);
  const long done = g_ops_done.load();
  std::printf(
      "{\"program\":\"uvsqlite_soak\",\"ops\":%ld,\"ops_done\":%ld,\"connections\":%d,\"threads\":%d,"
      "\"loop_connections\":%d,\"asan\":%s,\"elapsed_s\":%.2f,\"ops_per_s\":%.0f,\"rows\":%lld,"
      "\"rss_start_mib\":%.1f,\"rss_after_warmup_mib\":%.1f,\"rss_end_mib\":%.1f,\"rss_peak_mib\":%.1f,"
      "\"rss_growth_after_warmup_mib\":%.1f,\"rss_flat_bound_mib\":%.1f,\"rss_flat\":%s,"
      "\"sqlite_heap_after_warmup_mib\":%.1f,\"sqlite_heap_end_mib\":%.1f,\"rss_growth_beyond_sqlite_mib\":%."
      "1f,"
      "\"failures\":%ld,\"first_failure\":\"%s\"}\n",
      ops, done, kLanes, kThreadLanes, kLoopLanes, kSanitized ? "true" : "false", elapsed,
      elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0, static_cast<long long>(rows), mib(rss_start),
      mib(rss_warm), mib(rss_end), mib(rss_peak), growth, kFlatBoundMiB,
      kSanitized ? "null" : (growth - sqlite_growth <= kFlatBoundMiB ? "true" : "false"), mib(sqlite_warm),
      mib(sqlite_end), growth - sqlite_growth, g_failures.count(), json_escaped(g_failures.first()).c_str());
  return g_failures.count() == 0 && done == ops ? 0 : 1;
}

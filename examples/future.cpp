// future.cpp: the std::future form, with no event loop at all. Every call returns a future that
// the connection's worker thread fulfils; .get() waits for it and rethrows the operation's error.

#include <cstdio>
#include <exception>
#include <future>
#include <vector>

#include <uvsqlite/uvsqlite.hpp>

int main() {
  try {
    uvsqlite::Connection db = uvsqlite::connect(":memory:").get();
    db.execute("CREATE TABLE stock(item TEXT PRIMARY KEY, qty INTEGER)").get();
    db.executemany("INSERT INTO stock VALUES (?, ?)", {{"bolt", 120}, {"nut", 300}, {"washer", 75}}).get();
    db.commit().get();

    // Jobs run in submission order, so a later future may be awaited without the earlier ones.
    auto update = db.execute("UPDATE stock SET qty = qty - ? WHERE item = ?", {20, "bolt"});
    auto rows = db.execute_fetchall("SELECT item, qty FROM stock ORDER BY qty DESC");
    for (const auto& row : rows.get()) {
      const auto [item, qty] = row.as<std::string, int>();
      std::printf("%-7s %4d\n", item.c_str(), qty);
    }
    std::printf("updated %lld row(s)\n", static_cast<long long>(update.get().rowcount()));

    try {
      db.execute("INSERT INTO stock VALUES ('nut', 1)").get();
    } catch (const uvsqlite::IntegrityError& e) {
      std::printf("IntegrityError (%s): %s\n", e.sqlite_errorname().c_str(), e.what());
    }
    db.rollback().get();  // drops the failed INSERT's transaction, and the UPDATE with it
    auto bolt = db.execute_fetchall("SELECT qty FROM stock WHERE item = 'bolt'").get();
    std::printf("bolt after rollback: %d\n", bolt.at(0).get<int>(0));

    db.close().get();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

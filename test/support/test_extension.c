/* A tiny loadable SQLite extension for the extension tests: half(x) returns x / 2.0. */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

static void half(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  (void)argc;
  sqlite3_result_double(ctx, sqlite3_value_double(argv[0]) / 2.0);
}

/* The named entry point (load_extension(path, "sqlite3_testextension_init")). */
int sqlite3_testextension_init(sqlite3* db, char** error, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  (void)error;
  return sqlite3_create_function(db, "half", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, 0, half, 0, 0);
}

/* The default entry point, tried first when none is given. */
int sqlite3_extension_init(sqlite3* db, char** error, const sqlite3_api_routines* api) {
  return sqlite3_testextension_init(db, error, api);
}

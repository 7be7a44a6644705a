#pragma once
// Connection::backup: an online copy with sqlite3_backup, one step per job on the source's
// worker. A target Connection is held for the whole copy by a job parked on its own worker, so
// no thread but the source's worker touches the target's handle meanwhile.

#include <sqlite3.h>

#include <memory>

#include "connection_core.hpp"
#include "uvsqlite/backup.hpp"
#include "uvsqlite/completion.hpp"

namespace uvsqlite::detail {

/// Starts a backup of `source` into `target` (held through its worker) or, when `target` is
/// null, into the raw handle `raw_target` (which the caller keeps idle meanwhile).
void start_backup(const std::shared_ptr<ConnectionCore>& source,
                  const std::shared_ptr<ConnectionCore>& target, sqlite3* raw_target, BackupOptions options,
                  PendingCompletion<void> completion);

}  // namespace uvsqlite::detail

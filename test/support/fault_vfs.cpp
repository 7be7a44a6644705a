#include "support/fault_vfs.hpp"

#include <cstring>
#include <stdexcept>

namespace uvsqlite::test {

namespace {

std::atomic<std::uint64_t> g_injected_in_process{0};
std::atomic<unsigned> g_next_id{0};

// What SQLite allocates for each file of the shim: this header, then the real VFS's file.
struct FaultFile {
  sqlite3_file base;
  FaultVfs* vfs;
  unsigned role;  // one FaultFiles bit

  sqlite3_file* real() noexcept { return reinterpret_cast<sqlite3_file*>(this + 1); }
};
// SQLite allocates szOsFile bytes with 8-byte alignment; the real file starts right after this.
static_assert(sizeof(FaultFile) % 8 == 0, "the real file that follows must stay 8-byte aligned");

FaultFile* shim(sqlite3_file* file) noexcept { return reinterpret_cast<FaultFile*>(file); }
sqlite3_file* real(sqlite3_file* file) noexcept { return shim(file)->real(); }

unsigned role_of(int flags) noexcept {
  if ((flags & SQLITE_OPEN_MAIN_DB) != 0) return kMainDb;
  if ((flags & SQLITE_OPEN_MAIN_JOURNAL) != 0) return kJournal;
  if ((flags & SQLITE_OPEN_WAL) != 0) return kWal;
  return kOtherFiles;
}

}  // namespace

// The C callbacks. Everything SQLite asks of a file goes to the real file, except what an armed
// fault fails first.
struct FaultVfsShim {
  static FaultVfs& owner(sqlite3_vfs* vfs) noexcept { return *static_cast<FaultVfs*>(vfs->pAppData); }
  static sqlite3_vfs* real_vfs(sqlite3_vfs* vfs) noexcept { return owner(vfs).real_; }

  static int close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }

  static int read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
    const int rc = shim(f)->vfs->decide(FaultOp::Read, shim(f)->role, offset, 0);
    if (rc == SQLITE_OK) return real(f)->pMethods->xRead(real(f), buf, amount, offset);
    // SQLite relies on a short read zero-filling what it did not read.
    if (rc == SQLITE_IOERR_SHORT_READ) std::memset(buf, 0, static_cast<std::size_t>(amount));
    return rc;
  }

  static int write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
    const int rc = shim(f)->vfs->decide(FaultOp::Write, shim(f)->role, offset, 0);
    return rc != SQLITE_OK ? rc : real(f)->pMethods->xWrite(real(f), buf, amount, offset);
  }

  static int truncate(sqlite3_file* f, sqlite3_int64 size) {
    const int rc = shim(f)->vfs->decide(FaultOp::Truncate, shim(f)->role, size, 0);
    return rc != SQLITE_OK ? rc : real(f)->pMethods->xTruncate(real(f), size);
  }

  static int sync(sqlite3_file* f, int flags) {
    const int rc = shim(f)->vfs->decide(FaultOp::Sync, shim(f)->role, 0, 0);
    return rc != SQLITE_OK ? rc : real(f)->pMethods->xSync(real(f), flags);
  }

  static int file_size(sqlite3_file* f, sqlite3_int64* size) {
    return real(f)->pMethods->xFileSize(real(f), size);
  }

  static int lock(sqlite3_file* f, int level) {
    const int rc = shim(f)->vfs->decide(FaultOp::Lock, shim(f)->role, 0, level);
    return rc != SQLITE_OK ? rc : real(f)->pMethods->xLock(real(f), level);
  }

  static int unlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }

  static int check_reserved_lock(sqlite3_file* f, int* out) {
    return real(f)->pMethods->xCheckReservedLock(real(f), out);
  }

  static int file_control(sqlite3_file* f, int op, void* arg) {
    return real(f)->pMethods->xFileControl(real(f), op, arg);
  }

  static int sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }

  static int device_characteristics(sqlite3_file* f) {
    return real(f)->pMethods->xDeviceCharacteristics(real(f));
  }

  static int shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
    return real(f)->pMethods->xShmMap(real(f), region, size, extend, out);
  }

  static int shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
  }

  static void shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }

  static int shm_unmap(sqlite3_file* f, int delete_flag) {
    return real(f)->pMethods->xShmUnmap(real(f), delete_flag);
  }

  // Version 2: the shared-memory methods WAL needs, but no xFetch, so SQLite never maps the file
  // into memory and every page it reads goes through xRead, where a fault can meet it.
  static constexpr sqlite3_io_methods kMethods = {
      2,
      close,
      read,
      write,
      truncate,
      sync,
      file_size,
      lock,
      unlock,
      check_reserved_lock,
      file_control,
      sector_size,
      device_characteristics,
      shm_map,
      shm_lock,
      shm_barrier,
      shm_unmap,
      nullptr,
      nullptr,
  };

  static int open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
    auto* f = shim(file);
    f->vfs = &owner(vfs);
    f->role = role_of(flags);
    if (const int failed = f->vfs->decide(FaultOp::Open, f->role, 0, 0); failed != SQLITE_OK) {
      f->base.pMethods = nullptr;  // nothing to close
      return failed;
    }
    const int rc = real_vfs(vfs)->xOpen(real_vfs(vfs), name, f->real(), flags, out_flags);
    // SQLite calls xClose whenever pMethods is set, even after a failed open: mirror the real
    // file, so that the real file is closed exactly when its VFS expects it to be.
    f->base.pMethods = f->real()->pMethods != nullptr ? &kMethods : nullptr;
    return rc;
  }

  static int remove(sqlite3_vfs* vfs, const char* name, int sync_dir) {
    return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
  }
  static int access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
  }
  static int full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
    return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, n, out);
  }
  static void* dl_open(sqlite3_vfs* vfs, const char* name) {
    return real_vfs(vfs)->xDlOpen(real_vfs(vfs), name);
  }
  static void dl_error(sqlite3_vfs* vfs, int n, char* out) { real_vfs(vfs)->xDlError(real_vfs(vfs), n, out); }
  static void (*dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))() {
    return real_vfs(vfs)->xDlSym(real_vfs(vfs), handle, symbol);
  }
  static void dl_close(sqlite3_vfs* vfs, void* handle) { real_vfs(vfs)->xDlClose(real_vfs(vfs), handle); }
  static int randomness(sqlite3_vfs* vfs, int n, char* out) {
    return real_vfs(vfs)->xRandomness(real_vfs(vfs), n, out);
  }
  static int sleep(sqlite3_vfs* vfs, int microseconds) {
    return real_vfs(vfs)->xSleep(real_vfs(vfs), microseconds);
  }
  static int current_time(sqlite3_vfs* vfs, double* out) {
    return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out);
  }
  static int last_error(sqlite3_vfs* vfs, int n, char* out) {
    return real_vfs(vfs)->xGetLastError(real_vfs(vfs), n, out);
  }
  static int current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    return real_vfs(vfs)->xCurrentTimeInt64(real_vfs(vfs), out);
  }
};

FaultVfs::FaultVfs() : name_("uvsqlite-fault-" + std::to_string(g_next_id.fetch_add(1))) {
  real_ = sqlite3_vfs_find(nullptr);
  if (real_ == nullptr || real_->iVersion < 2) throw std::runtime_error("no default VFS to wrap");
  vfs_.iVersion = 2;  // up to xCurrentTimeInt64; the system-call overrides stay the real VFS's own
  vfs_.szOsFile = static_cast<int>(sizeof(FaultFile)) + real_->szOsFile;
  vfs_.mxPathname = real_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = FaultVfsShim::open;
  vfs_.xDelete = FaultVfsShim::remove;
  vfs_.xAccess = FaultVfsShim::access;
  vfs_.xFullPathname = FaultVfsShim::full_pathname;
  vfs_.xDlOpen = FaultVfsShim::dl_open;
  vfs_.xDlError = FaultVfsShim::dl_error;
  vfs_.xDlSym = FaultVfsShim::dl_sym;
  vfs_.xDlClose = FaultVfsShim::dl_close;
  vfs_.xRandomness = FaultVfsShim::randomness;
  vfs_.xSleep = FaultVfsShim::sleep;
  vfs_.xCurrentTime = FaultVfsShim::current_time;
  vfs_.xGetLastError = FaultVfsShim::last_error;
  vfs_.xCurrentTimeInt64 = FaultVfsShim::current_time_int64;
  if (sqlite3_vfs_register(&vfs_, 0) != SQLITE_OK) throw std::runtime_error("cannot register " + name_);
}

FaultVfs::~FaultVfs() { sqlite3_vfs_unregister(&vfs_); }

std::string FaultVfs::uri(const std::string& path) const { return "file:" + path + "?vfs=" + name_; }

void FaultVfs::arm(FaultOp op, const Fault& fault) {
  const auto i = static_cast<std::size_t>(op);
  std::lock_guard lock(mutex_);
  slots_[i] = Slot{fault, fault.times > 0};
  if (slots_[i].armed) {
    armed_mask_.fetch_or(1U << i, std::memory_order_relaxed);
  } else {
    armed_mask_.fetch_and(~(1U << i), std::memory_order_relaxed);
  }
}

void FaultVfs::fail_next(FaultOp op, int code, std::uint64_t n, unsigned files) {
  Fault fault;
  fault.code = code;
  fault.files = files;
  fault.times = n;
  arm(op, fault);
}

void FaultVfs::fail_until_cleared(FaultOp op, int code, unsigned files) {
  fail_next(op, code, kUntilCleared, files);
}

void FaultVfs::clear(FaultOp op) { arm(op, Fault{.times = 0}); }

void FaultVfs::clear() {
  for (std::size_t i = 0; i < kFaultOpCount; ++i) clear(static_cast<FaultOp>(i));
}

std::uint64_t FaultVfs::injected() const noexcept {
  std::uint64_t total = 0;
  for (const auto& n : injected_) total += n.load(std::memory_order_relaxed);
  return total;
}

std::uint64_t FaultVfs::injected(FaultOp op) const noexcept {
  return injected_[static_cast<std::size_t>(op)].load(std::memory_order_relaxed);
}

std::uint64_t FaultVfs::calls(FaultOp op) const noexcept {
  return calls_[static_cast<std::size_t>(op)].load(std::memory_order_relaxed);
}

std::uint64_t FaultVfs::injected_in_process() noexcept {
  return g_injected_in_process.load(std::memory_order_relaxed);
}

int FaultVfs::decide(FaultOp op, unsigned file, sqlite3_int64 offset, int lock_level) noexcept {
  const auto i = static_cast<std::size_t>(op);
  calls_[i].fetch_add(1, std::memory_order_relaxed);
  // The mutex settles the real decision; the mask only spares unarmed I/O the lock.
  if ((armed_mask_.load(std::memory_order_relaxed) & (1U << i)) == 0) return SQLITE_OK;
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[i];
  Fault& fault = slot.fault;
  const bool has_offset = op == FaultOp::Read || op == FaultOp::Write || op == FaultOp::Truncate;
  if (!slot.armed || (fault.files & file) == 0 || (has_offset && offset < fault.min_offset) ||
      (fault.lock_level != 0 && fault.lock_level != lock_level)) {
    return SQLITE_OK;
  }
  if (fault.skip > 0) {
    --fault.skip;
    return SQLITE_OK;
  }
  if (fault.times != kUntilCleared && --fault.times == 0) {
    slot.armed = false;
    armed_mask_.fetch_and(~(1U << i), std::memory_order_relaxed);
  }
  injected_[i].fetch_add(1, std::memory_order_relaxed);
  g_injected_in_process.fetch_add(1, std::memory_order_relaxed);
  return fault.code;
}

}  // namespace uvsqlite::test

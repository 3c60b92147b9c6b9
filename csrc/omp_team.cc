// SPDX-License-Identifier: Apache-2.0
// Finds GOMP_parallel in the already-loaded libgomp (no link-time OpenMP dependency: the package
// builds and runs the same without torch) and runs index-claiming workers on it.
#include "omp_team.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#endif

namespace xfast {

#if defined(__linux__)
namespace {

// libgomp's ABI entry points (what GCC emits for `#pragma omp parallel`).
using GompParallel = void (*)(void (*)(void*), void*, unsigned, unsigned);
using OmpGetMaxThreads = int (*)();

struct Gomp {
  GompParallel parallel = nullptr;
  OmpGetMaxThreads max_threads = nullptr;
};

int find_libgomp(struct dl_phdr_info* info, std::size_t, void* out) {
  if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "libgomp") == nullptr) return 0;
  // RTLD_NOLOAD: a handle to the copy already mapped (torch's own, possibly renamed), never a
  // second runtime. The reference it adds is kept for the process's life, like the library.
  void* h = dlopen(info->dlpi_name, RTLD_NOLOAD | RTLD_NOW);
  if (h == nullptr) return 0;
  auto* g = static_cast<Gomp*>(out);
  g->parallel = reinterpret_cast<GompParallel>(dlsym(h, "GOMP_parallel"));
  g->max_threads = reinterpret_cast<OmpGetMaxThreads>(dlsym(h, "omp_get_max_threads"));
  return g->parallel != nullptr && g->max_threads != nullptr ? 1 : 0;
}

// Looked up until found (torch may be imported after the first histogram), then kept. The scan
// walks the loaded objects (a few microseconds); parallel work is >= 2^18 elements (~50 us).
const Gomp* find_gomp() {
  static std::atomic<const Gomp*> found{nullptr};
  const Gomp* g = found.load(std::memory_order_acquire);
  if (g != nullptr) return g;
  Gomp probe;
  if (dl_iterate_phdr(find_libgomp, &probe) == 0) return nullptr;
  const Gomp* fresh = new Gomp(probe);  // one per process, never freed (other threads read it)
  const Gomp* expected = nullptr;
  if (!found.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) {
    delete fresh;
    return expected;
  }
  return fresh;
}

bool disabled() {
  static const bool off = std::getenv("XFAST_NO_OPENMP_TEAM") != nullptr;
  return off;
}

// libgomp is not fork-safe: a child inherits the parent's team as bookkeeping without its
// threads, and a region on it there waits for them forever (torch's own parallel ops hang there
// too). So a forked child never borrows the team. The kernel's PF_FORKNOEXEC flag (field 9 of
// /proc/self/stat) says so for any child, whether or not xfast was loaded before the fork; a
// pid check or an atfork handler would miss children of parents that loaded xfast only later.
// Read once per process (~10 us), and treated as forked when it cannot be read.
bool forked_without_exec() {
  constexpr unsigned long kPfForkNoExec = 0x40;
  std::FILE* f = std::fopen("/proc/self/stat", "r");
  if (f == nullptr) return true;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces and parentheses
  unsigned long flags = 0;
  // After "pid (comm)": state ppid pgrp session tty_nr tpgid flags.
  if (p == nullptr || std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1) return true;
  return (flags & kPfForkNoExec) != 0;
}

bool in_forked_child() {
  // pid << 1 | forked, for the process that last checked (0: none yet). A fork gives the child
  // a new pid, so it checks again. Relaxed: the value is self-contained.
  static std::atomic<uint64_t> checked{0};
  const auto pid = static_cast<uint64_t>(getpid());
  const uint64_t c = checked.load(std::memory_order_relaxed);
  if (c >> 1 == pid) return (c & 1) != 0;
  const bool forked = forked_without_exec();
  checked.store(pid << 1 | (forked ? 1 : 0), std::memory_order_relaxed);
  return forked;
}

bool on_main_thread() { return static_cast<pid_t>(syscall(SYS_gettid)) == getpid(); }

// Usable now from this thread, or nullptr.
const Gomp* usable_gomp() {
  if (disabled() || !on_main_thread() || in_forked_child()) return nullptr;
  return find_gomp();
}

struct Work {
  const std::function<void(std::size_t)>* fn;
  std::size_t n;
  std::atomic<std::size_t> next{0};
};

void run_work(void* p) {
  auto* w = static_cast<Work*>(p);
  for (std::size_t i = w->next.fetch_add(1, std::memory_order_relaxed); i < w->n;
       i = w->next.fetch_add(1, std::memory_order_relaxed)) {
    (*w->fn)(i);
  }
}

}  // namespace

bool run_on_openmp_team(std::size_t n, std::size_t max_threads,
                        const std::function<void(std::size_t)>& fn) {
  const Gomp* g = usable_gomp();
  if (g == nullptr) return false;
  const auto team = static_cast<std::size_t>(std::max(g->max_threads(), 1));
  const std::size_t threads = std::min({n, max_threads, team});
  if (threads <= 1) return false;  // torch runs single-threaded: our own pool does better
  Work w;
  w.fn = &fn;
  w.n = n;
  // GOMP_parallel returns after every team member has left run_work (the region's end barrier),
  // which also publishes their writes to the caller.
  g->parallel(run_work, &w, static_cast<unsigned>(threads), 0);
  return true;
}

bool openmp_team_available() { return usable_gomp() != nullptr; }

#else

bool run_on_openmp_team(std::size_t, std::size_t, const std::function<void(std::size_t)>&) {
  return false;
}

bool openmp_team_available() { return false; }

#endif

}  // namespace xfast

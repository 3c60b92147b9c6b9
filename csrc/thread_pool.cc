// SPDX-License-Identifier: Apache-2.0
// ThreadPool: workers claim task indices under one mutex (tasks are coarse: one per chunk).
#include "thread_pool.h"

#include <cstdlib>
#include <memory>

#include "omp_team.h"

namespace xfast {

ThreadPool::ThreadPool(std::size_t threads) : size_(threads == 0 ? 1 : threads) {}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::start() {
  for (std::size_t i = 1; i < size_; ++i) workers_.emplace_back([this] { worker(); });
}

void ThreadPool::run_tasks() {
  for (;;) {
    std::size_t i;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (next_ >= n_) return;
      i = next_++;
    }
    (*fn_)(i);
    std::lock_guard<std::mutex> lock(mu_);
    if (--remaining_ == 0) done_cv_.notify_all();
  }
}

void ThreadPool::worker() {
  unsigned long seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      ++running_;
    }
    run_tasks();
    std::lock_guard<std::mutex> lock(mu_);
    if (--running_ == 0) done_cv_.notify_all();
  }
}

void ThreadPool::parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  if (n == 1 || size_ == 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  if (run_on_openmp_team(n, size_, fn)) return;
  std::lock_guard<std::mutex> run_lock(run_mu_);
  if (workers_.empty()) start();
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    next_ = 0;
    remaining_ = n;
    ++generation_;
  }
  cv_.notify_all();
  run_tasks();
  std::unique_lock<std::mutex> lock(mu_);
  // Wait for every task and for every worker to leave run_tasks, so fn_ is not used after return.
  done_cv_.wait(lock, [&] { return remaining_ == 0 && running_ == 0; });
  fn_ = nullptr;
}

namespace {
std::size_t default_threads() {
  if (const char* v = std::getenv("XFAST_NUM_THREADS")) {
    const long n = std::strtol(v, nullptr, 10);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : hc;
}

std::unique_ptr<ThreadPool>& shared_slot() {
  // Never destroyed: at exit(), Python daemon threads may still be inside parallel_for (the GIL
  // is released there), and joining the workers and destroying the pool's mutexes under them
  // is undefined. The OS reclaims the workers.
  static auto* pool = new std::unique_ptr<ThreadPool>(new ThreadPool(default_threads()));
  return *pool;
}
}  // namespace

ThreadPool& ThreadPool::shared() { return *shared_slot(); }

void ThreadPool::set_shared_size(std::size_t threads) {
  shared_slot().reset(new ThreadPool(threads == 0 ? default_threads() : threads));
}

void ThreadPool::abandon_after_fork() {
  for (auto& t : workers_) t.detach();
  workers_.clear();
  // The mutexes may have been held by threads that do not exist here: leak this pool and give
  // the child a fresh one.
  shared_slot().release();
  shared_slot().reset(new ThreadPool(default_threads()));
}

}  // namespace xfast

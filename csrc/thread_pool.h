// SPDX-License-Identifier: Apache-2.0
// ThreadPool: a fixed set of worker threads for data-parallel kernels (histograms).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace xfast {

// ThreadPool
//
// parallel_for(n, fn) runs fn(0) .. fn(n-1) across the workers and the calling thread, and
// returns when all have finished. On the main thread of a process that has torch's libgomp
// loaded it runs them on torch's OpenMP team instead (omp_team.h says why). One parallel_for
// runs at a time on the pool's own threads (callers are serialized by a mutex); fn must not
// throw. Workers start lazily on the first parallel_for with n > 1 that needs them.
class ThreadPool {
 public:
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that run tasks, the caller included.
  std::size_t size() const { return size_; }
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);

  // The process-wide pool used by the histogram kernel. Its size is XFAST_NUM_THREADS when
  // set, else std::thread::hardware_concurrency(). Any thread.
  static ThreadPool& shared();
  // Resizes the shared pool (joins and restarts its workers). Not while a kernel runs.
  static void set_shared_size(std::size_t threads);

  // In a forked child: forget workers that do not exist there (no join, no mutex use).
  void abandon_after_fork();

 private:
  void start();
  void worker();
  void run_tasks();

  std::size_t size_;
  std::mutex run_mu_;  // one parallel_for at a time
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::vector<std::thread> workers_;
  const std::function<void(std::size_t)>* fn_ = nullptr;
  std::size_t n_ = 0;
  std::size_t next_ = 0;
  std::size_t running_ = 0;
  std::size_t remaining_ = 0;
  unsigned long generation_ = 0;
  bool stop_ = false;
};

}  // namespace xfast

// SPDX-License-Identifier: Apache-2.0
// Running a parallel_for on the OpenMP team torch already keeps, instead of on xfast's own threads.
#pragma once

#include <cstddef>
#include <functional>

namespace xfast {

// run_on_openmp_team
//
// When this process has GNU libgomp loaded (torch's CPU builds bring it) and the caller is the
// process's main thread, runs fn(0) .. fn(n-1) on an OpenMP team of up to `max_threads` threads
// (never more than omp_get_max_threads(), i.e. torch.get_num_threads()) and returns true once
// all have finished; otherwise does nothing and returns false.
//
// Why: after each parallel torch op, libgomp's workers spin for ~5 ms (GOMP_SPINCOUNT 300k
// pause instructions) waiting for the next region. Histogramming right after a training step
// on our own threads shared every core with those spinners: the model-wide call of the
// training-loop benchmark took 8.0 ms after a step against 4.7 ms with the cores idle. A region
// started on torch's team hands the work to the spinning workers instead: 4.7 ms either way.
// Only the main thread borrows the team: it is where torch's intra-op team lives in a training
// script, and another thread would make libgomp start (and spin) a second team.
//
// Disabled by XFAST_NO_OPENMP_TEAM (any value) and in forked children (libgomp's team does not
// survive fork). fn must not throw. Any thread; thread-safe.
bool run_on_openmp_team(std::size_t n, std::size_t max_threads,
                        const std::function<void(std::size_t)>& fn);

// Whether run_on_openmp_team would run on the team if called now from this thread (tests).
bool openmp_team_available();

}  // namespace xfast

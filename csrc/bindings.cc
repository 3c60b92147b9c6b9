// SPDX-License-Identifier: Apache-2.0
// xfast._core: the only file that includes pybind11. Plain values cross here (str, float, int,
// bytes, C-contiguous numpy buffers); C++ keeps no Python object after a call returns.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crc32c.h"
#include "event_scan.h"
#include "event_writer.h"
#include "histogram.h"
#include "histogram_selftest.h"
#include "omp_team.h"
#include "pending_summary.h"
#include "pixels.h"
#include "proto_wire.h"
#include "record.h"
#include "selftest.h"
#include "thread_pool.h"

namespace py = pybind11;
using namespace xfast;

namespace {

// Releases the GIL for a blocking native call (use instead of py::gil_scoped_release). When the
// call returns after the interpreter began finalizing (a daemon thread logging at exit),
// re-taking the GIL makes CPython end this thread with pthread_exit. Its forced unwind through
// a noexcept destructor (py::gil_scoped_release's) aborted the whole process (std::terminate).
// So a thread that sees finalization parks until the process is gone, and when finalization
// starts while it waits for the GIL, the unwind passes through this destructor, declared
// noexcept(false), and pybind11's dispatcher, which rethrows abi::__forced_unwind. Never hold
// one in a std::optional (its destructor is noexcept).
class ReleaseGil {
 public:
  ReleaseGil() : state_(PyEval_SaveThread()) {}
  ~ReleaseGil() noexcept(false) {
    if (interpreter_finalizing()) {
      for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
    }
    PyEval_RestoreThread(state_);
  }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

 private:
  static bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing() != 0;
#else
    return _Py_IsFinalizing() != 0;
#endif
  }
  PyThreadState* state_;
};

// A Status carried to the exception translator, which raises OSError(errno, message).
struct StatusError {
  Status status;
};

[[noreturn]] void raise_status(Status s) { throw StatusError{std::move(s)}; }

// Reports a writer-thread I/O error per the writer's on_error policy: an OSError, or a
// RuntimeWarning so that training goes on (the warning itself raises if filters say "error").
void report(const EventWriter& w, Status s) {
  if (!w.warn_on_error()) raise_status(std::move(s));
  const std::string msg = "xfast: " + s.message;
  if (PyErr_WarnEx(PyExc_RuntimeWarning, msg.c_str(), 1) != 0) throw py::error_already_set();
}

// Objects a native thread may still use after Python let go of them (a forked child's copy, a
// writer whose close timed out): never destroyed.
void keep_forever(std::shared_ptr<EventWriter> w) {
  static auto* keep = new std::vector<std::shared_ptr<EventWriter>>();
  keep->push_back(std::move(w));
}

// Below this many bytes a histogram keeps the GIL: releasing and re-taking it costs about as
// much as counting 64 KiB.
constexpr std::size_t kReleaseGilBytes = 1 << 16;

// Pushes r per the writer's full-ring policy. The GIL is released only when the push has to
// wait. Raises when the writer is closed, and reports a latched writer-thread error after the
// record is safely queued.
void push(EventWriter& w, Record r) {
  EventWriter::PushResult res = w.try_push(r);
  if (XFAST_UNLIKELY(res == EventWriter::PushResult::kFull)) {
    if (w.drop_when_full()) {
      w.drop(r);
      res = EventWriter::PushResult::kOk;
    } else {
      ReleaseGil nogil;
      res = w.push_blocking(r);
    }
  }
  if (XFAST_UNLIKELY(res == EventWriter::PushResult::kClosed)) {
    free_record_payload(r);
    raise_status(Status{0, "Writer is closed"});
  }
  if (XFAST_UNLIKELY(w.has_error())) report(w, w.take_error());
}

uint32_t checked_tag(const EventWriter& w, uint32_t tag) {
  if (XFAST_UNLIKELY(!w.valid_tag(tag))) throw py::value_error("unknown tag id");
  return tag;
}

double now_or(std::optional<double> wall_time) {
  return wall_time.has_value() ? *wall_time : wall_clock_now();
}

Record make_record(RecordKind kind, uint32_t tag, int64_t step, std::optional<double> wall_time,
                   void* payload) {
  return Record{kind, ScalarStyle::kSimpleValue, tag, step, now_or(wall_time), 0.0, payload};
}

// The encoder's reference to a media event's reserved place (EventWriter.reserve_summary). It
// keeps the writer alive; settling it, or dropping it unsettled (counted as failed: the writer
// thread must never wait on a slot nobody will fill), hands the reference back.
class PendingHandle {
 public:
  PendingHandle(std::shared_ptr<EventWriter> w, PendingSummary* slot)
      : writer_(std::move(w)), slot_(slot) {}
  ~PendingHandle() { settle(nullptr); }
  PendingHandle(const PendingHandle&) = delete;
  PendingHandle& operator=(const PendingHandle&) = delete;

  // The first call settles; later ones do nothing.
  void settle(std::string* summary) {
    if (slot_ == nullptr) return;
    writer_->settle(slot_, summary);
    slot_ = nullptr;
  }
  bool settled() const { return slot_ == nullptr; }

 private:
  std::shared_ptr<EventWriter> writer_;
  PendingSummary* slot_;
};

std::string as_string(const py::bytes& b) { return std::string(b); }

py::bytes to_bytes(const std::string& s) { return py::bytes(s.data(), s.size()); }

// Calls that may release the GIL take their Python arguments as borrowed handles (the caller's
// frame keeps them alive) and copy out what they need first. A daemon thread waiting for the
// GIL when the interpreter finalizes is ended by CPython with a forced unwind (see ReleaseGil);
// an owned reference in an unwound frame would then be dropped without the GIL (pybind11's
// debug builds abort on it: tests/test_crash.py under scripts/sanitize.sh python).

// A C-contiguous numpy buffer, seen without keeping a reference to it.
struct ArrayView {
  const void* data;
  std::size_t n;
  std::size_t nbytes;
};

ArrayView view_array(py::handle h) {
  if (!py::isinstance<py::array>(h)) throw py::type_error("expected a numpy array");
  const auto a = py::reinterpret_borrow<py::array>(h);
  if (!(a.flags() & py::array::c_style)) throw py::value_error("array must be C-contiguous");
  return {a.data(), static_cast<std::size_t>(a.size()), static_cast<std::size_t>(a.nbytes())};
}

// A packed histogram row's kRowMoments columns (histogram.h): histogram_rows writes them,
// add_histogram_rows reads the first five. xfast.encoding.histogram_rows's MOMENTS starts with
// the same eight, in this order.

// A C-contiguous 2D float64 array of `rows` rows of at least `min_cols` columns.
struct RowsView {
  double* data;
  std::size_t stride;  // elements per row
};

RowsView rows_view(py::handle h, std::size_t rows, std::size_t min_cols) {
  if (!py::isinstance<py::array_t<double>>(h)) throw py::type_error("rows must be a float64 numpy array");
  auto a = py::reinterpret_borrow<py::array_t<double>>(h);
  if (a.ndim() != 2 || !(a.flags() & py::array::c_style)) {
    throw py::value_error("rows must be a C-contiguous 2D array");
  }
  if (static_cast<std::size_t>(a.shape(0)) != rows || static_cast<std::size_t>(a.shape(1)) < min_cols) {
    throw py::value_error("rows has the wrong shape");
  }
  return {a.mutable_data(), static_cast<std::size_t>(a.shape(1))};
}

std::vector<double> doubles_of(py::handle h) {
  const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(h);
  if (!a) throw py::type_error("expected a sequence of numbers");
  return std::vector<double>(a.data(), a.data() + a.size());
}

std::string bytes_of(py::handle h) {
  if (!PyBytes_Check(h.ptr())) throw py::type_error("expected bytes");
  return std::string(PyBytes_AS_STRING(h.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(h.ptr())));
}

DType checked_dtype(int dtype) {
  if (dtype < 0 || dtype > static_cast<int>(DType::kBool)) throw py::value_error("bad dtype code");
  return static_cast<DType>(dtype);
}

// Runs f() on a's data, without the GIL when a is large enough for the release to pay.
template <typename F>
auto without_gil_if_large(const ArrayView& a, F&& f) {
  if (a.nbytes >= kReleaseGilBytes) {
    ReleaseGil nogil;
    return f();
  }
  return f();
}

// Runs the default-bins kernel on a contiguous buffer into *acc, releasing the GIL for large
// inputs.
void run_histogram(const ArrayView& a, int dtype, bool serial, HistogramAccum* acc) {
  const DType dt = checked_dtype(dtype);
  without_gil_if_large(a, [&] {
    if (serial) {
      histogram_default_serial(a.data, a.n, dt, acc);
    } else {
      histogram_default(a.data, a.n, dt, acc, &ThreadPool::shared());
    }
  });
}

HistogramAccum run_histogram(const ArrayView& a, int dtype, bool serial) {
  HistogramAccum acc;
  run_histogram(a, dtype, serial, &acc);
  return acc;
}

// What add_histogram reports back: the non-finite counts and whether an event was queued.
struct HistogramOutcome {
  uint64_t nan, pos_inf, neg_inf;
  bool written;
};

// Counts a buffer, trims the histogram torch's way and queues its event (the call's time as
// its wall time, not the kernel's end).
HistogramOutcome queue_histogram(EventWriter& w, uint32_t tag, const ArrayView& data, int dtype,
                                 int64_t step, std::optional<double> wall_time,
                                 std::optional<int64_t> max_bins) {
  checked_tag(w, tag);
  const double wall = now_or(wall_time);
  const DType dt = checked_dtype(dtype);
  auto h = w.histogram_payload();
  bool written;
  uint64_t nan, pos_inf, neg_inf;
  if (!max_bins.has_value()) {
    NonFiniteCounts skipped;
    written = without_gil_if_large(data, [&] {
      return histogram_default_event(data.data, data.n, dt, &ThreadPool::shared(), h.get(),
                                     &skipped);
    });
    nan = skipped.nan;
    pos_inf = skipped.pos_inf;
    neg_inf = skipped.neg_inf;
  } else {  // grouping depends on where each bin sits among all of them
    // This thread's accumulator, reused: allocating its 12 KiB per call contended for malloc's
    // arena lock with the writer thread freeing the events (perf: ~17 % of the caller's time in
    // futex waits and wake-ups in a model-wide loop).
    thread_local HistogramAccum acc;
    run_histogram(data, dtype, false, &acc);
    const std::vector<double> counts(acc.counts.begin(), acc.counts.end());
    written =
        finish_histogram(counts.data(), counts.size(), default_edges().data(), max_bins, h.get());
    h->min = acc.min;
    h->max = acc.max;
    h->num = static_cast<double>(acc.finite);
    h->sum = acc.sum;
    h->sum_squares = acc.sum_squares;
    nan = acc.nan;
    pos_inf = acc.pos_inf;
    neg_inf = acc.neg_inf;
  }
  if (written) push(w, make_record(RecordKind::kHistogram, tag, step, wall, h.release()));
  return {nan, pos_inf, neg_inf, written};
}

// Queues the event of one packed row (nbins counts, then min, max, sum, sum_squares, finite);
// false, queueing nothing, when no bin has a count.
bool queue_row(EventWriter& w, uint32_t tag, const double* row, std::size_t nbins,
               const double* limits, int64_t step, std::optional<double> wall_time,
               std::optional<int64_t> max_bins) {
  auto h = w.histogram_payload();
  if (!finish_histogram(row, nbins, limits, max_bins, h.get())) return false;
  const double* mo = row + nbins;
  h->min = mo[0];
  h->max = mo[1];
  h->sum = mo[2];
  h->sum_squares = mo[3];
  h->num = mo[4];
  push(w, make_record(RecordKind::kHistogram, tag, step, wall_time, h.release()));
  return true;
}

// One (address, n, dtype code) span of host memory (see add_histogram_at), checked.
HistogramInput span_input(const py::tuple& span) {
  const auto address = span[0].cast<uintptr_t>();
  const auto n = span[1].cast<std::size_t>();
  if (address == 0 || n == 0) throw py::value_error("need a non-empty buffer");
  return {reinterpret_cast<const void*>(address), n, checked_dtype(span[2].cast<int>())};
}

// A list of such spans.
std::vector<HistogramInput> spans_of(py::handle spans) {
  std::vector<HistogramInput> inputs;
  const py::list items(py::reinterpret_borrow<py::object>(spans));
  inputs.reserve(items.size());
  for (const py::handle item : items) {
    const py::tuple span(py::reinterpret_borrow<py::object>(item));
    if (span.size() != 3) throw py::value_error("expected (address, n, dtype code) spans");
    inputs.push_back(span_input(span));
  }
  return inputs;
}

// add_histograms_at sends tensors of at least this many elements through one pool dispatch
// (histogram_default_rows: every chunk of every such tensor shared by the workers, one wake-up)
// and counts the smaller ones on the calling thread straight into their events. A row costs a
// 12 KiB fill and a full-width trim per tensor, ~1 us; from 2^14 elements (~5 us on one thread)
// the second worker gains more: a 2-layer GPT-2 (width 128) took 339 us a call here against 381
// with the cut at 2^16.
constexpr std::size_t kBatchRowsMin = std::size_t{1} << 14;

// Builds a finished HistogramData from counts; nullptr when nothing was counted.
std::unique_ptr<HistogramData> finish(const std::vector<double>& counts,
                                      const std::vector<double>& limits,
                                      std::optional<int64_t> max_bins) {
  if (limits.size() != counts.size() + 1) throw py::value_error("need len(limits) == len(counts) + 1");
  auto h = std::make_unique<HistogramData>();
  if (!finish_histogram(counts.data(), counts.size(), limits.data(), max_bins, h.get())) return nullptr;
  return h;
}

// The fields of one kernel pass: counts (uint64, one per default bin) and the moments.
py::dict accum_dict(const HistogramAccum& acc) {
  py::dict d;
  d["counts"] = py::array_t<uint64_t>(static_cast<py::ssize_t>(acc.counts.size()), acc.counts.data());
  d["min"] = acc.min;
  d["max"] = acc.max;
  d["sum"] = acc.sum;
  d["sum_squares"] = acc.sum_squares;
  d["finite"] = acc.finite;
  d["nan"] = acc.nan;
  d["pos_inf"] = acc.pos_inf;
  d["neg_inf"] = acc.neg_inf;
  return d;
}

std::vector<double> to_vector(const py::array_t<double, py::array::c_style | py::array::forcecast>& a) {
  return std::vector<double>(a.data(), a.data() + a.size());
}

// EventWriter.add_scalar(tag, value, step, wall_time, style=0), positional only, as a raw
// METH_FASTCALL method. Why not a pybind11 .def: callgrind counted ~1,475 instructions per call
// in pybind11's dispatcher and argument casters (function record walk, keyword matching, the
// std::optional<double> caster, the instance's type lookup, dict lookups in its internals) and
// ~340 here, each argument taken with one CPython call; CPU time per call went 117 -> 69 ns.
// Turns an OverflowError from a number conversion into the ValueError SummaryWriter documents
// for out-of-range input (a step beyond int64, an int too large for a double). Returns nullptr.
PyObject* out_of_range(const char* what) {
  if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError, "%s is out of range", what);
  }
  return nullptr;
}

// The EventWriter behind a raw method's self when nargs lies in [lo, hi], else nullptr with
// TypeError(usage) set. Without pybind11's type lookup: the method descriptor already checked
// that self is an EventWriter, whose instance holds a single value.
EventWriter* fastcall_writer(PyObject* self, Py_ssize_t nargs, Py_ssize_t lo, Py_ssize_t hi,
                             const char* usage) {
  if (XFAST_UNLIKELY(nargs < lo || nargs > hi)) {
    PyErr_SetString(PyExc_TypeError, usage);
    return nullptr;
  }
  auto* w = static_cast<EventWriter*>(
      reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder().value_ptr());
  if (XFAST_UNLIKELY(w == nullptr)) {
    PyErr_SetString(PyExc_TypeError, "EventWriter is not initialized");
  }
  return w;
}

PyObject* add_scalar_fastcall(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  EventWriter* w =
      fastcall_writer(self, nargs, 4, 5, "add_scalar(tag, value, step, wall_time, style=0)");
  if (XFAST_UNLIKELY(w == nullptr)) return nullptr;
  const unsigned long tag = PyLong_AsUnsignedLong(args[0]);
  if (XFAST_UNLIKELY(tag == static_cast<unsigned long>(-1) && PyErr_Occurred())) return nullptr;
  const double value = PyFloat_AsDouble(args[1]);
  if (XFAST_UNLIKELY(value == -1.0 && PyErr_Occurred())) return out_of_range("scalar_value");
  // A float step is refused, as pybind11's int64_t conversion did.
  if (XFAST_UNLIKELY(PyFloat_Check(args[2]))) {
    PyErr_SetString(PyExc_TypeError, "step must be an int");
    return nullptr;
  }
  const long long step = PyLong_AsLongLong(args[2]);
  if (XFAST_UNLIKELY(step == -1 && PyErr_Occurred())) return out_of_range("global_step (int64)");
  double wall = 0.0;
  if (args[3] == Py_None) {
    wall = wall_clock_now();
  } else {
    wall = PyFloat_AsDouble(args[3]);
    if (XFAST_UNLIKELY(wall == -1.0 && PyErr_Occurred())) return out_of_range("walltime");
  }
  long style = 0;
  if (nargs == 5) {
    style = PyLong_AsLong(args[4]);
    if (XFAST_UNLIKELY(style == -1 && PyErr_Occurred())) return nullptr;
  }
  try {
    if (XFAST_UNLIKELY(tag > UINT32_MAX || !w->valid_tag(static_cast<uint32_t>(tag)))) {
      throw py::value_error("unknown tag id");
    }
    if (XFAST_UNLIKELY(style < 0 || style > 2)) throw py::value_error("bad scalar style");
    push(*w, Record{RecordKind::kScalar, static_cast<ScalarStyle>(style), static_cast<uint32_t>(tag),
                    static_cast<int64_t>(step), wall, value, nullptr});
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyMethodDef kAddScalarDef = {
    "add_scalar", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&add_scalar_fastcall)),
    METH_FASTCALL,
    "add_scalar(tag, value, step, wall_time, style=0): queues a scalar (positional arguments only; "
    "wall_time None = now; style 0 simple_value, 1 float tensor, 2 double tensor)."};

// EventWriter.add_histogram_at(tag, address, n, dtype, step, wall_time, max_bins=None),
// positional only, raw METH_FASTCALL like add_scalar: the call of the per-tensor add_histogram
// loop over a model's parameters and gradients. pybind11's dispatcher and argument casters took
// ~2k of the ~30k instructions a small tensor cost in that loop (callgrind, the GPT-2-shaped
// bench model's 196 tensors of <= 4096 values), the most of what the loop paid beyond
// add_histograms.
PyObject* add_histogram_at_fastcall(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  EventWriter* w = fastcall_writer(self, nargs, 6, 7,
                                   "add_histogram_at(tag, address, n, dtype, step, wall_time, "
                                   "max_bins=None)");
  if (XFAST_UNLIKELY(w == nullptr)) return nullptr;
  // Ints only, as pybind11's integer casters took them: a float is a TypeError.
  for (Py_ssize_t k = 0; k < 5; ++k) {
    if (XFAST_UNLIKELY(!PyLong_Check(args[k]))) {
      PyErr_Format(PyExc_TypeError, "add_histogram_at: argument %zd must be an int", k + 1);
      return nullptr;
    }
  }
  const unsigned long tag = PyLong_AsUnsignedLong(args[0]);
  if (XFAST_UNLIKELY(tag == static_cast<unsigned long>(-1) && PyErr_Occurred())) return nullptr;
  const auto address = static_cast<uintptr_t>(PyLong_AsUnsignedLongLong(args[1]));
  if (XFAST_UNLIKELY(address == static_cast<uintptr_t>(-1) && PyErr_Occurred())) return nullptr;
  const std::size_t n = PyLong_AsSize_t(args[2]);
  if (XFAST_UNLIKELY(n == static_cast<std::size_t>(-1) && PyErr_Occurred())) return nullptr;
  const long dtype = PyLong_AsLong(args[3]);
  if (XFAST_UNLIKELY(dtype == -1 && PyErr_Occurred())) return nullptr;
  const long long step = PyLong_AsLongLong(args[4]);
  if (XFAST_UNLIKELY(step == -1 && PyErr_Occurred())) return out_of_range("global_step (int64)");
  std::optional<double> wall_time;
  if (args[5] != Py_None) {
    wall_time = PyFloat_AsDouble(args[5]);
    if (XFAST_UNLIKELY(*wall_time == -1.0 && PyErr_Occurred())) return out_of_range("walltime");
  }
  std::optional<int64_t> max_bins;
  if (nargs == 7 && args[6] != Py_None) {
    max_bins = PyLong_AsLongLong(args[6]);
    if (XFAST_UNLIKELY(*max_bins == -1 && PyErr_Occurred())) return out_of_range("max_bins");
  }
  try {
    if (XFAST_UNLIKELY(tag > UINT32_MAX)) throw py::value_error("unknown tag id");
    if (XFAST_UNLIKELY(address == 0 || n == 0)) throw py::value_error("need a non-empty buffer");
    // Out of int either way is no code (a plain cast would wrap -2^32 to 0, float32's).
    const bool fits = dtype >= std::numeric_limits<int>::min() &&
                      dtype <= std::numeric_limits<int>::max();
    const int code = fits ? static_cast<int>(dtype) : -1;
    const DType dt = checked_dtype(code);
    const ArrayView v{reinterpret_cast<const void*>(address), n, n * dtype_size(dt)};
    const HistogramOutcome o =
        queue_histogram(*w, static_cast<uint32_t>(tag), v, code, step, wall_time, max_bins);
    if (o.written && o.nan + o.pos_inf + o.neg_inf == 0) Py_RETURN_NONE;
    return py::make_tuple(o.nan, o.pos_inf, o.neg_inf, o.written).release().ptr();
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

PyMethodDef kAddHistogramAtDef = {
    "add_histogram_at",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&add_histogram_at_fastcall)),
    METH_FASTCALL,
    "add_histogram_at(tag, address, n, dtype, step, wall_time, max_bins=None): add_histogram "
    "over n contiguous elements at a host address (a CPU tensor's data_ptr(): a numpy view of a "
    "tensor costs several microseconds, the histogram of a bias less), positional arguments "
    "only. The caller keeps the memory alive and unchanged for the call. Returns None when the "
    "histogram was written with no NaN/inf, else (nan, pos_inf, neg_inf, written)."};


// A released Column as a numpy array that owns its buffer (no copy).
template <typename T>
py::array_t<T> column_array(Column<T>& c) {
  const std::size_t n = c.size();
  if (n == 0) return py::array_t<T>(0);
  T* data = c.release().release();
  py::capsule owner(data, [](void* p) { free_released_column(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(n), data, owner);
}

py::tuple series_tuple(ScalarSeries& s) {
  return py::make_tuple(column_array(s.step), column_array(s.wall_time), column_array(s.value));
}

py::dict histogram_dict(HistogramSeries& h) {
  py::dict d;
  d["step"] = column_array(h.step);
  d["wall_time"] = column_array(h.wall_time);
  d["min"] = column_array(h.min);
  d["max"] = column_array(h.max);
  d["num"] = column_array(h.num);
  d["sum"] = column_array(h.sum);
  d["sum_squares"] = column_array(h.sum_squares);
  d["offset"] = column_array(h.offset);
  d["limits"] = column_array(h.limits);
  d["counts"] = column_array(h.counts);
  return d;
}

// One FileScan as plain values (see scan_event_files' docstring); its columns move into numpy.
py::dict scan_dict(FileScan& f) {
  py::dict d;
  d["path"] = f.path;
  d["error"] = f.error;
  d["file_version"] = f.file_version;
  d["records"] = f.records;
  d["corrupt"] = f.corrupt;
  d["skipped_bytes"] = f.skipped_bytes;
  d["truncated_bytes"] = f.truncated_bytes;
  d["end_offset"] = f.end_offset;
  py::list tags;
  for (TagData& t : f.tags) {
    py::dict td;
    td["name"] = t.name;
    td["plugin_name"] = t.plugin_name;
    td["plugin_content"] = to_bytes(t.plugin_content);
    td["selected"] = t.selected;
    td["scalars"] = series_tuple(t.scalars);
    td["tensors"] = series_tuple(t.tensors);
    td["histograms"] = histogram_dict(t.histograms);
    tags.append(td);
  }
  d["tags"] = tags;
  const auto n = static_cast<py::ssize_t>(f.others.size());
  py::array_t<uint64_t> offset(n);
  py::array_t<uint32_t> length(n), value_index(n), tag(n);
  py::array_t<int64_t> step(n);
  py::array_t<double> wall_time(n);
  for (py::ssize_t i = 0; i < n; ++i) {
    const OtherValue& o = f.others[static_cast<std::size_t>(i)];
    offset.mutable_at(i) = o.offset;
    length.mutable_at(i) = o.length;
    value_index.mutable_at(i) = o.value_index;
    tag.mutable_at(i) = o.tag;
    step.mutable_at(i) = o.step;
    wall_time.mutable_at(i) = o.wall_time;
  }
  py::dict others;
  others["offset"] = offset;
  others["length"] = length;
  others["value_index"] = value_index;
  others["tag"] = tag;
  others["step"] = step;
  others["wall_time"] = wall_time;
  d["others"] = others;
  py::list starts;
  for (const SessionStart& s : f.starts) {
    starts.append(py::make_tuple(
        s.step, py::array_t<uint64_t>(static_cast<py::ssize_t>(s.counts.size()), s.counts.data()),
        s.others));
  }
  d["starts"] = starts;
  return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "xfast's native engine: ring buffer, writer thread, CRC32C, event encoding, histograms";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      py::object err = e.status.err != 0
                           ? py::reinterpret_steal<py::object>(PyObject_CallFunction(
                                 PyExc_OSError, "is", e.status.err, e.status.message.c_str()))
                           : py::reinterpret_steal<py::object>(PyObject_CallFunction(
                                 PyExc_OSError, "s", e.status.message.c_str()));
      PyErr_SetObject(PyExc_OSError, err.ptr());
    }
  });

  py::class_<EventWriter, std::shared_ptr<EventWriter>>(m, "EventWriter")
      .def(py::init([](const std::string& path, double wall_time, std::optional<int64_t> purge_step,
                       std::size_t ring_capacity, bool drop_when_full, double max_latency_s,
                       bool warn_on_error) {
             WriterOptions opt;
             opt.ring_capacity = ring_capacity;
             opt.drop_when_full = drop_when_full;
             opt.max_latency_s = max_latency_s;
             opt.warn_on_error = warn_on_error;
             Status st;
             std::unique_ptr<EventWriter> w;
             {
               ReleaseGil nogil;
               w = EventWriter::open(path, wall_time, purge_step, opt, &st);
             }
             if (!w) raise_status(st);
             return std::shared_ptr<EventWriter>(std::move(w));
           }),
           py::arg("path"), py::arg("wall_time"), py::arg("purge_step") = py::none(),
           py::arg("ring_capacity") = 16384, py::arg("drop_when_full") = false,
           py::arg("max_latency_s") = 0.05, py::arg("warn_on_error") = false)
      .def("intern", [](EventWriter& w, const std::string& tag) { return w.intern(tag); })
      .def(
          "add_histogram",
          [](EventWriter& w, uint32_t tag, py::handle data, int dtype, int64_t step,
             std::optional<double> wall_time, std::optional<int64_t> max_bins) {
            const HistogramOutcome o =
                queue_histogram(w, tag, view_array(data), dtype, step, wall_time, max_bins);
            py::dict info;
            info["nan"] = o.nan;
            info["pos_inf"] = o.pos_inf;
            info["neg_inf"] = o.neg_inf;
            info["written"] = o.written;
            return info;
          },
          py::arg("tag"), py::arg("data"), py::arg("dtype"), py::arg("step"), py::arg("wall_time"),
          py::arg("max_bins") = py::none(),
          "Default-bins histogram of a contiguous buffer, computed here and queued. Returns "
          "{'nan', 'pos_inf', 'neg_inf', 'written'}; written is False when nothing was countable.")
      .def(
          "add_histogram_counts",
          [](EventWriter& w, uint32_t tag, py::handle counts, py::handle limits, double min,
             double max, double num, double sum, double sum_squares, int64_t step,
             std::optional<double> wall_time, std::optional<int64_t> max_bins) {
            checked_tag(w, tag);
            auto h = finish(doubles_of(counts), doubles_of(limits), max_bins);
            if (!h) return false;
            h->min = min;
            h->max = max;
            h->num = num;
            h->sum = sum;
            h->sum_squares = sum_squares;
            push(w, make_record(RecordKind::kHistogram, tag, step, wall_time, h.release()));
            return true;
          },
          py::arg("tag"), py::arg("counts"), py::arg("limits"), py::arg("min"), py::arg("max"),
          py::arg("num"), py::arg("sum"), py::arg("sum_squares"), py::arg("step"),
          py::arg("wall_time"), py::arg("max_bins") = py::none(),
          "Trims (and max_bins-groups) counts computed elsewhere, then queues the histogram. "
          "Returns False, queueing nothing, when no bin has a count.")
      .def(
          "add_histograms_at",
          [](EventWriter& w, const std::vector<uint32_t>& tags, py::handle spans, int64_t step,
             std::optional<double> wall_time, std::optional<int64_t> max_bins) {
            const std::vector<HistogramInput> inputs = spans_of(spans);
            if (inputs.size() != tags.size()) throw py::value_error("need one span per tag");
            for (uint32_t tag : tags) checked_tag(w, tag);  // before anything is queued
            const double wall = now_or(wall_time);
            std::vector<HistogramInput> large;
            for (const HistogramInput& in : inputs) {
              if (in.n >= kBatchRowsMin) large.push_back(in);
            }
            constexpr std::size_t stride = kDefaultBins + kRowMoments;
            std::vector<double> rows(large.size() * stride);
            if (!large.empty()) {
              ReleaseGil nogil;  // the caller keeps the tensors alive and unchanged for the call
              histogram_default_rows(large, rows.data(), stride, &ThreadPool::shared());
            }
            py::list notes;  // (index, nan, pos_inf, neg_inf, written) of the exceptional ones
            std::size_t k = 0;
            for (std::size_t i = 0; i < inputs.size(); ++i) {  // events in input order
              const HistogramInput& in = inputs[i];
              HistogramOutcome o;
              if (in.n >= kBatchRowsMin) {
                const double* row = rows.data() + (k++) * stride;
                const double* mo = row + kDefaultBins;
                o = {static_cast<uint64_t>(mo[5]), static_cast<uint64_t>(mo[6]),
                     static_cast<uint64_t>(mo[7]),
                     queue_row(w, tags[i], row, kDefaultBins, default_edges().data(), step, wall,
                               max_bins)};
              } else {
                const ArrayView v{in.data, in.n, in.n * dtype_size(in.dtype)};
                o = queue_histogram(w, tags[i], v, static_cast<int>(in.dtype), step, wall,
                                    max_bins);
              }
              if (!o.written || o.nan + o.pos_inf + o.neg_inf > 0) {
                notes.append(py::make_tuple(i, o.nan, o.pos_inf, o.neg_inf, o.written));
              }
            }
            return notes;
          },
          py::arg("tags"), py::arg("spans"), py::arg("step"), py::arg("wall_time"),
          py::arg("max_bins") = py::none(),
          "add_histogram_at for many tensors in one call, events queued in input order: spans "
          "is a list of (address, n, dtype code) that the caller keeps alive and unchanged. "
          "Returns [(index, nan, pos_inf, neg_inf, written), ...] for the histograms that had "
          "NaN/inf or nothing countable (empty when none).")
      .def(
          "add_histogram_rows",
          [](EventWriter& w, const std::vector<uint32_t>& tags, py::handle rows, py::handle limits,
             int64_t step, std::optional<double> wall_time, std::optional<int64_t> max_bins) {
            const std::vector<double> l = doubles_of(limits);
            if (l.size() < 2) throw py::value_error("limits needs at least 2 edges");
            const std::size_t nbins = l.size() - 1;
            const RowsView r = rows_view(rows, tags.size(), nbins + kRowMoments);
            py::array_t<bool> written(static_cast<py::ssize_t>(tags.size()));
            bool* out = written.mutable_data();
            for (std::size_t i = 0; i < tags.size(); ++i) {
              checked_tag(w, tags[i]);
              out[i] = queue_row(w, tags[i], r.data + i * r.stride, nbins, l.data(), step,
                                 wall_time, max_bins);
            }
            return written;
          },
          py::arg("tags"), py::arg("rows"), py::arg("limits"), py::arg("step"),
          py::arg("wall_time"), py::arg("max_bins") = py::none(),
          "add_histogram_counts for many tags at once: row i of the float64 array `rows` holds "
          "len(limits) - 1 counts, then min, max, sum, sum_squares and the finite count (the "
          "layout histogram_rows fills). Returns a bool array: False where nothing was counted "
          "(nothing queued for that tag).")
      .def(
          "add_histogram_raw",
          [](EventWriter& w, uint32_t tag, double min, double max, double num, double sum,
             double sum_squares, std::vector<double> bucket_limit, std::vector<double> bucket,
             int64_t step, std::optional<double> wall_time) {
            auto h = std::make_unique<HistogramData>();
            *h = HistogramData{min, max, num, sum, sum_squares, std::move(bucket_limit), std::move(bucket)};
            push(w, make_record(RecordKind::kHistogram, checked_tag(w, tag), step, wall_time, h.release()));
          },
          py::arg("tag"), py::arg("min"), py::arg("max"), py::arg("num"), py::arg("sum"),
          py::arg("sum_squares"), py::arg("bucket_limit"), py::arg("bucket"), py::arg("step"),
          py::arg("wall_time"))
      .def(
          "add_text",
          [](EventWriter& w, uint32_t tag, const std::string& text, int64_t step,
             std::optional<double> wall_time) {
            push(w, make_record(RecordKind::kText, checked_tag(w, tag), step, wall_time,
                                new std::string(text)));
          },
          py::arg("tag"), py::arg("text"), py::arg("step"), py::arg("wall_time"))
      .def(
          "add_summary",
          [](EventWriter& w, py::handle summary, int64_t step, std::optional<double> wall_time) {
            push(w, make_record(RecordKind::kSummary, 0, step, wall_time,
                                new std::string(bytes_of(summary))));
          },
          py::arg("summary"), py::arg("step"), py::arg("wall_time"),
          "Queues Event{wall_time, step, summary} around an already serialized Summary.")
      .def(
          "reserve_summary",
          [](const std::shared_ptr<EventWriter>& self, int64_t step,
             std::optional<double> wall_time) -> std::unique_ptr<PendingHandle> {
            EventWriter& w = *self;
            PendingSummary* slot = PendingSummary::create();
            Record r = make_record(RecordKind::kPending, 0, step, wall_time, slot);
            // Owns the encoder's reference from here: any way out below releases it.
            auto handle = std::make_unique<PendingHandle>(self, slot);
            EventWriter::PushResult res = w.try_push(r);
            if (XFAST_UNLIKELY(res == EventWriter::PushResult::kFull)) {
              if (w.drop_when_full()) {
                w.drop(r);
                return nullptr;  // nothing will read it: the caller skips the encode
              }
              ReleaseGil nogil;
              res = w.push_blocking(r);
            }
            if (XFAST_UNLIKELY(res == EventWriter::PushResult::kClosed)) {
              free_record_payload(r);
              raise_status(Status{0, "Writer is closed"});
            }
            // A latched I/O error is left for the next call to report: raising here would
            // fail the reserved event although its place is taken.
            return handle;
          },
          py::arg("step"), py::arg("wall_time"),
          "Reserves the file's next place for a Summary event encoded later (add_image, ...): "
          "pushes the record now and returns the PendingSummary to settle, or None when a full "
          "ring dropped it (drop_when_full). The writer thread writes nothing behind it until "
          "it is settled.")
      .def(
          "add_event",
          [](EventWriter& w, py::handle event) {
            push(w, make_record(RecordKind::kRawEvent, 0, 0, 0.0, new std::string(bytes_of(event))));
          },
          py::arg("event"), "Queues an already serialized Event as is.")
      .def(
          "flush",
          [](EventWriter& w, bool fsync) {
            Status st;
            {
              ReleaseGil nogil;
              st = w.flush(fsync);
            }
            if (!st.ok()) report(w, st);
          },
          py::arg("fsync") = false,
          "Returns once everything queued before the call is written (and fsync'ed if asked).")
      .def(
          "close",
          [](const std::shared_ptr<EventWriter>& self, double timeout_s) {
            Status st;
            {
              ReleaseGil nogil;
              st = self->close(timeout_s);
            }
            if (self->abandoned()) keep_forever(self);  // its thread still runs on it
            if (!st.ok()) report(*self, st);
          },
          py::arg("timeout_s") = -1.0,
          "Drains, writes and closes. timeout_s >= 0 bounds the wait (ETIMEDOUT after it).")
      .def("stats",
           [](const EventWriter& w) {
             const WriterStats s = w.stats();
             py::dict d;
             d["events_written"] = s.events_written;
             d["bytes_written"] = s.bytes_written;
             d["dropped"] = s.dropped;
             d["lost"] = s.lost;
             d["high_water"] = s.high_water;
             d["capacity"] = s.capacity;
             return d;
           })
      .def("abandon_after_fork",
           [](const std::shared_ptr<EventWriter>& self) {
             self->abandon_after_fork();
             // Its mutexes and condition variables may be in a state the parent's threads left
             // them in: never destroy this object in the child.
             keep_forever(self);
           })
      .def_property_readonly("path", &EventWriter::path)
      .def_property_readonly("closed", &EventWriter::closed);

  py::class_<PendingHandle>(m, "PendingSummary")
      .def(
          "fill",
          [](PendingHandle& h, py::handle summary) {
            std::string s = bytes_of(summary);
            h.settle(&s);
          },
          py::arg("summary"),
          "Settles the reserved event with its serialized Summary; the writer thread writes it "
          "in its place. Later fill()/fail() calls do nothing.")
      .def(
          "fail", [](PendingHandle& h) { h.settle(nullptr); },
          "Settles the reserved event as failed: nothing is written in its place.")
      .def_property_readonly("settled", &PendingHandle::settled);

  m.attr("EventWriter").attr("add_scalar") = py::reinterpret_steal<py::object>(PyDescr_NewMethod(
      reinterpret_cast<PyTypeObject*>(m.attr("EventWriter").ptr()), &kAddScalarDef));
  m.attr("EventWriter").attr("add_histogram_at") =
      py::reinterpret_steal<py::object>(PyDescr_NewMethod(
          reinterpret_cast<PyTypeObject*>(m.attr("EventWriter").ptr()), &kAddHistogramAtDef));

  m.def(
      "scan_event_files",
      [](const std::vector<std::pair<std::string, uint64_t>>& files, const std::string& tag_glob,
         const std::string& tag_regex, uint32_t kinds, std::size_t threads) {
        ScanOptions opt;
        opt.tag_glob = tag_glob;
        opt.tag_regex = tag_regex;
        opt.kinds = kinds;
        opt.threads = threads;
        std::vector<FileScan> scans;
        try {
          ReleaseGil nogil;  // the arguments were copied into C++ values above
          scans = scan_files(files, opt);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
        py::list out;
        for (FileScan& f : scans) out.append(scan_dict(f));
        return out;
      },
      py::arg("files"), py::arg("tag_glob") = "", py::arg("tag_regex") = "", py::arg("kinds") = 15, py::arg("threads") = 0,
      "Reads event files [(path, start offset), ...] on `threads` threads (0 = all cores) with "
      "the GIL released, checking every record's CRC. Returns one dict a file: path, error ('' "
      "or why it could not be read), file_version, records, corrupt, skipped_bytes, "
      "truncated_bytes, end_offset, tags (name, plugin_name, plugin_content, selected, scalars "
      "and tensors as (step, wall_time, value) arrays, histograms as a dict of arrays), others "
      "(values left for protobuf: offset, length, value_index, tag, step, wall_time arrays) and "
      "starts ((step, per-tag counts, others count) of each SessionLog.START). tag_glob "
      "(fnmatch, whole tag), tag_regex (POSIX extended, searched) and kinds (1 scalars, 2 scalar tensors, 4 histograms, 8 others) "
      "filter what is kept.");
  m.def("after_fork_in_child", [] { ThreadPool::shared().abandon_after_fork(); },
        "Resets the histogram thread pool in a forked child.");
  m.def(
      "pixels_uint8",
      [](py::handle image) {
        if (!py::isinstance<py::array_t<float>>(image)) {
          throw py::type_error("pixels_uint8 takes a float32 numpy array");
        }
        const ArrayView v = view_array(image);
        const auto a = py::reinterpret_borrow<py::array>(image);
        py::array_t<uint8_t> out(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
        pixels_to_uint8(static_cast<const float*>(v.data), v.n, out.mutable_data());
        return out;
      },
      py::arg("image"),
      "torch's image() scaling of a C-contiguous float32 array in one pass: "
      "uint8(trunc(clip(x * 255, 0, 255))), NaN as 0, same shape. The GIL is kept: ~0.2 ms "
      "for 3x512x512, and taking the GIL back from a media encode could take longer.");
  m.def("histogram_implementation", &histogram_implementation,
        "The float32 histogram loops in use: 'avx2', 'sse2' or 'portable'.");
  m.def(
      "default_slot_table",
      [] {
        std::vector<float> thr;
        const std::vector<uint16_t> slots = default_slot_table(&thr);
        return py::make_tuple(
            py::array_t<uint16_t>(static_cast<py::ssize_t>(slots.size()), slots.data()),
            py::array_t<float>(static_cast<py::ssize_t>(thr.size()), thr.data()));
      },
      "(slots uint16[131072], thresholds float32[1550]): the default-bins O(1) bucket index "
      "(see histogram.h) for the device-side histogram.");
  m.def("set_num_threads", [](std::size_t n) { ThreadPool::set_shared_size(n); }, py::arg("n"),
        "Sets the histogram kernel's thread count (0 = XFAST_NUM_THREADS or all cores).");
  m.def("get_num_threads", [] { return ThreadPool::shared().size(); });
  m.def("default_edges", [] {
    const auto& e = default_edges();
    return py::array_t<double>(static_cast<py::ssize_t>(e.size()), e.data());
  });
  m.def("wall_clock_now", &wall_clock_now);
  m.def(
      "histogram_accumulate",
      [](py::handle data, int dtype) { return accum_dict(run_histogram(view_array(data), dtype, false)); },
      py::arg("data"), py::arg("dtype"),
      "Counts a contiguous buffer into the default bins without writing anything: {'counts' "
      "(uint64, len 1548), 'min', 'max', 'sum', 'sum_squares' (finite values only; min/max "
      "meaningless when finite == 0), 'finite', 'nan', 'pos_inf', 'neg_inf'}. Counts over "
      "shards of one tensor add up to the counts of the whole (xfast.distributed).");
  // The compiler that built this module, for benchmark reports (python -m xfast.bench).
#if defined(__clang__)
  m.attr("compiler") = "clang " __clang_version__;
#elif defined(__GNUC__)
  m.attr("compiler") = "gcc " __VERSION__;
#else
  m.attr("compiler") = "unknown";
#endif

  // Building blocks exposed for the tests (tests/test_record.py, test_encode.py, ...).
  py::module_ t = m.def_submodule("testing", "C++ components exposed for unit tests");
  t.def(
      "crc32c",
      [](const py::bytes& data, uint32_t crc, const std::string& impl) {
        const std::string s = as_string(data);
        const auto* p = reinterpret_cast<const uint8_t*>(s.data());
        if (impl == "portable") return internal::crc32c_extend_portable(crc, p, s.size());
        if (impl == "sse4.2") {
          if (!internal::crc32c_hardware_available()) throw py::value_error("no SSE4.2 on this CPU");
          return internal::crc32c_extend_sse42(crc, p, s.size());
        }
        if (impl != "auto") throw py::value_error("impl must be auto, portable or sse4.2");
        return crc32c_extend(crc, p, s.size());
      },
      py::arg("data"), py::arg("crc") = 0, py::arg("impl") = "auto");
  t.def("openmp_team_available", &openmp_team_available);
  t.def(
      "vector_slot_mismatches",
      [](const std::string& isa, uint64_t block_stride) {
        SlotCheckResult r;
        {
          ReleaseGil nogil;
          r = vector_slot_mismatches(isa, block_stride);
        }
        py::dict d;
        d["ran"] = r.ran;
        d["checked"] = r.checked;
        d["mismatches"] = r.mismatches;
        return d;
      },
      py::arg("isa"), py::arg("block_stride") = 1);
  t.def("crc32c_mask", &crc32c_mask);
  t.def("crc32c_unmask", &crc32c_unmask);
  t.def("crc32c_implementation", &crc32c_implementation);
  t.def("crc32c_hardware_available", &internal::crc32c_hardware_available);
  t.def("frame_record", [](const py::bytes& data) {
    const std::string s = as_string(data);
    std::string out;
    append_record(out, reinterpret_cast<const uint8_t*>(s.data()), s.size());
    return to_bytes(out);
  });
  t.def("encode_varint", [](uint64_t v) {
    uint8_t buf[wire::kMaxVarint64Size];
    const uint8_t* end = wire::write_varint(v, buf);
    return py::bytes(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(end - buf));
  });
  t.def("encode_scalar_event", [](double wall, int64_t step, const std::string& tag, double v, int style) {
    std::string out;
    append_scalar_event(out, EventHeader{wall, step}, tag, v, static_cast<ScalarStyle>(style));
    return to_bytes(out);
  });
  t.def("encode_histogram_event",
        [](double wall, int64_t step, const std::string& tag, double min, double max, double num,
           double sum, double sum_squares, std::vector<double> limits, std::vector<double> counts) {
          std::string out;
          HistogramData h{min, max, num, sum, sum_squares, std::move(limits), std::move(counts)};
          append_histogram_event(out, EventHeader{wall, step}, tag, h);
          return to_bytes(out);
        });
  t.def("encode_text_event", [](double wall, int64_t step, const std::string& tag, const std::string& text) {
    std::string out;
    append_text_event(out, EventHeader{wall, step}, tag, text);
    return to_bytes(out);
  });
  t.def("encode_summary_event", [](double wall, int64_t step, const py::bytes& summary) {
    std::string out;
    append_summary_event(out, EventHeader{wall, step}, as_string(summary));
    return to_bytes(out);
  });
  t.def("encode_file_version_event", [](double wall, int64_t step, const std::string& writer) {
    std::string out;
    append_file_version_event(out, EventHeader{wall, step}, writer);
    return to_bytes(out);
  });
  t.def("encode_session_start_event", [](double wall, int64_t step) {
    std::string out;
    append_session_start_event(out, EventHeader{wall, step});
    return to_bytes(out);
  });
  t.def(
      "histogram_default",
      [](py::handle data, int dtype, bool serial) {
        return accum_dict(run_histogram(view_array(data), dtype, serial));
      },
      py::arg("data"), py::arg("dtype"), py::arg("serial") = false);
  m.def(
      "histogram_rows",
      [](py::handle batch, py::handle out) {
        std::vector<HistogramInput> inputs;
        {  // references taken here are dropped before the GIL is released
          const py::list items(py::reinterpret_borrow<py::object>(batch));  // owns the items meanwhile
          for (const py::handle item : items) {
            const py::tuple pair(py::reinterpret_borrow<py::object>(item));
            if (pair.size() == 3) {  // (address, n, dtype code): see add_histogram_at
              inputs.push_back(span_input(pair));
              continue;
            }
            if (pair.size() != 2) throw py::value_error("expected (buffer, dtype code) pairs");
            const ArrayView v = view_array(pair[0]);
            inputs.push_back({v.data, v.n, checked_dtype(pair[1].cast<int>())});
          }
        }
        const RowsView r = rows_view(out, inputs.size(), kDefaultBins + kRowMoments);
        {
          ReleaseGil nogil;  // the caller's list keeps the buffers, `out` keeps the rows alive
          histogram_default_rows(inputs, r.data, r.stride, &ThreadPool::shared());
        }
      },
      py::arg("batch"), py::arg("out"),
      "histogram_accumulate over [(buffer, dtype code) or (address, n, dtype code), ...] (the "
      "caller keeps every buffer alive) in one pool dispatch with the GIL "
      "released, written into the float64 array `out` (one row per buffer, >= 1556 columns): "
      "1548 counts, then min, max (inf, -inf when nothing is finite), sum, sum_squares, finite, "
      "nan, pos_inf, neg_inf. Other columns are left alone.");
  t.def(
      "finish_histogram",
      [](const py::array_t<double, py::array::c_style | py::array::forcecast>& counts,
         const py::array_t<double, py::array::c_style | py::array::forcecast>& limits,
         std::optional<int64_t> max_bins) -> py::object {
        auto h = finish(to_vector(counts), to_vector(limits), max_bins);
        if (!h) return py::none();
        return py::make_tuple(h->bucket_limit, h->bucket);
      },
      py::arg("counts"), py::arg("limits"), py::arg("max_bins") = py::none());
  t.def(
      "ring_stress",
      [](int producers, uint64_t per_producer, std::size_t capacity) {
        RingStressResult r;
        {
          ReleaseGil nogil;
          r = ring_stress(producers, per_producer, capacity);
        }
        py::dict d;
        d["ok"] = r.ok;
        d["popped"] = r.popped;
        d["full_retries"] = r.full_retries;
        d["error"] = r.error;
        return d;
      },
      py::arg("producers"), py::arg("per_producer"), py::arg("capacity"));
}

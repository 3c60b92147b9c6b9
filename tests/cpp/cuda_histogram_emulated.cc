// SPDX-License-Identifier: Apache-2.0
// Runs src/xfast/device/cuda_kernel.cu's kernels under cuda_emulation.h, for
// tests/test_cuda_kernel_emulated.py: reads a batch (the launch layout that
// xfast.device.cuda_kernel.plan built, with pointers as offsets into the data) from argv[1],
// writes the packed float64 rows to argv[2].
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "cuda_emulation.h"
#include "../../src/xfast/device/cuda_kernel.cu"

namespace {

struct Reader {
  std::vector<char> bytes;
  std::size_t at = 0;

  int64_t i64() {
    int64_t v;
    take(&v, sizeof v);
    return v;
  }
  void take(void* dst, std::size_t n) {
    if (at + n > bytes.size()) throw std::runtime_error("input file too short");
    std::memcpy(dst, bytes.data() + at, n);
    at += n;
  }
};

}  // namespace

// Input, all int64 unless said: base (the fake address of data[0]), k, threads, launches,
// table int32[8192], tens[3k], then per launch: dtype code, blocks nb, blocks[3nb]; then the
// data bytes to the end. A pointer p != 0 in tens stands for data + (p - base).
int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  Reader r{std::vector<char>(std::istreambuf_iterator<char>(in), {})};
  const int64_t base = r.i64(), k = r.i64(), threads = r.i64(), launches = r.i64();
  std::vector<int32_t> table(8192);
  r.take(table.data(), table.size() * sizeof(int32_t));
  std::vector<long long> tens(static_cast<std::size_t>(3 * k));
  r.take(tens.data(), tens.size() * sizeof(long long));
  std::vector<std::pair<int64_t, std::vector<long long>>> plan;
  for (int64_t l = 0; l < launches; ++l) {
    const int64_t code = r.i64(), nb = r.i64();
    std::vector<long long> blocks(static_cast<std::size_t>(3 * nb));
    r.take(blocks.data(), blocks.size() * sizeof(long long));
    plan.emplace_back(code, std::move(blocks));
  }
  // The data in a 16-byte aligned buffer, so that the test's offsets from a 16-byte boundary
  // are the offsets the kernels see (whatever the header's length).
  std::vector<uint4> aligned((r.bytes.size() - r.at + 15) / 16);
  std::memcpy(aligned.data(), r.bytes.data() + r.at, r.bytes.size() - r.at);
  const char* data = reinterpret_cast<const char*>(aligned.data());
  for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j) {
    for (std::size_t f = 0; f < 2; ++f) {
      long long& p = tens[3 * j + f];
      if (p != 0) p = static_cast<long long>(reinterpret_cast<uintptr_t>(data + (p - base)));
    }
  }
  std::vector<unsigned long long> scratch(static_cast<std::size_t>(k) * XF_ROW, 0ull);
  const unsigned int block = static_cast<unsigned int>(threads);
  for (const auto& [code, blocks] : plan) {
    const unsigned int nb = static_cast<unsigned int>(blocks.size() / 3);
    const long long* b = blocks.data();
    emulate_launch(nb, block, [&] {
      if (code == 0) xfast_histogram_f32(tens.data(), b, table.data(), scratch.data());
      if (code == 1) xfast_histogram_bf16(tens.data(), b, table.data(), scratch.data());
      if (code == 2) xfast_histogram_f16(tens.data(), b, table.data(), scratch.data());
    });
  }
  std::vector<double> out(static_cast<std::size_t>(k) * XF_WIDTH);
  emulate_launch(static_cast<unsigned int>(k), block,
                 [&] { xfast_histogram_finish(tens.data(), scratch.data(), out.data()); });
  std::ofstream(argv[2], std::ios::binary)
      .write(reinterpret_cast<const char*>(out.data()),
             static_cast<std::streamsize>(out.size() * sizeof(double)));
  return 0;
}

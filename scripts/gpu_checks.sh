#!/usr/bin/env bash
# The GPU checks, as one script for a CUDA machine (the device tool runs it; see README).
# Builds xfast against the machine's torch, then: benchmarks/gpu_check.py (correctness vs the CPU
# kernel, no host sync under set_sync_debug_mode("error"), timings, memory), the CUDA tests of
# the media worker and cross-rank reductions, and the media caller-side benchmark.
set -u
export PYTHONUNBUFFERED=1
out=${OUT:-/tmp/xfast-gpu}
mkdir -p "$out"
nvidia-smi -L
python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__, torch.cuda.get_device_name())"
python3 -m pip install --no-build-isolation --no-deps -q . 2>&1 | tail -3
cd /tmp  # import the installed package, not the source tree
rc=0
timeout 330 python3 "$OLDPWD/benchmarks/gpu_check.py" "$@" 2>&1 | tee "$out/gpu_check.log" || rc=1
timeout 120 python3 -m pytest -q -p no:cacheprovider -c /dev/null -W ignore::DeprecationWarning \
  "$OLDPWD/tests/test_media_worker.py" "$OLDPWD/tests/test_distributed.py" "$OLDPWD/tests/test_histogram_kernel.py" \
  "$OLDPWD/tests/test_cuda_kernel_emulated.py" -k "cuda or triton or device" 2>&1 | tee "$out/pytest_cuda.log" | tail -15 || rc=1
timeout 90 python3 "$OLDPWD/benchmarks/bench_media.py" --rounds 30 2>&1 | tee "$out/bench_media.log" | tail -12 || rc=1
exit $rc

#!/usr/bin/env bash
# The GPU checks in one command, for a machine that has a GPU, CuPy and a CUDA build of torch
# but may have no network (as the lent device machines): nothing is installed, the checkout is
# put on PYTHONPATH. It runs the gpu-marked tests, then the whole benchmark, whose GPU part times
# nnscratch on CuPy against hand-written CuPy and torch CUDA at batches 4096 to 65536.
# Usage: bash benchmarks/gpu_check.sh [OUT_DIR]   (default OUT_DIR: benchmarks/results-gpu)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
out="${1:-benchmarks/results-gpu}"
python3 -c "import nnscratch as ns; print('backends:', ns.backend.available_backends())"
python3 -m pytest -q -p no:cacheprovider -m gpu
python3 -m benchmarks --threads 1 --out "$out"

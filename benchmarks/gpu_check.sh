#!/usr/bin/env bash
# The GPU checks in one command, for a machine that has a GPU, CuPy and a CUDA build of torch
# but may have no network: nothing is installed, the checkout is put on PYTHONPATH. It runs the
# gpu-marked tests, then the whole benchmark (python -m nnscratch.bench), whose GPU part times
# nnscratch on CuPy against hand-written CuPy and torch CUDA at batches 4096 to 65536.
# Usage: bash benchmarks/gpu_check.sh [OUT_DIR]
#   (default OUT_DIR: a new nnscratch-bench-YYYYmmdd-HHMMSS folder in the checkout, which git ignores)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python3 -c "import nnscratch as ns; print('backends:', ns.backend.available_backends())"
python3 -m pytest -q -p no:cacheprovider -m gpu
if [ $# -ge 1 ]; then
    python3 -m nnscratch.bench --threads 1 --out "$1"
else
    python3 -m nnscratch.bench --threads 1
fi

#!/usr/bin/env bash
# The GPU check of issue 13, as one command on a machine with an NVIDIA GPU:
#
#   bash benchmarks/gpu_check.sh [REPORT]      (default: gpu_check.txt)
#
# installs what is missing (CuPy for CUDA 12 and the test tools; a machine without a
# network keeps what it has), runs the GPU tests (every namespace-parametrized oracle
# suite on CuPy arrays, the CuPy backend's own tests) and the GPU benchmark, and writes
# everything, with the machine's description, to REPORT. It takes under 5 minutes on an
# H100/H200; the parts are bounded by timeouts so that a report always comes back.
set -uo pipefail
cd "$(dirname "$0")/.."
report="${1:-gpu_check.txt}"
results="$(mktemp -d)"
python="${PYTHON:-python3}"
exec > >(tee "$report") 2>&1

echo "== machine"
date -u
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
git rev-parse --short HEAD 2>/dev/null || true

# the modules xconv and its GPU tests import, by the package that provides each
missing=$("$python" - <<'PY'
import importlib.util
packages = {
    "cupy": "cupy-cuda12x", "array_api_compat": "array-api-compat", "scipy": "scipy",
    "click": "click", "rich": "rich", "PIL": "pillow", "threadpoolctl": "threadpoolctl",
    "pytest": "pytest", "hypothesis": "hypothesis", "array_api_strict": "array-api-strict",
}
print(" ".join(p for m, p in packages.items() if importlib.util.find_spec(m) is None))
PY
)
if [ -n "$missing" ]; then
    echo "== installing: $missing"
    "$python" -m pip install --quiet $missing || echo "could not install $missing (offline?)"
fi
# xconv from this tree, without installing it (the machine's CUDA builds stay untouched)
export PYTHONPATH="$PWD:$PWD/cli${PYTHONPATH:+:$PYTHONPATH}"
"$python" -c "import cupy, xconv; print('CuPy', cupy.__version__, 'on', cupy.cuda.runtime.getDeviceCount(), 'GPU(s); xconv', xconv.__version__)"
"$python" -c "import torch; print('PyTorch', torch.__version__, 'CUDA', torch.cuda.is_available(), 'cuDNN', torch.backends.cudnn.version())" || echo "no PyTorch: the benchmark runs without cuDNN"

echo "== GPU tests"
timeout 170 "$python" -m pytest -q -p no:cacheprovider -rs tests -k "cupy or gpu"
echo "pytest exit status: $?"

echo "== GPU benchmark"
timeout 110 "$python" -m benchmarks --device gpu --repeat 5 --output "$results"
echo "benchmark exit status: $?"
echo "== results"
cat "$results/gpu_results.json" 2>/dev/null || echo "no benchmark results"

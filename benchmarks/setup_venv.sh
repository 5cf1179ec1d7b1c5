#!/usr/bin/env bash
# Create the benchmark-only virtual environment /work/main/.bench-venv (git-ignored).
#
# It holds the peer frameworks rillet is compared against. None of them is a project
# dependency; rillet itself is installed editable so the harness imports the work tree.
#
# Usage: bash benchmarks/setup_venv.sh        (idempotent; re-run to repair)
#
# Notes:
# * torch is pinned to 2.13.0: on this machine pip takes a local CPU wheel for it. An
#   unpinned torch would pull a multi-GB CUDA build.
# * tensorflow-cpu gives both tf.compat.v1 graph mode and TF2 eager; tf-keras provides the
#   legacy tf.compat.v1.nn.rnn_cell classes that Keras 3 no longer backs.
# * jax/jaxlib run on the CPU; optax is optional (the JAX peers fall back to a
#   hand-written Adam when it is missing).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BENCH_VENV:-$ROOT/.bench-venv}"
PY="${PY:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
LOG="$VENV/setup.log"
PIP=("$VENV/bin/python" -m pip install --quiet)

# Each step is installed on its own so one failure does not hide the others.
install() {
    local name="$1"; shift
    echo "== installing $name: $*" | tee -a "$LOG"
    if "${PIP[@]}" "$@" >>"$LOG" 2>&1; then
        echo "   ok" | tee -a "$LOG"
    else
        echo "   FAILED (see $LOG)" | tee -a "$LOG"
    fi
}

: >"$LOG"
install pip --upgrade pip
install numpy numpy threadpoolctl
install torch "torch==2.13.0"
install tensorflow tensorflow-cpu
# tf.compat.v1.nn.rnn_cell (LSTM peer) needs Keras 2: tf-keras of the same minor release,
# used with TF_USE_LEGACY_KERAS=1 (the TF1 worker sets it).
TFV="$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('tensorflow-cpu'))")"
install tf-keras "tf-keras~=${TFV%.*}.0"
install jax jax jaxlib
install optax optax
install ruff ruff
install rillet -e "$ROOT"

echo "== import check" | tee -a "$LOG"
"$VENV/bin/python" - <<'EOF' 2>&1 | grep -v -E "^(WARNING|I0000|E0000)" | tee -a "$LOG"
import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
for mod in ["numpy", "threadpoolctl", "torch", "tensorflow", "tf_keras", "jax", "optax",
            "rillet"]:
    try:
        m = importlib.import_module(mod)
        print(f"  {mod:14s} {getattr(m, '__version__', '?')}")
    except Exception as exc:  # report, keep going
        print(f"  {mod:14s} IMPORT FAILED: {type(exc).__name__}: {exc}")
EOF

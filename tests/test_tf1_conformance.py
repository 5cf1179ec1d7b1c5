"""TF 1.x conformance: every program in ``tests/tf1_programs/`` runs unchanged on rillet.

Each program is written as a classic TF 1.x tutorial program would be, with only the imports
changed (``import tensorflow as tf`` -> ``import rillet as tf``, ``tensorflow.examples...`` ->
``rillet.examples...``), and asserts something real at its end (loss decreased, an accuracy
bar, a restored value, an event file TensorBoard can read). A test runs one program with
``python program.py`` in a fresh temporary directory and asserts exit code 0.

The selected programs run in parallel, in one thread pool started by the first test, so the
whole file takes about as long as its slowest programs.

Known failures (reported to the lead, see docs/tf1_compat.md) are ``xfail(strict=True)``: when
rillet is fixed the test turns into an XPASS, which fails, and the mark is removed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
PROGRAMS_DIR = Path(__file__).resolve().parent / "tf1_programs"
PROGRAMS = sorted(p.name for p in PROGRAMS_DIR.glob("*.py"))
_BESIDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data",
                       "mnist")
MNIST_DIR = os.environ.get("MNIST_DIR", os.path.normpath(_BESIDE) if os.path.isdir(_BESIDE)
                           else "/work/shared/data/mnist")
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TIMEOUT_S = 180

# program -> reason. Each one is reported with a minimal repro in docs/tf1_compat.md.
KNOWN_FAILURES: dict[str, str] = {}

# Programs too heavy for the default run (``-m slow`` runs them).
SLOW: set[str] = set()


def _needs_mnist(program: str) -> bool:
    return "read_data_sets" in (PROGRAMS_DIR / program).read_text()


def _have_mnist() -> bool:
    return all(os.path.exists(os.path.join(MNIST_DIR, f)) for f in MNIST_FILES)


def _params() -> list[Any]:
    params = []
    for program in PROGRAMS:
        marks = []
        if program in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[program]))
        if program in SLOW:
            marks.append(pytest.mark.slow)
        if _needs_mnist(program) and not _have_mnist():
            marks.append(pytest.mark.skip(reason=f"MNIST not found in {MNIST_DIR}"))
        params.append(pytest.param(program, marks=marks, id=program[:-3]))
    return params


def _run(program: str, workdir: Path, threads: int) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    env["MNIST_DIR"] = MNIST_DIR
    env["PYTHONHASHSEED"] = "0"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, str(threads))
    try:
        return subprocess.run([sys.executable, str(PROGRAMS_DIR / program)], cwd=workdir,
                              env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return subprocess.CompletedProcess(e.cmd, -9, out, err + f"\nTIMEOUT after {TIMEOUT_S}s")


@pytest.fixture(scope="module")
def runs(request: Any, tmp_path_factory: Any) -> dict[str, Future]:
    """Starts every selected program at once in a thread pool; maps program -> Future."""
    selected = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if item.module is not request.module or callspec is None:
            continue
        if "program" in callspec.params and not item.get_closest_marker("skip"):
            selected.append(callspec.params["program"])
    workers = max(1, min(len(selected), os.cpu_count() or 1, 8))
    threads = 1 if workers > 1 else max(1, os.cpu_count() or 1)
    pool = ThreadPoolExecutor(max_workers=workers)
    # Longest first (the MNIST programs load 60,000 images), so the pool ends together.
    order = sorted(selected, key=lambda p: not _needs_mnist(p))
    futures = {p: pool.submit(_run, p, tmp_path_factory.mktemp(p[:-3]), threads)
               for p in order}
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("program", _params())
def test_program_runs(program: str, runs: dict[str, Future]) -> None:
    result = runs[program].result()
    tail = (result.stdout[-3000:] + "\n--- stderr ---\n" + result.stderr[-5000:])
    assert result.returncode == 0, f"{program} exited with {result.returncode}:\n{tail}"
    assert "OK" in result.stdout.splitlines()[-1:], f"{program} did not print OK:\n{tail}"


def test_every_program_is_tf1_code() -> None:
    """The programs import rillet only where TF 1.x code imports tensorflow."""
    allowed = ("import rillet as tf", "from rillet.contrib import rnn",
               "from rillet.examples.tutorials.mnist import input_data")
    for program in PROGRAMS:
        for line in (PROGRAMS_DIR / program).read_text().splitlines():
            if "rillet" in line and line.lstrip().startswith(("import", "from")):
                assert line.strip() in allowed, f"{program}: {line.strip()}"

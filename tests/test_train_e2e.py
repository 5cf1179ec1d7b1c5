"""End-to-end training: seed 000's linear regression and seed 004's MNIST MLP (examples/)."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

import rillet as tf

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  os.path.join(EXAMPLES, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


# --- seed 000: linear regression ------------------------------------------------------------
def test_linear_regression_full_100000_steps_learns_4_decimals(capsys):
    (true_m, true_b), (m, b) = _example("linear_regression").main(["--seed", "1", "--quiet"])
    out = capsys.readouterr().out.splitlines()
    assert out == ["True parameters: m=%.4f, b=%.4f" % (true_m, true_b),  # noqa: UP031
                   "Learned parameters: m=%.4f, b=%.4f" % (m, b)]  # noqa: UP031
    assert out[0].split(": ")[1] == out[1].split(": ")[1]
    assert abs(m - true_m) < 1e-4 and abs(b - true_b) < 1e-4


def test_linear_regression_prints_every_10000th_step(capsys):
    _example("linear_regression").main(["--seed", "2", "--steps", "20000"])
    lines = capsys.readouterr().out.splitlines()
    steps = [int(line.split()[0]) for line in lines[:-2]]
    assert steps == [0, 10000, 19999]
    assert lines[-2].startswith("True parameters: m=")
    assert lines[-1].startswith("Learned parameters: m=")


# --- seed 004: MNIST MLP ----------------------------------------------------------------------
def _mnist_dir():
    mod = _example("mnist_mlp")
    d = mod.default_data_dir()
    if d is None:
        cache = os.path.join(os.environ.get("RILLET_DATA", os.path.expanduser(
            "~/.rillet/datasets")), "mnist")
        if not os.path.exists(os.path.join(cache, "train-images-idx3-ubyte.gz")):
            pytest.skip("MNIST files are not available offline")
    return mod, d


def test_mnist_graph_structure():
    mod = _example("mnist_mlp")
    m = mod.build_model()
    shapes = {v.op.name: v.shape.as_list() for v in tf.trainable_variables()}
    assert shapes == {"fc1/kernel": [784, 400], "fc1/bias": [400], "fc2/kernel": [400, 100],
                      "fc2/bias": [100], "logits/kernel": [100, 10], "logits/bias": [10]}
    assert m["train_op"].name == "Adam"
    names = {v.op.name for v in tf.global_variables()}
    assert {"beta1_power", "beta2_power", "fc1/kernel/Adam", "fc1/kernel/Adam_1"} <= names


def test_mnist_mlp_on_a_subset():
    mod, d = _mnist_dir()
    args = ["--epochs", "3", "--train-size", "10000", "--test-size", "2000", "--quiet"]
    res = mod.main(args + (["--data-dir", d] if d else []))
    assert res["accuracy"] >= 0.91, res
    assert len(res["history"]) == 3


@pytest.mark.slow
def test_mnist_mlp_three_epochs():
    mod, d = _mnist_dir()
    args = ["--epochs", "3", "--quiet"] + (["--data-dir", d] if d else [])
    res = mod.main(args)
    assert res["accuracy"] >= 0.97, res
    assert np.all(np.diff(res["history"]) > -0.01)

"""Registry completeness: every registered op has inference, a kernel and a gradient (or an
explicit NOT_DIFFERENTIABLE), and is exercised by an op table (tests/op_table.py,
tests/op_table_compat.py, plus tests/op_table_nn.py when present) or listed, with a reason, in
EXEMPT below. Registering a new op without a table entry makes
``test_every_op_is_in_an_op_table`` fail."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from op_table import RANDOM_BUILDERS, covered_cases, op_types_of

import rillet as rt
import rillet.ops
from rillet import registry

# Ops that are not data transformations and are tested elsewhere. Gradient helper ops (e.g.
# UnbroadcastGrad, StridedSliceGrad, GatherGrad) need no entry: building each table case's
# gradient graph covers them.
EXEMPT = {
    # graph plumbing and state: tests/test_graph.py, test_session.py, test_variables.py
    "Const", "Placeholder", "NoOp", "VariableV2", "Assign", "AssignAdd", "AssignSub",
    "IsVariableInitialized", "ReportUninitializedVariables",
    # side effects: Print is an identity that logs (tests/test_session.py)
    "Print",
    # fused optimizer updates that write variables in place: tests/test_optimizers.py
    "ApplyGradientDescent", "ApplyMomentum", "ApplyAdam", "ApplyAdamW", "ApplyAdagrad",
    "ApplyAdadelta", "ApplyRMSProp", "ApplyCenteredRMSProp", "ApplyRAdam",
    # summaries (protobuf strings, not math): tests/test_summary_ops.py
    "ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummaryV2", "TextSummary",
    "MergeSummary",
    # user-defined gradients: tests/test_gradients.py
    "CustomGradient",
    # learning-rate schedules' private fallbacks for cos/ceil: tests/test_optimizers.py
    "LearningRateCos", "LearningRateCeil",
    # input pipeline iterator ops: tests/test_data.py
    "IteratorGetNext", "MakeIterator", "IteratorV2", "OneShotIterator", "DatasetIterator",
    "DatasetInit",
    # control flow (sub-graph runners and their gradients): tests/test_control_flow.py
    "If", "StatelessIf", "IfGrad", "While", "StatelessWhile", "WhileGrad", "CaseCheck",
    # TF 1.x gaps, stateful (tests/test_tf1_gaps.py): scatter updates and slice assignment
    # write variables in place; feedable-iterator handles are Session resources
    "ScatterUpdate", "ScatterAdd", "ScatterSub", "ScatterMul", "ScatterDiv", "ScatterMax",
    "ScatterMin", "ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub", "StridedSliceAssign",
    "IteratorToStringHandle", "IteratorGetNextFromStringHandle",
}


def _import_all_op_modules() -> None:
    """Registers every op rillet defines (some modules are not imported by ``rillet``)."""
    for m in pkgutil.iter_modules(rillet.ops.__path__):
        importlib.import_module(f"rillet.ops.{m.name}")


def _nn_table() -> tuple[list, list]:
    """Cases and random-op builders of tests/op_table_nn.py (the nn-ops table), if present."""
    try:
        nn = importlib.import_module("op_table_nn")
    except ModuleNotFoundError as e:
        if e.name != "op_table_nn":
            raise
        return [], []
    return list(nn.covered_cases()), list(getattr(nn, "RANDOM_BUILDERS", []))


def _compat_cases() -> list:
    """Cases of tests/op_table_compat.py (the TF 1.x gap ops: norms, linalg, checks)."""
    return list(importlib.import_module("op_table_compat").covered_cases())


def _rillet_ops() -> set:
    """Op types registered by rillet itself (tests may register throwaway ops of their own)."""
    return {name for name, d in registry.all_ops().items()
            if getattr(d.kernel, "__module__", "").startswith("rillet")}


def _covered() -> set:
    nn_cases, nn_builders = _nn_table()
    types: set = set()
    for case in covered_cases() + nn_cases + _compat_cases():
        types |= op_types_of(case)
    g = rt.Graph()
    with g.as_default():
        for build in RANDOM_BUILDERS + nn_builders:
            build()
    types |= {op.type for op in g.get_operations()}
    return types


def test_every_op_has_inference_kernel_and_gradient_decision():
    _import_all_op_modules()
    for name, d in registry.all_ops().items():
        assert callable(d.infer), name
        assert callable(d.kernel), name
        assert d.grad is registry.NOT_DIFFERENTIABLE or callable(d.grad), name


def test_every_op_is_in_an_op_table():
    _import_all_op_modules()
    missing = sorted(_rillet_ops() - _covered() - EXEMPT)
    assert not missing, (
        "ops registered without an op-table entry (add a Case to tests/op_table.py, or to "
        f"tests/op_table_nn.py for nn ops, or a commented EXEMPT entry): {missing}")


def test_exempt_list_has_no_stale_entries():
    _import_all_op_modules()
    # Names listed for pipeline ops may not exist (yet); all others must be registered.
    optional = {"IteratorGetNext", "MakeIterator", "IteratorV2", "OneShotIterator",
                "DatasetIterator", "DatasetInit", "LearningRateCos", "LearningRateCeil"}
    stale = sorted(EXEMPT - optional - set(registry.all_ops()))
    assert not stale, f"EXEMPT names no registered op: {stale}"


def test_completeness_check_catches_an_unlisted_op():
    def kernel(xp, x):
        return x
    kernel.__module__ = "rillet.ops.some_new_module"  # as if rillet had registered it
    registry.register("ZzUnlistedTestOp", infer=lambda op: (op.inputs[0].dtype,
                                                            op.inputs[0].shape),
                      kernel=kernel, grad=registry.NOT_DIFFERENTIABLE)
    try:
        missing = _rillet_ops() - _covered() - EXEMPT
        assert "ZzUnlistedTestOp" in missing
    finally:
        del registry._REGISTRY["ZzUnlistedTestOp"]


def test_register_refuses_missing_gradient_decision_and_duplicates():
    with pytest.raises(ValueError, match="NOT_DIFFERENTIABLE"):
        registry.register("ZzNoGrad", infer=lambda op: None, kernel=lambda xp: None)
    with pytest.raises(KeyError, match="already registered"):
        registry.register("Add", infer=lambda op: None, kernel=lambda xp: None,
                          grad=registry.NOT_DIFFERENTIABLE)

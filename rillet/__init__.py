"""rillet: a TensorFlow 1.x-style dataflow framework on NumPy.

``import rillet as tf`` runs TF 1.x programs: build a graph of ops, run it in a Session.
This module only re-exports; the code lives in the modules named below.
"""

from rillet import errors
from rillet.context import executing_eagerly
from rillet.dtypes import (
    DType, as_dtype, float16, float16 as half, float32, float64,
    double, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool_ as bool,
    complex64, complex128, string,
)
from rillet.graph import (
    Graph, GraphKeys, Operation, Tensor, add_to_collection, add_to_collections,
    control_dependencies, device, get_collection, get_collection_ref, get_default_graph,
    name_scope, reset_default_graph,
)
from rillet.shapes import Dimension, TensorShape
from rillet.registry import (
    NoGradient, NotDifferentiable, RegisterGradient, convert_to_tensor, is_tensor,
)
from rillet.ops.array_ops import (
    Print, constant, fill, identity, ones, placeholder, placeholder_with_default, rank,
    reshape, shape, size, stack, stop_gradient, unstack, zeros,
)
from rillet.ops.control_flow_ops import group, no_op
from rillet.ops.control_flow_ops import tuple_ as tuple
from rillet.ops.math_ops import (
    abs, add, add_n, argmax, argmin, cast, div, divide, equal, exp, floor, floordiv,
    floormod, greater, greater_equal, less, less_equal, log, logical_and, logical_not,
    logical_or, logical_xor, matmul, maximum, minimum, mod, multiply, negative, not_equal,
    ones_like, pow, realdiv, reduce_max, reduce_mean, reduce_min, reduce_sum, sign, square,
    squared_difference, subtract, to_float, to_int32, to_int64, truediv, zeros_like,
)
from rillet.ops.math_ops import where_ as where
from rillet.ops.random_ops import (
    random_normal, random_uniform, set_random_seed, truncated_normal,
)
from rillet.init_ops import (
    constant_initializer, glorot_normal_initializer, glorot_uniform_initializer,
    ones_initializer, random_normal_initializer, random_uniform_initializer,
    truncated_normal_initializer, variance_scaling_initializer, zeros_initializer,
)
from rillet.variables import (
    AUTO_REUSE, Variable, VariableScope, all_variables, assign, assign_add, assign_sub,
    get_variable, get_variable_scope, global_variables, global_variables_initializer,
    initialize_all_variables, is_variable_initialized, local_variables,
    local_variables_initializer, model_variables, report_uninitialized_variables,
    trainable_variables, variable_scope, variables_initializer,
)
from rillet.session import (
    ConfigProto, GPUOptions, InteractiveSession, RunMetadata, RunOptions, Session,
    get_default_session,
)
from rillet.gradients import gradients, hessians
from rillet import _operators  # noqa: F401  (installs tensor operators)
from rillet import app, data, datasets, init_ops as initializers, meters
from rillet import tf_logging as logging
from rillet import compat


def disable_eager_execution() -> None:
    """Graph mode is already rillet's default; kept for ``tf.compat.v1`` programs."""
    from rillet import context as _context
    _context.set_global_eager(False)


disable_v2_behavior = disable_eager_execution

subtract = subtract
sub = subtract
mul = multiply
neg = negative
arg_max = argmax
arg_min = argmin
newaxis = None

__version__ = "0.1.0"

# --- train ---
from rillet import train
from rillet.custom_gradient import custom_gradient
from rillet.ops.clip_ops import (
    clip_by_average_norm, clip_by_global_norm, clip_by_norm, clip_by_value, global_norm,
)
# --- end train ---

# --- summaries / checkpoints ---
from rillet import gfile, graph_util, io, summary
from rillet.train.meta_graph import GraphDef, MetaGraphDef, NodeDef, import_graph_def
# --- end summaries / checkpoints ---

# --- op library (math/array/random) ---
from rillet.ops.math_ops import (
    acos, asin, atan, atan2, ceil, cos, cosh, count_nonzero, cumprod, cumsum, div_no_nan, erf,
    expm1, is_finite, is_inf, is_nan, log1p, reciprocal, reduce_all, reduce_any,
    reduce_logsumexp, reduce_prod, rint, round, rsqrt, sigmoid, sin, sinh, sqrt, tan, tanh,
    where_v2,
)
from rillet.ops.math_ops import where  # noqa: F811 - tf.where(c) also takes one argument
from rillet.ops.array_ops import (
    boolean_mask, broadcast_to, concat, dynamic_partition, dynamic_stitch, expand_dims, eye,
    gather, gather_nd, lin_space, linspace, matrix_transpose, meshgrid, one_hot, pad,
    range_ as range, reverse, reverse_sequence, reverse_v2, scatter_nd, sequence_mask, split,
    squeeze, strided_slice, tile, transpose, unique, unsorted_segment_sum,
)
from rillet.ops.slicing import segment_sum, slice
from rillet.ops.linalg_ops import einsum, tensordot
from rillet.ops.random_ops import multinomial, random_crop, random_shuffle
from rillet import random
# --- end op library (math/array/random) ---

# --- eager ---
from rillet import eager
from rillet.eager import (
    GradientTape, TensorSpec, disable_eager_execution, enable_eager_execution, function,
)
from rillet.eager import eager_mode, graph_mode, init_scope  # rillet extras
# --- end eager ---

# --- op library (nn) ---
from rillet import losses, nn
# --- end op library (nn) ---

# --- layers / keras / data ---
from rillet.data import graph_iterator as _graph_iterator  # noqa: F401  (graph iterators)
from rillet import keras, layers, metrics
# --- end layers / keras / data ---

# --- lead: contrib ---
from rillet import contrib
# --- end lead: contrib ---

# --- control flow ---
from rillet.ops.control_flow_ops import case, cond, while_loop
from rillet.ops.functional_ops import foldl, foldr, map_fn, scan
# --- end control flow ---

# --- tf1 gaps ---
from rillet import debugging, linalg, math
from rillet.data import feedable as _feedable  # noqa: F401  (Iterator.from_string_handle)
from rillet.ops.check_ops import (
    Assert, add_check_numerics_ops, assert_equal, assert_greater, assert_greater_equal,
    assert_integer, assert_less, assert_less_equal, assert_near, assert_negative,
    assert_non_negative, assert_non_positive, assert_none_equal, assert_positive, assert_rank,
    assert_rank_at_least, assert_scalar, assert_type, check_numerics, is_non_decreasing,
    is_numeric_tensor, is_strictly_increasing, verify_tensor_all_finite,
)
from rillet.ops.compat_ops import (
    norm, scatter_add, scatter_div, scatter_max, scatter_min, scatter_mul, scatter_nd_add,
    scatter_nd_sub, scatter_nd_update, scatter_sub, scatter_update,
)
from rillet.ops.linalg_extra import (
    log_matrix_determinant, matrix_determinant, matrix_inverse, trace,
)
from rillet.train.moving_averages import moving_average_variables

import types as _types

VERSION = __version__  # TF 1.x: tf.VERSION (also tf.version.VERSION)
GIT_VERSION = "unknown"
COMPILER_VERSION = "unknown"
version = _types.SimpleNamespace(VERSION=VERSION, GIT_VERSION=GIT_VERSION,
                                 COMPILER_VERSION=COMPILER_VERSION)


def __getattr__(name):
    """Lazy attributes: ``tf.Summary`` (and the other summary protos) import tensorboard's
    protobuf modules only when first used, so ``import rillet`` does not load tensorboard."""
    if name in ("Summary", "SummaryMetadata", "HistogramProto", "Event", "SessionLog"):
        return getattr(summary, name)
    raise AttributeError(f"module 'rillet' has no attribute {name!r}")
# --- end tf1 gaps ---

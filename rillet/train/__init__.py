"""``rt.train``: optimizers, learning-rate schedules, the global step (and, from other modules,
checkpointing). A plain re-export module: the code lives in the modules imported below."""

from rillet.train.global_step import (
    assert_global_step,
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)
from rillet.train.learning_rate import (
    cosine_decay,
    cosine_decay_restarts,
    exponential_decay,
    inverse_time_decay,
    linear_cosine_decay,
    natural_exp_decay,
    piecewise_constant,
    polynomial_decay,
)
from rillet.train.optimizer import Optimizer
from rillet.train.optimizers import (
    AdadeltaOptimizer,
    AdagradOptimizer,
    AdamOptimizer,
    AdamWOptimizer,
    GradientDescentOptimizer,
    MomentumOptimizer,
    RAdamOptimizer,
    RMSPropOptimizer,
)

__all__ = [
    "AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer", "AdamWOptimizer",
    "GradientDescentOptimizer", "MomentumOptimizer", "Optimizer", "RAdamOptimizer",
    "RMSPropOptimizer", "assert_global_step", "cosine_decay", "cosine_decay_restarts",
    "create_global_step", "exponential_decay", "get_global_step", "get_or_create_global_step",
    "global_step", "inverse_time_decay", "linear_cosine_decay",
    "natural_exp_decay", "piecewise_constant", "polynomial_decay",
]

# --- saver ---
from rillet.io import write_graph  # noqa: E402
from rillet.train.meta_graph import (  # noqa: E402
    MetaGraphDef,
    export_meta_graph,
    import_meta_graph,
)
from rillet.train.saver import (  # noqa: E402
    CheckpointReader,
    CheckpointState,
    NewCheckpointReader,
    Saver,
    checkpoint_exists,
    get_checkpoint_mtimes,
    get_checkpoint_state,
    latest_checkpoint,
    list_variables,
    load_checkpoint,
    load_variable,
    remove_checkpoint,
    update_checkpoint_state,
)

__all__ += [
    "CheckpointReader", "CheckpointState", "MetaGraphDef", "NewCheckpointReader", "Saver",
    "checkpoint_exists", "export_meta_graph", "get_checkpoint_mtimes", "get_checkpoint_state",
    "import_meta_graph", "latest_checkpoint", "list_variables", "load_checkpoint",
    "load_variable", "remove_checkpoint", "update_checkpoint_state", "write_graph",
]
# --- end saver ---

# --- object checkpoints ---
from rillet.train.tracking import (  # noqa: E402
    Checkpoint,
    CheckpointLoadStatus,
    CheckpointManager,
)

__all__ += ["Checkpoint", "CheckpointLoadStatus", "CheckpointManager"]
# --- end object checkpoints ---

# --- tf1 gaps ---
from rillet.train.moving_averages import ExponentialMovingAverage  # noqa: E402

__all__ += ["ExponentialMovingAverage"]
# --- end tf1 gaps ---

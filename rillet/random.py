"""``rt.random``: TF's random namespace (``rt.random.normal``, ``rt.random.uniform``, ...)."""

from rillet.ops.random_ops import (  # noqa: F401 - re-exports
    categorical,
    get_seed,
    multinomial,
    normal,
    random_crop,
    random_normal,
    random_shuffle,
    random_uniform,
    set_random_seed,
    shuffle,
    truncated_normal,
    uniform,
)

set_seed = set_random_seed

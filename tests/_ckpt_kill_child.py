"""Child process for the checkpoint crash-safety test (tests/test_checkpoint_io.py).

Usage: ``python _ckpt_kill_child.py DIR``. Resumes from the latest checkpoint in DIR (reading
it back fully, which verifies it), prints ``ready STEP``, then saves checkpoints forever the way a
Saver does -- write file, update state file, delete pruned files -- printing ``saved STEP`` after
each.
The parent SIGKILLs it at random moments. Step ``s`` holds ``model/w:0`` = s (float32, 4 MB),
``model/v:0`` = -s (int32, 4 MB) and ``global_step:0`` = s.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from rillet.train.checkpoint_io import (
    checkpoint_file,
    read_checkpoint,
    read_metadata,
    remove_checkpoint,
    write_checkpoint,
)
from rillet.train.checkpoint_state import (
    get_checkpoint_state,
    latest_checkpoint,
    prune_old,
    update_checkpoint_state,
)

N = 1 << 20  # elements per big tensor
MAX_TO_KEEP = 3


def tensors_for(step: int) -> dict[str, np.ndarray]:
    """The known contents of the checkpoint at ``step``."""
    return {
        "model/w:0": np.full(N, step, dtype=np.float32),
        "model/v:0": np.full((N // 1024, 1024), -step, dtype=np.int32),
        "global_step:0": np.array(step, dtype=np.int64),
    }


def main(directory: str) -> None:
    step, kept = 0, []
    latest = latest_checkpoint(directory)
    if latest is not None:
        values = read_checkpoint(latest)
        step = int(read_metadata(latest)["global_step"])
        assert int(values["global_step:0"]) == step, (latest, step)
        state = get_checkpoint_state(directory)
        assert state is not None
        kept = list(state.all_model_checkpoint_paths)
    print(f"ready {step}", flush=True)
    deadline = time.monotonic() + 60  # never outlive a broken parent for long
    while time.monotonic() < deadline:
        step += 1
        prefix = os.path.join(directory, f"model.ckpt-{step}")
        write_checkpoint(checkpoint_file(prefix), tensors_for(step), {"global_step": step})
        kept, delete = prune_old(kept + [prefix], MAX_TO_KEEP)
        update_checkpoint_state(directory, prefix, kept)
        for p in delete:
            remove_checkpoint(p)
        print(f"saved {step}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

"""scikit-learn's bundled 8x8 handwritten digits (1,797 images), split like a Keras dataset.

Needs the optional dependency scikit-learn (``pip install rillet[datasets]``); nothing is
downloaded. Images are rescaled from sklearn's 0..16 range to uint8 0..255 so they can be
treated exactly like MNIST pixels (divide by 255 for [0, 1]).
"""

from __future__ import annotations

import numpy as np

__all__ = ["load_data"]

Split = tuple[np.ndarray, np.ndarray]


def load_data(test_fraction: float = 0.2, seed: int | None = 0) -> tuple[Split, Split]:
    """Return ``(x_train, y_train), (x_test, y_test)``: uint8 ``(N, 8, 8)`` images, uint8 labels.

    The 1,797 examples are shuffled with ``numpy.random.default_rng(seed)`` and the last
    ``round(1797 * test_fraction)`` go to the test split.
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "rillet.datasets.digits needs scikit-learn: pip install 'rillet[datasets]'"
        ) from exc
    bunch = load_digits()
    images = np.rint(np.asarray(bunch.images) * (255.0 / 16.0)).astype(np.uint8)
    labels = np.asarray(bunch.target).astype(np.uint8)
    perm = np.random.default_rng(seed).permutation(len(labels))
    n_test = int(round(len(labels) * test_fraction))
    train_idx, test_idx = perm[: len(labels) - n_test], perm[len(labels) - n_test:]
    return (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx])

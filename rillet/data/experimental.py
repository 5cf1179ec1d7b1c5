"""``tf.data.experimental``-style constants and helpers."""

from __future__ import annotations

from rillet.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset

INFINITE_CARDINALITY = INFINITE
UNKNOWN_CARDINALITY = UNKNOWN


def cardinality(dataset: Dataset) -> int:
    """``dataset.cardinality()``: a count, ``INFINITE_CARDINALITY`` or ``UNKNOWN_CARDINALITY``."""
    return dataset.cardinality()


__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "cardinality"]

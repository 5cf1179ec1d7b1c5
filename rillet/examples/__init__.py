"""Compatibility home of ``tensorflow.examples`` (the TF 1.x tutorial helpers)."""

"""Compatibility home of ``tensorflow.examples.tutorials``."""

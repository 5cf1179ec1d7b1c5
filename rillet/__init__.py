"""rillet: a TensorFlow 1.x-style dataflow framework on NumPy."""
from rillet import errors

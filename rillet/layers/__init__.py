"""``rt.layers``: TF 1.x ``tf.layers`` (functions and classes). Variables are named as in
TF 1.x (``dense/kernel``, ``dense_1/kernel``, ``conv2d/bias``,
``batch_normalization/moving_mean``) and honour ``variable_scope`` reuse."""

from rillet.keras.engine.input_spec import InputSpec
from rillet.layers.base import Layer
from rillet.layers.layers import (
    AveragePooling1D,
    AveragePooling2D,
    BatchNormalization,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Dropout,
    Flatten,
    MaxPooling1D,
    MaxPooling2D,
    average_pooling1d,
    average_pooling2d,
    batch_normalization,
    conv1d,
    conv2d,
    conv2d_transpose,
    dense,
    dropout,
    flatten,
    max_pooling1d,
    max_pooling2d,
)

Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D

__all__ = [
    "AveragePooling1D", "AveragePooling2D", "BatchNormalization", "Conv1D", "Conv2D",
    "Conv2DTranspose", "Convolution1D", "Convolution2D", "Convolution2DTranspose", "Dense",
    "Dropout", "Flatten", "InputSpec", "Layer", "MaxPool1D", "MaxPool2D", "MaxPooling1D",
    "MaxPooling2D", "average_pooling1d", "average_pooling2d", "batch_normalization", "conv1d",
    "conv2d", "conv2d_transpose", "dense", "dropout", "flatten", "max_pooling1d",
    "max_pooling2d",
]

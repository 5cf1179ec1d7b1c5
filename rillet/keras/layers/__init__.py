"""Keras layers (``rillet.keras.layers``)."""

from rillet.keras.engine.base_layer import Layer
from rillet.keras.engine.functional import Input, InputLayer
from rillet.keras.engine.input_spec import InputSpec
from rillet.keras.layers.conv import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Convolution1D,
    Convolution2D,
    Convolution2DTranspose,
    Deconvolution2D,
)
from rillet.keras.layers.core import Activation, Dense, Dropout, Flatten, Lambda, Reshape
from rillet.keras.layers.embedding import Embedding
from rillet.keras.layers.merge import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    concatenate,
)
from rillet.keras.layers.normalization import BatchNormalization, LayerNormalization
from rillet.keras.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from rillet.keras.layers.recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from rillet.keras.layers.serialization import deserialize, serialize

__all__ = [
    "GRU", "LSTM", "Activation", "Add", "Average", "AveragePooling1D", "AveragePooling2D",
    "AvgPool1D", "AvgPool2D", "BatchNormalization", "Bidirectional", "Concatenate", "Conv1D",
    "Conv2D", "Conv2DTranspose", "Convolution1D", "Convolution2D", "Convolution2DTranspose",
    "Deconvolution2D", "Dense", "Dropout", "Embedding", "Flatten", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "Input", "InputLayer", "InputSpec", "Lambda", "Layer",
    "LayerNormalization", "MaxPool1D", "MaxPool2D", "MaxPooling1D", "MaxPooling2D", "Maximum",
    "Minimum", "Multiply", "Reshape", "SimpleRNN", "Subtract", "add", "concatenate",
    "deserialize", "serialize",
]

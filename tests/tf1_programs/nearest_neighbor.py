"""Nearest-neighbour classification with L1 distance (the classic tutorial): placeholders of
"float", tf.reduce_sum(tf.abs(tf.add(xtr, tf.negative(xte))), reduction_indices=1),
tf.arg_min(distance, 0), and a Python loop of sess.run calls."""

from __future__ import print_function

import numpy as np
import rillet as tf

rs = np.random.RandomState(0)
centers = rs.normal(0, 3, size=(5, 8))


def make(n):
    labels = rs.randint(0, 5, size=n)
    x = centers[labels] + rs.normal(0, 1, size=(n, 8))
    return x.astype(np.float32), np.eye(5, dtype=np.float32)[labels]


Xtr, Ytr = make(500)  # 500 for training (nn candidates)
Xte, Yte = make(100)  # 100 for testing

# tf Graph Input
xtr = tf.placeholder("float", [None, 8])
xte = tf.placeholder("float", [8])

# Nearest Neighbor calculation using L1 Distance
# Calculate L1 Distance
distance = tf.reduce_sum(tf.abs(tf.add(xtr, tf.negative(xte))), reduction_indices=1)
# Prediction: Get min distance index (Nearest neighbor)
pred = tf.arg_min(distance, 0)

accuracy = 0.

# Initialize the variables (i.e. assign their default value)
init = tf.global_variables_initializer()

# Start training
with tf.Session() as sess:

    # Run the initializer
    sess.run(init)

    # loop over test data
    for i in range(len(Xte)):
        # Get nearest neighbor
        nn_index = sess.run(pred, feed_dict={xtr: Xtr, xte: Xte[i, :]})
        # Calculate accuracy
        if np.argmax(Ytr[nn_index]) == np.argmax(Yte[i]):
            accuracy += 1. / len(Xte)
        expected = np.abs(Xtr - Xte[i]).sum(axis=1).argmin()
        assert nn_index == expected, (nn_index, expected)
    print("Done!")
    print("Accuracy:", accuracy)
    assert accuracy > 0.9, accuracy
print("OK")

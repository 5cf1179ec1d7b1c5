"""tf.data in graph mode: from_tensor_slices(...).repeat().batch().prefetch(),
make_one_shot_iterator().get_next() feeding a model without feed_dict, an initializable
iterator over placeholders, and OutOfRangeError at the end of an epoch."""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

# Synthetic data: two Gaussian blobs
n = 512
features = np.concatenate([rs.normal(-1, 0.7, size=(n // 2, 2)),
                           rs.normal(1, 0.7, size=(n // 2, 2))]).astype(np.float32)
labels = np.concatenate([np.zeros(n // 2), np.ones(n // 2)]).astype(np.int64)

# Parameters
learning_rate = 0.1
num_steps = 100
batch_size = 32

# Create a dataset tensor from the images and the labels
dataset = tf.data.Dataset.from_tensor_slices((features, labels))
# Automatically refill the data queue when empty
dataset = dataset.shuffle(buffer_size=n).repeat()
# Create batches of data
dataset = dataset.batch(batch_size)
# Prefetch data for faster consumption
dataset = dataset.prefetch(batch_size)

# Create an iterator over the dataset
iterator = dataset.make_one_shot_iterator()
# Neural Net Input (images, labels)
X, Y = iterator.get_next()
assert X.get_shape().as_list()[-1] == 2, X.get_shape()

# Model: logistic regression with tf.layers.dense
logits = tf.layers.dense(X, 2)
loss_op = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
    logits=logits, labels=Y))
optimizer = tf.train.GradientDescentOptimizer(learning_rate=learning_rate)
train_op = optimizer.minimize(loss_op)
correct_pred = tf.equal(tf.argmax(logits, 1), Y)
accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

init = tf.global_variables_initializer()

with tf.Session() as sess:
    sess.run(init)
    losses = []
    # Training cycle: no feed_dict, the iterator feeds the graph
    for step in range(1, num_steps + 1):
        _, loss, acc = sess.run([train_op, loss_op, accuracy])
        losses.append(loss)
    print("first loss %.4f, last loss %.4f, last batch accuracy %.3f"
          % (losses[0], losses[-1], acc))
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    assert np.mean(losses[-10:]) < 0.3

# An initializable iterator over placeholders, one epoch at a time
tf.reset_default_graph()
x_ph = tf.placeholder(tf.float32, [None, 2])
y_ph = tf.placeholder(tf.int64, [None])
ds = tf.data.Dataset.from_tensor_slices((x_ph, y_ph)).batch(100)
it = ds.make_initializable_iterator()
next_x, next_y = it.get_next()
total = tf.reduce_sum(next_x)
with tf.Session() as sess:
    for epoch in range(2):
        sess.run(it.initializer, feed_dict={x_ph: features, y_ph: labels})
        seen, s = 0, 0.0
        while True:
            try:
                bx, bs = sess.run([next_x, total])
            except tf.errors.OutOfRangeError:
                break
            seen += len(bx)
            s += bs
        assert seen == n, seen
        np.testing.assert_allclose(s, features.sum(), rtol=1e-4)

# A dataset of a dict, mapped, with the last partial batch
tf.reset_default_graph()
ds = tf.data.Dataset.from_tensor_slices({"a": np.arange(10), "b": np.arange(10) * 2.0})
ds = ds.map(lambda d: (d["a"] * 2, d["b"] + 1.0)).batch(4)
a, b = ds.make_one_shot_iterator().get_next()
with tf.Session() as sess:
    sizes = []
    while True:
        try:
            va, vb = sess.run([a, b])
        except tf.errors.OutOfRangeError:
            break
        sizes.append(len(va))
        np.testing.assert_array_equal(vb, va + 1.0)
    assert sizes == [4, 4, 2], sizes
print("OK")

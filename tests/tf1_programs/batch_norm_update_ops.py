"""tf.layers.batch_normalization(training=) with the UPDATE_OPS idiom:
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)): train_op = ...;
moving statistics are updated only through the update ops, and used at inference."""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

data_x = (rs.normal(size=(512, 6)) * 3 + 5).astype(np.float32)
data_y = (data_x[:, 0] > 5).astype(np.int64)

x = tf.placeholder(tf.float32, [None, 6])
y = tf.placeholder(tf.int64, [None])
is_training = tf.placeholder(tf.bool, name="is_training")

h = tf.layers.dense(x, 16, use_bias=False)
h = tf.layers.batch_normalization(h, training=is_training, momentum=0.9)
h = tf.nn.relu(h)
logits = tf.layers.dense(h, 2)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
assert len(update_ops) == 2, update_ops  # moving mean and moving variance
with tf.control_dependencies(update_ops):
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss)

moving = [v for v in tf.global_variables() if "moving" in v.name]
assert sorted(v.name.split("/")[-1] for v in moving) == ["moving_mean:0",
                                                         "moving_variance:0"], moving
assert not any(v in tf.trainable_variables() for v in moving)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    mm0 = sess.run(moving[0])
    # inference alone leaves the moving statistics unchanged
    sess.run(logits, feed_dict={x: data_x, is_training: False})
    np.testing.assert_array_equal(sess.run(moving[0]), mm0)
    for step in range(100):
        i = (step * 64) % 448
        sess.run(train_op, feed_dict={x: data_x[i:i + 64], y: data_y[i:i + 64],
                                      is_training: True})
    mean_var = {v.name.split("/")[-1]: sess.run(v) for v in moving}
    assert not np.allclose(mean_var["moving_mean:0"], 0), mean_var
    # with training=False the layer normalizes with the moving statistics: the same input
    # gives the same output whatever the batch
    a = sess.run(logits, feed_dict={x: data_x[:5], is_training: False})
    b = sess.run(logits, feed_dict={x: data_x[:50], is_training: False})[:5]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    acc = sess.run(accuracy, feed_dict={x: data_x, y: data_y, is_training: False})
    print("accuracy with moving statistics:", acc)
    assert acc > 0.9, acc
print("OK")

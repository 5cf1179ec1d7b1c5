"""In-graph control flow as TF 1.x programs write it: tf.cond(pred, true_fn, false_fn) on a
fed boolean, tf.while_loop(cond, body, loop_vars), and a gradient through tf.cond."""

from __future__ import print_function

import numpy as np
import rillet as tf

is_training = tf.placeholder(tf.bool, name="is_training")
x = tf.placeholder(tf.float32, [None, 3])
# dropout only while training, the classic tf.cond idiom
out = tf.cond(is_training, lambda: tf.nn.dropout(x, 0.5), lambda: x)
assert out.get_shape().as_list() == [None, 3], out.get_shape()

# while_loop: sum of the integers below n
i = tf.constant(0)
n = tf.placeholder(tf.int32, [])
total = tf.constant(0)
_, result = tf.while_loop(lambda i, total: i < n, lambda i, total: (i + 1, total + i),
                          [i, total])

# gradient through a cond
w = tf.Variable(2.0)
y = tf.cond(w > 1.0, lambda: w * w, lambda: 3.0 * w)
dw, = tf.gradients(y, [w])

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    data = np.ones((1000, 3), np.float32)
    np.testing.assert_array_equal(sess.run(out, feed_dict={x: data, is_training: False}), data)
    dropped = sess.run(out, feed_dict={x: data, is_training: True})
    assert 0.3 < (dropped == 0).mean() < 0.7
    assert sess.run(result, feed_dict={n: 10}) == 45
    assert sess.run(dw) == 4.0
print("OK")

"""Learning-rate schedules and the global step: tf.train.exponential_decay(staircase=True),
minimize(global_step=), tf.train.get_global_step, MomentumOptimizer, compute_gradients +
clip_by_global_norm + apply_gradients, and tf.gradients."""

from __future__ import print_function

import numpy as np
import rillet as tf

rs = np.random.RandomState(0)
true_w = np.array([[2.0], [-3.0], [0.5]], dtype=np.float32)
data_x = rs.normal(size=(256, 3)).astype(np.float32)
data_y = data_x @ true_w + 0.01 * rs.normal(size=(256, 1)).astype(np.float32)

x = tf.placeholder(tf.float32, [None, 3])
y = tf.placeholder(tf.float32, [None, 1])
W = tf.Variable(tf.zeros([3, 1]), name="W")
b = tf.Variable(0.0, name="b")
pred = tf.matmul(x, W) + b
loss = tf.reduce_mean(tf.square(pred - y))

global_step = tf.train.get_or_create_global_step()
assert tf.train.get_global_step() is global_step
starter_learning_rate = 0.05
learning_rate = tf.train.exponential_decay(starter_learning_rate, global_step,
                                           20, 0.5, staircase=True)
optimizer = tf.train.MomentumOptimizer(learning_rate, 0.9)
train_op = optimizer.minimize(loss, global_step=global_step)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    assert sess.run(global_step) == 0
    np.testing.assert_allclose(sess.run(learning_rate), 0.05)
    for step in range(50):
        _, l = sess.run([train_op, loss], feed_dict={x: data_x, y: data_y})
    assert sess.run(global_step) == 50
    # staircase: 0.05 * 0.5 ** floor(50 / 20)
    np.testing.assert_allclose(sess.run(learning_rate), 0.0125, rtol=1e-6)
    final = sess.run(loss, feed_dict={x: data_x, y: data_y})
    print("loss after 50 momentum steps", final)
    assert final < 0.05, final

# compute_gradients / clip / apply_gradients, as in the RNN tutorials
tf.reset_default_graph()
x = tf.placeholder(tf.float32, [None, 3])
y = tf.placeholder(tf.float32, [None, 1])
W = tf.Variable(tf.zeros([3, 1]))
loss = tf.reduce_mean(tf.square(tf.matmul(x, W) - y))
global_step = tf.Variable(0, name='global_step', trainable=False)
optimizer = tf.train.AdamOptimizer(0.1)
grads_and_vars = optimizer.compute_gradients(loss)
assert len(grads_and_vars) == 1 and grads_and_vars[0][1] is W
gradients, variables = zip(*grads_and_vars)
gradients, global_norm = tf.clip_by_global_norm(gradients, 1.0)
train_op = optimizer.apply_gradients(zip(gradients, variables), global_step=global_step)
# tf.gradients returns one gradient per x
dW, = tf.gradients(loss, [W])
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    feed = {x: data_x, y: data_y}
    g = sess.run(dW, feed_dict=feed)
    expected = 2 * data_x.T @ (np.zeros((256, 1)) - data_y) / 256
    np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-5)
    first = sess.run(loss, feed_dict=feed)
    for _ in range(60):
        _, n = sess.run([train_op, global_norm], feed_dict=feed)
    assert sess.run(global_step) == 60
    assert sess.run(loss, feed_dict=feed) < first / 10
print("OK")

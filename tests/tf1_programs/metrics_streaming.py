"""tf.metrics.accuracy(labels=, predictions=) and tf.metrics.mean: (value, update_op) pairs over
local variables, initialized with tf.local_variables_initializer(), accumulated over batches."""

from __future__ import print_function

import numpy as np
import rillet as tf

rs = np.random.RandomState(0)

x = tf.placeholder(tf.float32, [None, 3])
y = tf.placeholder(tf.float32, [None, 3])
w = tf.Variable(tf.constant([[1., 0., 0.], [0., 1., 0.], [0., 0., 1.]]))
logits = tf.matmul(x, w)
pred = tf.nn.softmax(logits)
loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))

acc, acc_op = tf.metrics.accuracy(labels=tf.argmax(y, 1), predictions=tf.argmax(pred, 1))
mean_loss, mean_loss_op = tf.metrics.mean(loss)

assert len(tf.local_variables()) >= 2, tf.local_variables()
assert not any(v in tf.trainable_variables() for v in tf.local_variables())

data_x = rs.normal(size=(100, 3)).astype(np.float32)
data_y = np.eye(3, dtype=np.float32)[rs.randint(0, 3, size=100)]
data_y[:60] = np.eye(3, dtype=np.float32)[data_x[:60].argmax(axis=1)]  # 60 certainly right

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(tf.local_variables_initializer())
    batch_losses = []
    for i in range(0, 100, 25):
        feed = {x: data_x[i:i + 25], y: data_y[i:i + 25]}
        _, _, l = sess.run([acc_op, mean_loss_op, loss], feed_dict=feed)
        batch_losses.append(l)
    expected = np.mean(data_x.argmax(axis=1) == data_y.argmax(axis=1))
    got = sess.run(acc)
    print("streaming accuracy", got, "expected", expected)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(sess.run(mean_loss), np.mean(batch_losses), rtol=1e-5)

    # Running the value alone does not update it; re-initializing local variables resets it
    assert sess.run(acc) == got
    sess.run(tf.local_variables_initializer())
    assert sess.run(acc) == 0.0
    # the update op returns the updated value
    v = sess.run(acc_op, feed_dict={x: data_x[:60], y: data_y[:60]})
    assert v == 1.0, v

# Forgetting the local-variables initializer fails like TF (uninitialized value)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    try:
        sess.run(acc_op, feed_dict={x: data_x, y: data_y})
    except tf.errors.FailedPreconditionError as e:
        print("FailedPreconditionError as expected:", str(e).splitlines()[0])
    else:
        raise AssertionError("metric variables are local: they need "
                             "tf.local_variables_initializer()")
print("OK")

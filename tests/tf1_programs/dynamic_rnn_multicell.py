"""tf.nn.dynamic_rnn over a MultiRNNCell of DropoutWrapper(BasicLSTMCell), plus a BasicRNNCell
with an explicit initial_state, on a synthetic sequence task (the class of a sequence is the
sign of the sum of its first feature)."""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

n_steps = 10
n_inputs = 3
n_neurons = 24
n_layers = 2
n_outputs = 2
learning_rate = 0.01

X = tf.placeholder(tf.float32, [None, n_steps, n_inputs])
y = tf.placeholder(tf.int32, [None])
keep_prob = tf.placeholder_with_default(1.0, shape=(), name="keep_prob")

lstm_cells = [tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicLSTMCell(num_units=n_neurons),
                                            output_keep_prob=keep_prob)
              for layer in range(n_layers)]
multi_cell = tf.nn.rnn_cell.MultiRNNCell(lstm_cells)
outputs, states = tf.nn.dynamic_rnn(multi_cell, X, dtype=tf.float32)

# outputs: [batch, time, units]; states: one LSTMStateTuple per layer
assert outputs.get_shape().as_list() == [None, n_steps, n_neurons], outputs.get_shape()
assert len(states) == n_layers
top_layer_h_state = states[-1][1]

# the last output is the top layer's h state
last_output = outputs[:, -1, :]
# or, the tutorial way: transpose to time-major and gather the last step
val = tf.transpose(outputs, [1, 0, 2])
last = tf.gather(val, int(val.get_shape()[0]) - 1)

logits = tf.layers.dense(top_layer_h_state, n_outputs, name="softmax")
xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
loss = tf.reduce_mean(xentropy, name="loss")
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
training_op = optimizer.minimize(loss)
correct = tf.nn.in_top_k(logits, y, 1)
accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

init = tf.global_variables_initializer()


def make_data(n):
    x = rs.normal(0, 1, size=(n, n_steps, n_inputs)).astype(np.float32)
    return x, (x[:, :, 0].sum(axis=1) > 0).astype(np.int32)


X_train, y_train = make_data(800)
X_test, y_test = make_data(300)

with tf.Session() as sess:
    init.run()
    o, lo, la, h = sess.run([outputs, last_output, last, top_layer_h_state],
                            feed_dict={X: X_test[:4]})
    assert o.shape == (4, n_steps, n_neurons)
    np.testing.assert_allclose(lo, h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(la, h, rtol=1e-5, atol=1e-6)
    acc_before = accuracy.eval(feed_dict={X: X_test, y: y_test})
    for iteration in range(40):
        i = (iteration * 50) % 750
        X_batch, y_batch = X_train[i:i + 50], y_train[i:i + 50]
        sess.run(training_op, feed_dict={X: X_batch, y: y_batch, keep_prob: 0.9})
    acc_test = accuracy.eval(feed_dict={X: X_test, y: y_test})
    print("accuracy before", acc_before, "after", acc_test)
    assert acc_test > 0.8 and acc_test > acc_before, (acc_before, acc_test)

# A BasicRNNCell with an explicit initial state (zero_state) and sequence_length
tf.reset_default_graph()
batch_size = 4
inputs = tf.placeholder(tf.float32, [batch_size, n_steps, n_inputs])
seq_len = tf.placeholder(tf.int32, [batch_size])
cell = tf.nn.rnn_cell.BasicRNNCell(5)
initial_state = cell.zero_state(batch_size, dtype=tf.float32)
outputs, state = tf.nn.dynamic_rnn(cell, inputs, sequence_length=seq_len,
                                   initial_state=initial_state)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    data = rs.normal(size=(batch_size, n_steps, n_inputs)).astype(np.float32)
    lengths = np.array([n_steps, 3, 1, 7], dtype=np.int32)
    out, st = sess.run([outputs, state], feed_dict={inputs: data, seq_len: lengths})
    # past a sequence's length, outputs are zero and the state is carried through
    assert np.all(out[1, 3:] == 0) and np.all(out[2, 1:] == 0)
    for b in range(batch_size):
        np.testing.assert_allclose(st[b], out[b, lengths[b] - 1], rtol=1e-6)
print("OK")

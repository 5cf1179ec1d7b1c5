"""A bidirectional LSTM with tf.contrib.rnn.static_bidirectional_rnn (the tutorial's model) on a
synthetic task that needs both directions: is the first element larger than the last?"""

from __future__ import print_function

import numpy as np
import rillet as tf
from rillet.contrib import rnn

tf.set_random_seed(0)
rs = np.random.RandomState(0)

# Training Parameters
learning_rate = 0.01
training_steps = 60
batch_size = 64

# Network Parameters
num_input = 1
timesteps = 6
num_hidden = 16  # hidden layer num of features
num_classes = 2

# tf Graph input
X = tf.placeholder("float", [None, timesteps, num_input])
Y = tf.placeholder("float", [None, num_classes])

# Define weights
weights = {
    # Hidden layer weights => 2*n_hidden because of forward + backward cells
    'out': tf.Variable(tf.random_normal([2 * num_hidden, num_classes]))
}
biases = {
    'out': tf.Variable(tf.random_normal([num_classes]))
}


def BiRNN(x, weights, biases):
    # Unstack to get a list of 'timesteps' tensors of shape (batch_size, num_input)
    x = tf.unstack(x, timesteps, 1)

    # Define lstm cells with tensorflow
    # Forward direction cell
    lstm_fw_cell = rnn.BasicLSTMCell(num_hidden, forget_bias=1.0)
    # Backward direction cell
    lstm_bw_cell = rnn.BasicLSTMCell(num_hidden, forget_bias=1.0)

    # Get lstm cell output
    try:
        outputs, _, _ = rnn.static_bidirectional_rnn(lstm_fw_cell, lstm_bw_cell, x,
                                                     dtype=tf.float32)
    except Exception:  # Old TensorFlow version only returns outputs not states
        outputs = rnn.static_bidirectional_rnn(lstm_fw_cell, lstm_bw_cell, x,
                                               dtype=tf.float32)

    # Linear activation, using rnn inner loop last output
    return tf.matmul(outputs[-1], weights['out']) + biases['out']


logits = BiRNN(X, weights, biases)
prediction = tf.nn.softmax(logits)

# Define loss and optimizer
loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
    logits=logits, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
train_op = optimizer.minimize(loss_op)

# Evaluate model
correct_pred = tf.equal(tf.argmax(prediction, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

init = tf.global_variables_initializer()


def make_data(n):
    x = rs.uniform(-1, 1, size=(n, timesteps, num_input)).astype(np.float32)
    labels = (x[:, 0, 0] > x[:, -1, 0]).astype(np.int64)
    return x, np.eye(num_classes, dtype=np.float32)[labels]


train_x, train_y = make_data(1000)
test_x, test_y = make_data(300)

with tf.Session() as sess:
    sess.run(init)
    assert sess.run(logits, feed_dict={X: test_x[:3]}).shape == (3, num_classes)
    for step in range(1, training_steps + 1):
        i = (step * batch_size) % (len(train_x) - batch_size)
        sess.run(train_op, feed_dict={X: train_x[i:i + batch_size],
                                      Y: train_y[i:i + batch_size]})
    test_acc = sess.run(accuracy, feed_dict={X: test_x, Y: test_y})
    print("Testing Accuracy:", test_acc)
    assert test_acc > 0.8, test_acc
print("OK")

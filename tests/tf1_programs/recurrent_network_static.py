"""An LSTM classifier with tf.contrib.rnn: BasicLSTMCell + static_rnn over tf.unstack.

The tutorial's MNIST rows-as-timesteps model on a synthetic task: the class of a sequence is
the feature that is largest on average over the timesteps.
"""

from __future__ import print_function

import numpy as np
import rillet as tf
from rillet.contrib import rnn

tf.set_random_seed(0)
rs = np.random.RandomState(0)


def make_data(n):
    x = rs.normal(0, 1, size=(n, timesteps, num_input)).astype(np.float32)
    labels = x.mean(axis=1).argmax(axis=1)
    return x, np.eye(num_classes, dtype=np.float32)[labels]


# Training Parameters
learning_rate = 0.01
training_steps = 60
batch_size = 64
display_step = 20

# Network Parameters
num_input = 4  # data input (features per timestep)
timesteps = 8  # timesteps
num_hidden = 32  # hidden layer num of features
num_classes = 4

train_x, train_y = make_data(1000)
test_x, test_y = make_data(300)

# tf Graph input
X = tf.placeholder("float", [None, timesteps, num_input])
Y = tf.placeholder("float", [None, num_classes])

# Define weights
weights = {
    'out': tf.Variable(tf.random_normal([num_hidden, num_classes]))
}
biases = {
    'out': tf.Variable(tf.random_normal([num_classes]))
}


def RNN(x, weights, biases):

    # Prepare data shape to match `rnn` function requirements
    # Current data input shape: (batch_size, timesteps, n_input)
    # Required shape: 'timesteps' tensors list of shape (batch_size, n_input)

    # Unstack to get a list of 'timesteps' tensors of shape (batch_size, n_input)
    x = tf.unstack(x, timesteps, 1)

    # Define a lstm cell with tensorflow
    lstm_cell = rnn.BasicLSTMCell(num_hidden, forget_bias=1.0)

    # Get lstm cell output
    outputs, states = rnn.static_rnn(lstm_cell, x, dtype=tf.float32)

    assert len(outputs) == timesteps
    # state_is_tuple: (c, h), and h is the last output
    assert states.h is not None and states.c is not None

    # Linear activation, using rnn inner loop last output
    return tf.matmul(outputs[-1], weights['out']) + biases['out']


logits = RNN(X, weights, biases)
prediction = tf.nn.softmax(logits)

# Define loss and optimizer
loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
    logits=logits, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
train_op = optimizer.minimize(loss_op)

# Evaluate model
correct_pred = tf.equal(tf.argmax(prediction, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

# Initialize the variables (i.e. assign their default value)
init = tf.global_variables_initializer()

# Start training
with tf.Session() as sess:

    # Run the initializer
    sess.run(init)
    first_acc = sess.run(accuracy, feed_dict={X: test_x, Y: test_y})

    for step in range(1, training_steps + 1):
        i = (step * batch_size) % (len(train_x) - batch_size)
        batch_x, batch_y = train_x[i:i + batch_size], train_y[i:i + batch_size]
        # Reshape data to get 8 seq of 4 elements (the tutorial reshapes MNIST here)
        batch_x = batch_x.reshape((batch_size, timesteps, num_input))
        # Run optimization op (backprop)
        sess.run(train_op, feed_dict={X: batch_x, Y: batch_y})
        if step % display_step == 0 or step == 1:
            # Calculate batch loss and accuracy
            loss, acc = sess.run([loss_op, accuracy], feed_dict={X: batch_x,
                                                                 Y: batch_y})
            print("Step " + str(step) + ", Minibatch Loss= " +
                  "{:.4f}".format(loss) + ", Training Accuracy= " +
                  "{:.3f}".format(acc))

    print("Optimization Finished!")
    test_acc = sess.run(accuracy, feed_dict={X: test_x, Y: test_y})
    print("Testing Accuracy:", test_acc)
    assert test_acc > 0.7 and test_acc > first_acc + 0.2, (first_acc, test_acc)
print("OK")

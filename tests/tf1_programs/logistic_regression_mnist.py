"""Logistic regression on MNIST (tutorial style: softmax + hand-written cross entropy)."""

from __future__ import print_function

import os

import rillet as tf

# Import MNIST data
from rillet.examples.tutorials.mnist import input_data

mnist = input_data.read_data_sets(os.environ.get("MNIST_DIR", "/work/shared/data/mnist"),
                                  one_hot=True)

# Parameters
learning_rate = 0.5
training_epochs = 1
batch_size = 100
display_step = 1

# tf Graph Input
x = tf.placeholder(tf.float32, [None, 784])  # mnist data image of shape 28*28=784
y = tf.placeholder(tf.float32, [None, 10])  # 0-9 digits recognition => 10 classes

# Set model weights
W = tf.Variable(tf.zeros([784, 10]))
b = tf.Variable(tf.zeros([10]))

# Construct model
pred = tf.nn.softmax(tf.matmul(x, W) + b)  # Softmax

# Minimize error using cross entropy
cost = tf.reduce_mean(-tf.reduce_sum(y * tf.log(pred), reduction_indices=1))
# Gradient Descent
optimizer = tf.train.GradientDescentOptimizer(learning_rate).minimize(cost)

# Initialize the variables (i.e. assign their default value)
init = tf.global_variables_initializer()

# Start training
with tf.Session() as sess:
    sess.run(init)
    costs = []
    for epoch in range(training_epochs):
        avg_cost = 0.
        total_batch = 200  # int(mnist.train.num_examples/batch_size) in the tutorial
        for i in range(total_batch):
            batch_xs, batch_ys = mnist.train.next_batch(batch_size)
            _, c = sess.run([optimizer, cost], feed_dict={x: batch_xs, y: batch_ys})
            costs.append(c)
            avg_cost += c / total_batch
        if (epoch + 1) % display_step == 0:
            print("Epoch:", '%04d' % (epoch + 1), "cost=", "{:.9f}".format(avg_cost))

    print("Optimization Finished!")

    # Test model
    correct_prediction = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
    # Calculate accuracy
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    acc = accuracy.eval({x: mnist.test.images[:3000], y: mnist.test.labels[:3000]})
    print("Accuracy:", acc)
    assert acc > 0.85, acc
    assert sum(costs[-20:]) < sum(costs[:20])
print("OK")

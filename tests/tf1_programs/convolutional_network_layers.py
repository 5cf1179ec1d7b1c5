"""A convnet with tf.layers, built twice under variable_scope(reuse=) for train and test.

The classic tutorial's tf.layers model (conv2d / max_pooling2d / contrib.layers.flatten /
dense / dropout(training=)) with sparse softmax cross entropy, on a synthetic image task.
"""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(1)


def make_data(n):
    images = rs.uniform(0, 0.3, size=(n, 16, 16)).astype(np.float32)
    labels = rs.randint(0, 3, size=n)
    for img, lab in zip(images, labels):
        k = rs.randint(2, 14)
        if lab == 0:
            img[k, 2:14] = 1.0
        elif lab == 1:
            img[2:14, k] = 1.0
        else:
            idx = np.arange(2, 14)
            img[idx, 15 - idx] = 1.0
    return images.reshape(n, 256), labels.astype(np.int64)


train_x, train_y = make_data(500)
test_x, test_y = make_data(200)

# Training Parameters
learning_rate = 0.002
num_steps = 40
batch_size = 50

# Network Parameters
num_input = 256
num_classes = 3
dropout = 0.25  # Dropout, probability to drop a unit

X = tf.placeholder(tf.float32, [None, num_input])
Y = tf.placeholder(tf.int64, [None])


# Create the neural network
def conv_net(x, n_classes, dropout, reuse, is_training):
    # Define a scope for reusing the variables
    with tf.variable_scope('ConvNet', reuse=reuse):
        # Reshape to match picture format [Height x Width x Channel]
        x = tf.reshape(x, shape=[-1, 16, 16, 1])

        # Convolution Layer with 8 filters and a kernel size of 5
        conv1 = tf.layers.conv2d(x, 8, 5, activation=tf.nn.relu)
        # Max Pooling (down-sampling) with strides of 2 and kernel size of 2
        conv1 = tf.layers.max_pooling2d(conv1, 2, 2)

        # Convolution Layer with 16 filters and a kernel size of 3
        conv2 = tf.layers.conv2d(conv1, 16, 3, activation=tf.nn.relu)
        # Max Pooling (down-sampling) with strides of 2 and kernel size of 2
        conv2 = tf.layers.max_pooling2d(conv2, 2, 2)

        # Flatten the data to a 1-D vector for the fully connected layer
        fc1 = tf.contrib.layers.flatten(conv2)

        # Fully connected layer (in tf contrib folder for now)
        fc1 = tf.layers.dense(fc1, 64)
        # Apply Dropout (if is_training is False, dropout is not applied)
        fc1 = tf.layers.dropout(fc1, rate=dropout, training=is_training)

        # Output layer, class prediction
        out = tf.layers.dense(fc1, n_classes)

    return out


# Because Dropout have different behavior at training and prediction time, we
# need to create 2 distinct computation graphs that still share the same weights.
logits_train = conv_net(X, num_classes, dropout, reuse=False, is_training=True)
logits_test = conv_net(X, num_classes, dropout, reuse=True, is_training=False)

# Shapes are inferred at graph-building time
assert logits_train.get_shape().as_list() == [None, num_classes], logits_train.get_shape()

# The two graphs share their variables: 3 layers with kernel and bias
trainable = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope='ConvNet')
print([v.name for v in trainable])
assert len(trainable) == 8, [v.name for v in trainable]
assert len(tf.trainable_variables()) == 8
assert all(v.name.startswith('ConvNet/') for v in trainable)

# Define loss and optimizer (with train logits, for dropout to take effect)
loss_op = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
    logits=logits_train, labels=tf.cast(Y, dtype=tf.int32)))
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
train_op = optimizer.minimize(loss_op, global_step=tf.train.get_or_create_global_step())

# Evaluate model (with test logits, for dropout to be disabled)
pred_classes = tf.argmax(logits_test, axis=1)
accuracy = tf.reduce_mean(tf.cast(tf.equal(pred_classes, Y), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    # Deterministic at test time
    a, b = sess.run([logits_test, logits_test], feed_dict={X: test_x[:5]})
    assert np.allclose(sess.run(logits_test, feed_dict={X: test_x[:5]}), a)
    losses = []
    for step in range(num_steps):
        i = (step * batch_size) % len(train_x)
        _, loss = sess.run([train_op, loss_op], feed_dict={X: train_x[i:i + batch_size],
                                                           Y: train_y[i:i + batch_size]})
        losses.append(loss)
    acc = sess.run(accuracy, feed_dict={X: test_x, Y: test_y})
    print("first losses", losses[:3], "last losses", losses[-3:], "test accuracy", acc)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert acc > 0.8, acc
    assert sess.run(tf.train.get_global_step()) == num_steps
print("OK")

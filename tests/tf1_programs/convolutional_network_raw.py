"""A convolutional network with raw ops (tf.nn.conv2d / max_pool / dropout(keep_prob)).

The tutorial's MNIST model on a synthetic task: 16x16 images holding a horizontal, a vertical
or a diagonal line, flattened to 256 inputs as MNIST images are.
"""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)


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
            img[idx, idx] = 1.0
    return images.reshape(n, 256), np.eye(3, dtype=np.float32)[labels]


train_x, train_y = make_data(600)
test_x, test_y = make_data(200)

# Training Parameters
learning_rate = 0.001
num_steps = 40
batch_size = 50
display_step = 20

# Network Parameters
num_input = 256  # data input (img shape: 16*16)
num_classes = 3  # total classes
dropout = 0.75  # Dropout, probability to keep units

# tf Graph input
X = tf.placeholder(tf.float32, [None, num_input])
Y = tf.placeholder(tf.float32, [None, num_classes])
keep_prob = tf.placeholder(tf.float32)  # dropout (keep probability)


# Create some wrappers for simplicity
def conv2d(x, W, b, strides=1):
    # Conv2D wrapper, with bias and relu activation
    x = tf.nn.conv2d(x, W, strides=[1, strides, strides, 1], padding='SAME')
    x = tf.nn.bias_add(x, b)
    return tf.nn.relu(x)


def maxpool2d(x, k=2):
    # MaxPool2D wrapper
    return tf.nn.max_pool(x, ksize=[1, k, k, 1], strides=[1, k, k, 1],
                          padding='SAME')


# Create model
def conv_net(x, weights, biases, dropout):
    # Reshape to match picture format [Height x Width x Channel]
    # Tensor input become 4-D: [Batch Size, Height, Width, Channel]
    x = tf.reshape(x, shape=[-1, 16, 16, 1])

    # Convolution Layer
    conv1 = conv2d(x, weights['wc1'], biases['bc1'])
    # Max Pooling (down-sampling)
    conv1 = maxpool2d(conv1, k=2)

    # Convolution Layer
    conv2 = conv2d(conv1, weights['wc2'], biases['bc2'])
    # Max Pooling (down-sampling)
    conv2 = maxpool2d(conv2, k=2)

    # Fully connected layer
    # Reshape conv2 output to fit fully connected layer input
    fc1 = tf.reshape(conv2, [-1, weights['wd1'].get_shape().as_list()[0]])
    fc1 = tf.add(tf.matmul(fc1, weights['wd1']), biases['bd1'])
    fc1 = tf.nn.relu(fc1)
    # Apply Dropout
    fc1 = tf.nn.dropout(fc1, dropout)

    # Output, class prediction
    out = tf.add(tf.matmul(fc1, weights['out']), biases['out'])
    return out


# Store layers weight & bias
weights = {
    # 5x5 conv, 1 input, 8 outputs
    'wc1': tf.Variable(tf.random_normal([5, 5, 1, 8], stddev=0.1)),
    # 5x5 conv, 8 inputs, 16 outputs
    'wc2': tf.Variable(tf.random_normal([5, 5, 8, 16], stddev=0.1)),
    # fully connected, 4*4*16 inputs, 64 outputs
    'wd1': tf.Variable(tf.random_normal([4 * 4 * 16, 64], stddev=0.1)),
    # 64 inputs, 3 outputs (class prediction)
    'out': tf.Variable(tf.random_normal([64, num_classes], stddev=0.1))
}

biases = {
    'bc1': tf.Variable(tf.random_normal([8], stddev=0.1)),
    'bc2': tf.Variable(tf.random_normal([16], stddev=0.1)),
    'bd1': tf.Variable(tf.random_normal([64], stddev=0.1)),
    'out': tf.Variable(tf.random_normal([num_classes], stddev=0.1))
}

# Construct model
logits = conv_net(X, weights, biases, keep_prob)
prediction = tf.nn.softmax(logits)

# Define loss and optimizer
loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
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
    first_loss = sess.run(loss_op, feed_dict={X: train_x, Y: train_y, keep_prob: 1.0})

    for step in range(1, num_steps + 1):
        i = (step * batch_size) % len(train_x)
        batch_x, batch_y = train_x[i:i + batch_size], train_y[i:i + batch_size]
        # Run optimization op (backprop)
        sess.run(train_op, feed_dict={X: batch_x, Y: batch_y, keep_prob: dropout})
        if step % display_step == 0 or step == 1:
            # Calculate batch loss and accuracy
            loss, acc = sess.run([loss_op, accuracy], feed_dict={X: batch_x,
                                                                 Y: batch_y,
                                                                 keep_prob: 1.0})
            print("Step " + str(step) + ", Minibatch Loss= " +
                  "{:.4f}".format(loss) + ", Training Accuracy= " +
                  "{:.3f}".format(acc))

    print("Optimization Finished!")

    # Calculate accuracy for the test images
    test_acc = sess.run(accuracy, feed_dict={X: test_x, Y: test_y, keep_prob: 1.0})
    print("Testing Accuracy:", test_acc)
    last_loss = sess.run(loss_op, feed_dict={X: train_x, Y: train_y, keep_prob: 1.0})
    assert last_loss < first_loss, (first_loss, last_loss)
    assert test_acc > 0.8, test_acc

    # keep_prob semantics: tf.nn.dropout(x, 0.5) zeroes about half and scales the rest by 2
    ones = tf.ones([1000])
    dropped = sess.run(tf.nn.dropout(ones, 0.5))
    assert set(np.unique(dropped).tolist()) <= {0.0, 2.0}, np.unique(dropped)
    assert 350 < int((dropped == 0).sum()) < 650
print("OK")

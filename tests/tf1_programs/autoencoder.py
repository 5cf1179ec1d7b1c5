"""An autoencoder (sigmoid layers, tf.pow squared error, RMSPropOptimizer) on synthetic data
that lies near a low-dimensional subspace."""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

# Training Parameters
learning_rate = 0.01
num_steps = 200
batch_size = 64
display_step = 50

# Network Parameters
num_hidden_1 = 16  # 1st layer num features
num_hidden_2 = 4  # 2nd layer num features (the latent dim)
num_input = 32  # data input

# Data: sigmoid of a random 4-dimensional code, mixed into 32 dimensions
codes = rs.normal(size=(2000, 4))
mix = rs.normal(size=(4, num_input))
data = (1 / (1 + np.exp(-codes @ mix))).astype(np.float32)

# tf Graph input (only pictures)
X = tf.placeholder("float", [None, num_input])

weights = {
    'encoder_h1': tf.Variable(tf.random_normal([num_input, num_hidden_1])),
    'encoder_h2': tf.Variable(tf.random_normal([num_hidden_1, num_hidden_2])),
    'decoder_h1': tf.Variable(tf.random_normal([num_hidden_2, num_hidden_1])),
    'decoder_h2': tf.Variable(tf.random_normal([num_hidden_1, num_input])),
}
biases = {
    'encoder_b1': tf.Variable(tf.random_normal([num_hidden_1])),
    'encoder_b2': tf.Variable(tf.random_normal([num_hidden_2])),
    'decoder_b1': tf.Variable(tf.random_normal([num_hidden_1])),
    'decoder_b2': tf.Variable(tf.random_normal([num_input])),
}


# Building the encoder
def encoder(x):
    # Encoder Hidden layer with sigmoid activation #1
    layer_1 = tf.nn.sigmoid(tf.add(tf.matmul(x, weights['encoder_h1']),
                                   biases['encoder_b1']))
    # Encoder Hidden layer with sigmoid activation #2
    layer_2 = tf.nn.sigmoid(tf.add(tf.matmul(layer_1, weights['encoder_h2']),
                                   biases['encoder_b2']))
    return layer_2


# Building the decoder
def decoder(x):
    # Decoder Hidden layer with sigmoid activation #1
    layer_1 = tf.nn.sigmoid(tf.add(tf.matmul(x, weights['decoder_h1']),
                                   biases['decoder_b1']))
    # Decoder Hidden layer with sigmoid activation #2
    layer_2 = tf.nn.sigmoid(tf.add(tf.matmul(layer_1, weights['decoder_h2']),
                                   biases['decoder_b2']))
    return layer_2


# Construct model
encoder_op = encoder(X)
decoder_op = decoder(encoder_op)

# Prediction
y_pred = decoder_op
# Targets (Labels) are the input data.
y_true = X

# Define loss and optimizer, minimize the squared error
loss = tf.reduce_mean(tf.pow(y_true - y_pred, 2))
optimizer = tf.train.RMSPropOptimizer(learning_rate).minimize(loss)

# Initialize the variables (i.e. assign their default value)
init = tf.global_variables_initializer()

# Start Training
# Start a new TF session
with tf.Session() as sess:

    # Run the initializer
    sess.run(init)
    first = sess.run(loss, feed_dict={X: data})

    # Training
    for i in range(1, num_steps + 1):
        # Prepare Data
        # Get the next batch of data
        j = (i * batch_size) % (len(data) - batch_size)
        batch_x = data[j:j + batch_size]

        # Run optimization op (backprop) and cost op (to get loss value)
        _, l = sess.run([optimizer, loss], feed_dict={X: batch_x})
        # Display logs per step
        if i % display_step == 0 or i == 1:
            print('Step %i: Minibatch Loss: %f' % (i, l))

    last = sess.run(loss, feed_dict={X: data})
    code = sess.run(encoder_op, feed_dict={X: data[:5]})
    print("loss before %.4f after %.4f" % (first, last))
    assert code.shape == (5, num_hidden_2)
    assert last < first / 2, (first, last)

# RMSPropOptimizer(0.001, 0.9): learning_rate then decay, positionally
tf.reset_default_graph()
v = tf.Variable([1.0, -2.0])
opt = tf.train.RMSPropOptimizer(0.001, 0.9)
step = opt.minimize(tf.reduce_sum(tf.square(v)))
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(step)
    # TF 1.x initializes the "rms" slot to ones: ms = decay * 1 + (1 - decay) * g^2,
    # update = lr * g / sqrt(ms + eps)
    g = np.array([2.0, -4.0])
    expected = np.array([1.0, -2.0]) - 0.001 * g / np.sqrt(0.9 + 0.1 * g * g + 1e-10)
    np.testing.assert_allclose(sess.run(v), expected, rtol=1e-5)
print("OK")

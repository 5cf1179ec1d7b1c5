"""A convolutional autoencoder with tf.layers.conv2d(padding='same') / max_pooling2d /
conv2d_transpose(strides=) / average_pooling2d, plus tf.contrib.layers.fully_connected and an
L2 weight penalty with tf.nn.l2_loss, on synthetic 8x8 "blob" images."""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

yy, xx = np.mgrid[0:8, 0:8]


def make(n):
    cy, cx = rs.uniform(1, 7, size=(2, n, 1, 1))
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 3.0)[..., None].astype(np.float32)


data = make(512)

inputs_ = tf.placeholder(tf.float32, (None, 8, 8, 1), name='inputs')
targets_ = tf.placeholder(tf.float32, (None, 8, 8, 1), name='targets')

# Encoder
conv1 = tf.layers.conv2d(inputs_, 8, (3, 3), padding='same', activation=tf.nn.relu)
# Now 8x8x8
maxpool1 = tf.layers.max_pooling2d(conv1, (2, 2), (2, 2), padding='same')
# Now 4x4x8
conv2 = tf.layers.conv2d(maxpool1, 4, (3, 3), padding='same', activation=tf.nn.relu)
encoded = tf.layers.average_pooling2d(conv2, (2, 2), (2, 2), padding='same')
# Now 2x2x4
assert encoded.get_shape().as_list() == [None, 2, 2, 4], encoded.get_shape()

# Decoder
up1 = tf.layers.conv2d_transpose(encoded, 8, 3, strides=2, padding='same',
                                 activation=tf.nn.relu)
# Now 4x4x8
up2 = tf.layers.conv2d_transpose(up1, 8, 3, strides=(2, 2), padding='same',
                                 activation=tf.nn.relu)
# Now 8x8x8
assert up2.get_shape().as_list() == [None, 8, 8, 8], up2.get_shape()
logits = tf.layers.conv2d(up2, 1, (3, 3), padding='same', activation=None)
# Now 8x8x1
decoded = tf.nn.sigmoid(logits)

# Pass logits through sigmoid and calculate the cross-entropy loss
loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets_, logits=logits)
weights = [v for v in tf.trainable_variables() if v.name.endswith('kernel:0')]
assert len(weights) == 5, [v.name for v in tf.trainable_variables()]
l2 = tf.add_n([tf.nn.l2_loss(w) for w in weights])
cost = tf.reduce_mean(loss) + 1e-5 * l2
opt = tf.train.AdamOptimizer(0.01).minimize(cost)

sess = tf.Session()
sess.run(tf.global_variables_initializer())
mse = tf.reduce_mean(tf.square(decoded - targets_))
before = sess.run(mse, feed_dict={inputs_: data, targets_: data})
for e in range(60):
    i = (e * 64) % 448
    batch = data[i:i + 64]
    batch_cost, _ = sess.run([cost, opt], feed_dict={inputs_: batch, targets_: batch})
after = sess.run(mse, feed_dict={inputs_: data, targets_: data})
print("reconstruction MSE before %.4f after %.4f" % (before, after))
assert after < before / 2, (before, after)

# tf.nn.l2_loss is sum(t ** 2) / 2
assert sess.run(tf.nn.l2_loss(tf.constant([3.0, 4.0]))) == 12.5
sess.close()

# tf.contrib.layers.fully_connected (ReLU by default) and tf.nn.conv2d_transpose
tf.reset_default_graph()
x = tf.placeholder(tf.float32, [None, 5])
fc = tf.contrib.layers.fully_connected(x, 3)
lin = tf.contrib.layers.fully_connected(x, 3, activation_fn=None)
img = tf.placeholder(tf.float32, [2, 4, 4, 3])
kernel = tf.Variable(tf.random_normal([3, 3, 6, 3]))  # [h, w, out_channels, in_channels]
deconv = tf.nn.conv2d_transpose(img, kernel, output_shape=[2, 8, 8, 6],
                                strides=[1, 2, 2, 1], padding='SAME')
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    a, b_ = sess.run([fc, lin], feed_dict={x: rs.normal(size=(4, 5))})
    assert a.shape == (4, 3) and (a >= 0).all() and (b_ < 0).any()
    d = sess.run(deconv, feed_dict={img: rs.normal(size=(2, 4, 4, 3))})
    assert d.shape == (2, 8, 8, 6)
print("OK")

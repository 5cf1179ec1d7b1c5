"""Variable sharing and scopes: tf.get_variable with initializers, variable_scope(reuse=True),
scope.reuse_variables(), tf.AUTO_REUSE, name_scope vs variable_scope names, collections, and the
error for an accidental second variable of the same name."""

from __future__ import print_function

import numpy as np
import rillet as tf


def conv_relu(input, kernel_shape, bias_shape):
    # Create variable named "weights".
    weights = tf.get_variable("weights", kernel_shape,
                              initializer=tf.random_normal_initializer())
    # Create variable named "biases".
    biases = tf.get_variable("biases", bias_shape,
                             initializer=tf.constant_initializer(0.0))
    conv = tf.nn.conv2d(input, weights,
                        strides=[1, 1, 1, 1], padding='SAME')
    return tf.nn.relu(conv + biases)


def my_image_filter(input_images):
    with tf.variable_scope("conv1"):
        # Variables created here will be named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, 1, 4], [4])
    with tf.variable_scope("conv2"):
        # Variables created here will be named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, 4, 4], [4])


image1 = tf.placeholder(tf.float32, [None, 8, 8, 1])
image2 = tf.placeholder(tf.float32, [None, 8, 8, 1])

with tf.variable_scope("image_filters") as scope:
    result1 = my_image_filter(image1)
    scope.reuse_variables()
    result2 = my_image_filter(image2)

names = sorted(v.name for v in tf.global_variables())
print(names)
assert names == ['image_filters/conv1/biases:0', 'image_filters/conv1/weights:0',
                 'image_filters/conv2/biases:0', 'image_filters/conv2/weights:0'], names

# reuse=True in a re-opened scope
with tf.variable_scope("image_filters", reuse=True):
    w = tf.get_variable("conv1/weights")
assert w.name == 'image_filters/conv1/weights:0', w.name

# Creating the same variable twice without reuse is an error
try:
    with tf.variable_scope("image_filters"):
        tf.get_variable("conv1/weights", [5, 5, 1, 4])
except ValueError as e:
    assert "already exists" in str(e), str(e)
else:
    raise AssertionError("expected ValueError: Variable image_filters/conv1/weights already exists")

# Getting a variable that does not exist with reuse=True is an error
try:
    with tf.variable_scope("nope", reuse=True):
        tf.get_variable("v", [1])
except ValueError as e:
    assert "does not exist" in str(e), str(e)
else:
    raise AssertionError("expected ValueError: Variable nope/v does not exist")

# AUTO_REUSE
def shared_bias():
    with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
        return tf.get_variable("bias", [2], initializer=tf.zeros_initializer())


assert shared_bias() is shared_bias()

# name_scope does not prefix get_variable, but does prefix ops and tf.Variable
with tf.name_scope("ns"):
    gv = tf.get_variable("gv", [1])
    tv = tf.Variable(1.0, name="tv")
    op = tf.add(gv, tv, name="sum")
assert gv.name == "gv:0" and tv.name == "ns/tv:0" and op.name == "ns/sum:0", (gv.name,
                                                                               tv.name, op.name)

# variable_scope prefixes both
with tf.variable_scope("vs"):
    gv2 = tf.get_variable("gv", [1])
    op2 = tf.identity(gv2, name="id")
assert gv2.name == "vs/gv:0" and op2.name == "vs/id:0"

# trainable=False and collections
step = tf.Variable(0, trainable=False, name="step")
assert step not in tf.trainable_variables() and step in tf.global_variables()
tf.add_to_collection("my_things", op2)
assert tf.get_collection("my_things") == [op2]
assert len(tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="image_filters")) == 4

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    data = np.random.RandomState(0).normal(size=(2, 8, 8, 1)).astype(np.float32)
    r1, r2 = sess.run([result1, result2], feed_dict={image1: data, image2: data})
    np.testing.assert_array_equal(r1, r2)  # the same weights filter both images
    assert r1.shape == (2, 8, 8, 4)
print("OK")

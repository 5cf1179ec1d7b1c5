"""Eager execution as the TF 1.x eager tutorials use it: tf.enable_eager_execution(),
tfe = tf.contrib.eager, tensors mixed with NumPy, tfe.Variable, tfe.implicit_gradients with
optimizer.apply_gradients, and tfe.Iterator over a tf.data.Dataset."""

from __future__ import absolute_import, division, print_function

import numpy as np
import rillet as tf

# Set Eager API
print("Setting Eager mode...")
tf.enable_eager_execution()
tfe = tf.contrib.eager
assert tf.executing_eagerly()

# Define constant tensors
print("Define constant tensors")
a = tf.constant(2)
print("a = %i" % a)
b = tf.constant(3)
print("b = %i" % b)

# Run the operation without the need for tf.Session
print("Running operations, without tf.Session")
c = a + b
print("a + b = %i" % c)
d = a * b
print("a * b = %i" % d)
assert int(c) == 5 and int(d) == 6

# Full compatibility with Numpy
print("Mixing operations with Tensors and Numpy Arrays")

# Define constant tensors
a = tf.constant([[2., 1.],
                 [1., 0.]], dtype=tf.float32)
print("Tensor:\n a = %s" % a)
b = np.array([[3., 0.],
              [5., 1.]], dtype=np.float32)
print("NumpyArray:\n b = %s" % b)

# Run the operation without the need for tf.Session
print("Running operations, without tf.Session")

c = a + b
print("a + b = %s" % c)

d = tf.matmul(a, b)
print("a * b = %s" % d)
np.testing.assert_array_equal(d.numpy(), [[11., 1.], [3., 0.]])

print("Iterate through Tensor 'a':")
rows = []
for i in range(a.shape[0]):
    for j in range(a.shape[1]):
        rows.append(float(a[i][j]))
assert rows == [2., 1., 1., 0.]

# --- Linear regression with implicit_gradients -------------------------------------------
train_X = [3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167,
           7.042, 10.791, 5.313, 7.997, 5.654, 9.27, 3.1]
train_Y = [1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221,
           2.827, 3.465, 1.65, 2.904, 2.42, 2.94, 1.3]
n_samples = len(train_X)

# Parameters
learning_rate = 0.01
display_step = 100
num_steps = 300

# Weight and Bias
W = tfe.Variable(np.random.RandomState(0).randn())
b = tfe.Variable(np.random.RandomState(1).randn())


# Linear regression (Wx + b)
def linear_regression(inputs):
    return inputs * W + b


# Mean square error
def mean_square_fn(model_fn, inputs, labels):
    return tf.reduce_sum(tf.pow(model_fn(inputs) - labels, 2)) / (2 * n_samples)


# SGD Optimizer
optimizer = tf.train.GradientDescentOptimizer(learning_rate=learning_rate)
# Compute gradients
grad = tfe.implicit_gradients(mean_square_fn)

# Initial cost, before optimizing
initial_cost = mean_square_fn(linear_regression, train_X, train_Y)
print("Initial cost= {:.9f}".format(initial_cost),
      "W=", W.numpy(), "b=", b.numpy())

# Training
for step in range(num_steps):

    optimizer.apply_gradients(grad(linear_regression, train_X, train_Y))

    if (step + 1) % display_step == 0 or step == 0:
        print("Epoch:", '%04d' % (step + 1), "cost=",
              "{:.9f}".format(mean_square_fn(linear_regression, train_X, train_Y)),
              "W=", W.numpy(), "b=", b.numpy())

final_cost = float(mean_square_fn(linear_regression, train_X, train_Y))
assert final_cost < float(initial_cost) and final_cost < 0.2, (initial_cost, final_cost)

# --- Logistic regression over a dataset with tfe.Iterator --------------------------------
rs = np.random.RandomState(0)
images = rs.normal(size=(400, 10)).astype(np.float32)
labels = (images[:, :3].sum(axis=1) > 0).astype(np.int64)
dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(50)
dataset_iter = tfe.Iterator(dataset)

W2 = tfe.Variable(tf.zeros([10, 2]), name='weights')
b2 = tfe.Variable(tf.zeros([2]), name='bias')


def logistic_regression(inputs):
    return tf.matmul(inputs, W2) + b2


def loss_fn(inference_fn, inputs, labels):
    # Using sparse_softmax cross entropy
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        logits=inference_fn(inputs), labels=labels))


def accuracy_fn(inference_fn, inputs, labels):
    prediction = tf.nn.softmax(inference_fn(inputs))
    correct_pred = tf.equal(tf.argmax(prediction, 1), labels)
    return tf.reduce_mean(tf.cast(correct_pred, tf.float32))


optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.5)
grad = tfe.implicit_gradients(loss_fn)
batches = 0
for d in dataset_iter:
    x_batch, y_batch = d
    optimizer.apply_gradients(grad(logistic_regression, x_batch, y_batch))
    batches += 1
assert batches == 8, batches
acc = float(accuracy_fn(logistic_regression, images, labels))
print("Accuracy:", acc)
assert acc > 0.85, acc

# GradientTape works too
x = tf.constant(3.0)
with tf.GradientTape() as tape:
    tape.watch(x)
    y = x * x
assert float(tape.gradient(y, x)) == 6.0
print("OK")

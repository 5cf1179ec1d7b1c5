"""The "advanced" TensorBoard tutorial's idioms: tf.gradients + apply_gradients(grads_and_vars=),
histograms of every trainable variable named by var.name (":0" is not a legal tag character and
becomes "_0") and of its gradient, activation histograms, an image summary with max_outputs,
and FileWriter(logdir, sess.graph) read back by TensorBoard."""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

logs_path = './tensorflow_logs/advanced/'
x = tf.placeholder(tf.float32, [None, 16], name='InputData')
y = tf.placeholder(tf.float32, [None, 2], name='LabelData')

weights = {
    'w1': tf.Variable(tf.random_normal([16, 8]), name='W1'),
    'w2': tf.Variable(tf.random_normal([8, 2]), name='W2'),
}
biases = {
    'b1': tf.Variable(tf.random_normal([8]), name='b1'),
    'b2': tf.Variable(tf.random_normal([2]), name='b2'),
}


def multilayer_perceptron(x, weights, biases):
    layer_1 = tf.add(tf.matmul(x, weights['w1']), biases['b1'])
    layer_1 = tf.nn.relu(layer_1)
    # Create a summary to visualize the first layer ReLU activation
    tf.summary.histogram("relu1", layer_1)
    return tf.add(tf.matmul(layer_1, weights['w2']), biases['b2'])


with tf.name_scope('Model'):
    pred = multilayer_perceptron(x, weights, biases)
with tf.name_scope('Loss'):
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=y))
with tf.name_scope('SGD'):
    optimizer = tf.train.GradientDescentOptimizer(0.05)
    # Op to calculate every variable gradient
    grads = tf.gradients(loss, tf.trainable_variables())
    grads = list(zip(grads, tf.trainable_variables()))
    # Op to update all variables according to their gradient
    apply_grads = optimizer.apply_gradients(grads_and_vars=grads)
with tf.name_scope('Accuracy'):
    acc = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
    acc = tf.reduce_mean(tf.cast(acc, tf.float32))

init = tf.global_variables_initializer()

tf.summary.scalar("loss", loss)
tf.summary.scalar("accuracy", acc)
# Summarize all variables
for var in tf.trainable_variables():
    tf.summary.histogram(var.name, var)
# Summarize all gradients
for grad, var in grads:
    tf.summary.histogram(var.name + '/gradient', grad)
tf.summary.image('input', tf.reshape(x, [-1, 4, 4, 1]), max_outputs=2)
merged_summary_op = tf.summary.merge_all()

data_x = rs.normal(size=(200, 16)).astype(np.float32)
data_y = np.eye(2, dtype=np.float32)[(data_x[:, :4].sum(axis=1) > 0).astype(int)]

with tf.Session() as sess:
    sess.run(init)
    summary_writer = tf.summary.FileWriter(logs_path, sess.graph)
    first = sess.run(loss, feed_dict={x: data_x, y: data_y})
    for step in range(40):
        i = (step * 40) % 160
        _, c, summary = sess.run([apply_grads, loss, merged_summary_op],
                                 feed_dict={x: data_x[i:i + 40], y: data_y[i:i + 40]})
        summary_writer.add_summary(summary, step)
    summary_writer.flush()
    last = sess.run(loss, feed_dict={x: data_x, y: data_y})
    print("loss %.4f -> %.4f" % (first, last))
    assert last < first

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError:
    EventAccumulator = None
if EventAccumulator is not None:
    ea = EventAccumulator(logs_path, size_guidance={"scalars": 0, "histograms": 0,
                                                     "images": 0})
    ea.Reload()
    tags = ea.Tags()
    print(tags)
    for t in ["W1_0", "W2_0", "b1_0", "b2_0", "W1_0/gradient", "b2_0/gradient"]:
        assert t in tags["histograms"], (t, tags["histograms"])
    assert "Model/relu1" in tags["histograms"], tags["histograms"]
    assert tags["images"] == ["input/image/0", "input/image/1"], tags["images"]
    assert len(ea.Scalars("loss_1")) == 40
    img = ea.Images("input/image/0")[-1]
    assert (img.width, img.height) == (4, 4), (img.width, img.height)
    assert tags["graph"]
print("OK")

"""Seed 003's "almost practical example": an MNIST MLP (500 and 100 hidden units) organised with
name scopes, cross entropy + Adam 1e-3, batch 100, summaries every N steps, a saved model; plus
the seed's smaller examples (InteractiveSession, device placement, a growing scalar summary,
tf.summary.merge of chosen summaries)."""

from __future__ import print_function

import glob
import os

import numpy as np
import rillet as tf
from rillet.examples.tutorials.mnist import input_data

# --- The seed's small examples -------------------------------------------------------------

# Variables print as tensors; values come from a session.
a = tf.Variable(3, name="a")
b = tf.Variable(4, name="b")
c = a * b
sess = tf.InteractiveSession()
sess.run(tf.global_variables_initializer())
assert c.eval() == 12
res = c.eval()
sess.close()
assert res == 12  # a fetched result outlives the session

# Shapes with None wildcards are checked at graph-building time
p = tf.placeholder(tf.float32, [None, 3])
assert p.get_shape().as_list() == [None, 3]
try:
    tf.matmul(p, tf.zeros([4, 2]))
except ValueError as e:
    print("Shape error caught at graph-building time:", e)
else:
    raise AssertionError("matmul of [None, 3] by [4, 2] should fail at graph-building time")

# Choosing devices
with tf.device("/cpu:0"):
    m1 = tf.constant([[1., 2.]])
    m2 = tf.constant([[3.], [4.]])
    product = tf.matmul(m1, m2)
with tf.Session(config=tf.ConfigProto(log_device_placement=False)) as sess:
    assert sess.run(product)[0, 0] == 11.0

# A scalar summary of a value that grows with every update
tf.reset_default_graph()
a = tf.constant(5, name="a")
b = tf.constant(10, name="b")
c = tf.Variable(a * b, name="c")
update = tf.assign_add(c, tf.random_uniform([], 0, 100, dtype=tf.int32))
c_summary = tf.summary.scalar("c", c)
other_summary = tf.summary.scalar("c_times_two", c * 2)
merged = tf.summary.merge([c_summary])
with tf.Session() as sess:
    writer = tf.summary.FileWriter("./logs/counter", sess.graph)
    sess.run(tf.global_variables_initializer())
    for i in range(100):
        summary, _ = sess.run([merged, update])
        writer.add_summary(summary, i)
    writer.close()
    assert sess.run(c) > 50

# --- The MNIST network ---------------------------------------------------------------------
tf.reset_default_graph()
tf.set_random_seed(0)
mnist = input_data.read_data_sets(os.environ.get("MNIST_DIR", "/work/shared/data/mnist"),
                                  one_hot=True)

with tf.name_scope("input"):
    x = tf.placeholder(tf.float32, [None, 784], name="x-input")
    y_ = tf.placeholder(tf.float32, [None, 10], name="y-input")


def nn_layer(input_tensor, input_dim, output_dim, layer_name, act=tf.nn.relu):
    with tf.name_scope(layer_name):
        with tf.name_scope("weights"):
            weights = tf.Variable(tf.truncated_normal([input_dim, output_dim], stddev=0.1))
        with tf.name_scope("biases"):
            biases = tf.Variable(tf.constant(0.1, shape=[output_dim]))
        with tf.name_scope("Wx_plus_b"):
            preactivate = tf.matmul(input_tensor, weights) + biases
        return act(preactivate, name="activation")


hidden1 = nn_layer(x, 784, 500, "layer1")
hidden2 = nn_layer(hidden1, 500, 100, "layer2")
y = nn_layer(hidden2, 100, 10, "layer3", act=tf.identity)

with tf.name_scope("cross_entropy"):
    cross_entropy = tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))
tf.summary.scalar("cross_entropy", cross_entropy)

with tf.name_scope("train"):
    train_step = tf.train.AdamOptimizer(1e-3).minimize(cross_entropy)

with tf.name_scope("accuracy"):
    with tf.name_scope("correct_prediction"):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    with tf.name_scope("accuracy"):
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
tf.summary.scalar("accuracy", accuracy)

assert hidden1.op.name == "layer1/activation", hidden1.op.name
assert cross_entropy.op.name.startswith("cross_entropy/"), cross_entropy.op.name

merged = tf.summary.merge_all()
saver = tf.train.Saver()

summary_every = 20
num_steps = 60
with tf.Session() as sess:
    train_writer = tf.summary.FileWriter("./logs/mnist/train", sess.graph)
    sess.run(tf.global_variables_initializer())
    for i in range(num_steps):
        batch_xs, batch_ys = mnist.train.next_batch(100)
        if i % summary_every == 0:
            summary, _ = sess.run([merged, train_step], feed_dict={x: batch_xs, y_: batch_ys})
            train_writer.add_summary(summary, i)
        else:
            sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys})
    train_writer.close()
    test_acc = sess.run(accuracy, feed_dict={x: mnist.test.images[:2000],
                                             y_: mnist.test.labels[:2000]})
    print("test accuracy %g" % test_acc)
    assert test_acc > 0.85, test_acc
    tf.gfile.MakeDirs("./model")
    save_path = saver.save(sess, "./model/mnist_mlp.ckpt")
    print("Model saved in file: %s" % save_path)

assert glob.glob("./logs/mnist/train/events.out.tfevents.*")
assert tf.train.checkpoint_exists(save_path)

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError:
    EventAccumulator = None
if EventAccumulator is not None:
    ea = EventAccumulator("./logs/mnist/train")
    ea.Reload()
    assert [e.step for e in ea.Scalars("cross_entropy_1")] == list(range(0, num_steps,
                                                                          summary_every))
    counter = EventAccumulator("./logs/counter")
    counter.Reload()
    # only the merged summary; its tag is "c_1" because the variable "c" holds the name "c"
    assert counter.Tags()["scalars"] == ["c_1"], counter.Tags()
    values = [e.value for e in counter.Scalars("c_1")]
    assert len(values) == 100 and np.all(np.diff(values) >= 0)
print("OK")

"""Switching between training and validation data with a feedable iterator (the TF 1.4+
"Importing Data" guide: Iterator.from_string_handle + string_handle()), and logging the
validation accuracy with a hand-built tf.Summary(value=[tf.Summary.Value(tag, simple_value)])."""

from __future__ import print_function

import glob

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)


def make(n):
    x = rs.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


train_x, train_y = make(400)
val_x, val_y = make(100)

training_dataset = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(400).repeat()
training_dataset = training_dataset.batch(32)
validation_dataset = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(100)

# A feedable iterator is defined by a handle placeholder and its structure.
handle = tf.placeholder(tf.string, shape=[])
iterator = tf.data.Iterator.from_string_handle(
    handle, training_dataset.output_types, training_dataset.output_shapes)
features, labels = iterator.get_next()

training_iterator = training_dataset.make_one_shot_iterator()
validation_iterator = validation_dataset.make_initializable_iterator()

logits = tf.layers.dense(features, 2)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                      logits=logits))
train_op = tf.train.AdamOptimizer(0.05).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter('./logs/val', sess.graph)
    # The `Iterator.string_handle()` method returns a tensor that can be evaluated
    # and used to feed the `handle` placeholder.
    training_handle = sess.run(training_iterator.string_handle())
    validation_handle = sess.run(validation_iterator.string_handle())
    for epoch in range(4):
        for _ in range(20):
            sess.run(train_op, feed_dict={handle: training_handle})
        sess.run(validation_iterator.initializer)
        val_acc = sess.run(accuracy, feed_dict={handle: validation_handle})
        summary = tf.Summary(value=[tf.Summary.Value(tag="val_accuracy",
                                                     simple_value=val_acc)])
        writer.add_summary(summary, epoch)
        print("epoch %d validation accuracy %.3f" % (epoch, val_acc))
    writer.close()
    assert val_acc > 0.9, val_acc

assert glob.glob('./logs/val/events.out.tfevents.*')
try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError:
    EventAccumulator = None
if EventAccumulator is not None:
    ea = EventAccumulator('./logs/val')
    ea.Reload()
    assert [e.step for e in ea.Scalars("val_accuracy")] == [0, 1, 2, 3]
print("OK")

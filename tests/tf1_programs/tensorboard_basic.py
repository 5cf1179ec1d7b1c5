"""TensorBoard basics: name_scope, summary.scalar/histogram, merge_all,
FileWriter(logdir, graph=tf.get_default_graph()), add_summary(summary, step); the event file
is then read back with TensorBoard's own reader."""

from __future__ import print_function

import glob
import os

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

# Parameters
learning_rate = 0.1
training_epochs = 5
batch_size = 50
display_epoch = 1
logs_path = './tensorflow_logs/example/'

train_x = rs.normal(size=(300, 20)).astype(np.float32)
true_w = rs.normal(size=(20, 4))
train_y = np.eye(4, dtype=np.float32)[(train_x @ true_w).argmax(axis=1)]

# tf Graph Input
# data input of shape [None, 20]
x = tf.placeholder(tf.float32, [None, 20], name='InputData')
# 4 classes
y = tf.placeholder(tf.float32, [None, 4], name='LabelData')

# Set model weights
W = tf.Variable(tf.zeros([20, 4]), name='Weights')
b = tf.Variable(tf.zeros([4]), name='Bias')

# Construct model and encapsulating all ops into scopes, making
# Tensorboard's Graph visualization more convenient
with tf.name_scope('Model'):
    # Model
    pred = tf.nn.softmax(tf.matmul(x, W) + b)  # Softmax
with tf.name_scope('Loss'):
    # Minimize error using cross entropy
    cost = tf.reduce_mean(-tf.reduce_sum(y * tf.log(pred), reduction_indices=1))
with tf.name_scope('SGD'):
    # Gradient Descent
    optimizer = tf.train.GradientDescentOptimizer(learning_rate).minimize(cost)
with tf.name_scope('Accuracy'):
    # Accuracy
    acc = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
    acc = tf.reduce_mean(tf.cast(acc, tf.float32))

assert pred.op.name.startswith('Model/'), pred.op.name
assert cost.op.name.startswith('Loss/'), cost.op.name
with tf.name_scope('outer'):
    with tf.name_scope('inner'):
        nested = tf.constant(1.0, name='c')
assert nested.op.name == 'outer/inner/c', nested.op.name

# Initialize the variables (i.e. assign their default value)
init = tf.global_variables_initializer()

# Create a summary to monitor cost tensor
tf.summary.scalar("loss", cost)
# Create a summary to monitor accuracy tensor
tf.summary.scalar("accuracy", acc)
# Create summaries to visualize weights
tf.summary.histogram("weights", W)
# Merge all summaries into a single op
merged_summary_op = tf.summary.merge_all()

# Start training
with tf.Session() as sess:

    # Run the initializer
    sess.run(init)

    # op to write logs to Tensorboard
    summary_writer = tf.summary.FileWriter(logs_path, graph=tf.get_default_graph())

    # Training cycle
    for epoch in range(training_epochs):
        avg_cost = 0.
        total_batch = int(len(train_x) / batch_size)
        # Loop over all batches
        for i in range(total_batch):
            batch_xs = train_x[i * batch_size:(i + 1) * batch_size]
            batch_ys = train_y[i * batch_size:(i + 1) * batch_size]
            # Run optimization op (backprop), cost op (to get loss value)
            # and summary nodes
            _, c, summary = sess.run([optimizer, cost, merged_summary_op],
                                     feed_dict={x: batch_xs, y: batch_ys})
            # Write logs at every iteration
            summary_writer.add_summary(summary, epoch * total_batch + i)
            # Compute average loss
            avg_cost += c / total_batch
        # Display logs per epoch step
        if (epoch + 1) % display_epoch == 0:
            print("Epoch:", '%04d' % (epoch + 1), "cost=", "{:.9f}".format(avg_cost))

    print("Optimization Finished!")

    # Test model
    final_acc = acc.eval({x: train_x, y: train_y})
    print("Accuracy:", final_acc)
    assert final_acc > 0.8, final_acc
    summary_writer.close()

print("Run the command line:\n"
      "--> tensorboard --logdir=./tensorflow_logs "
      "\nThen open http://0.0.0.0:6006/ into your web browser")

event_files = glob.glob(os.path.join(logs_path, "events.out.tfevents.*"))
assert len(event_files) == 1, event_files

# Read the events back with TensorBoard (when it is installed)
try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError:
    EventAccumulator = None
if EventAccumulator is not None:
    ea = EventAccumulator(logs_path, size_guidance={"scalars": 0, "histograms": 0})
    ea.Reload()
    tags = ea.Tags()
    print(tags)
    # As in TF, names are made unique case-insensitively: 'Loss', 'Accuracy' and 'Weights'
    # exist, so the summaries' tags are 'loss_1', 'accuracy_1' and 'weights_1'.
    assert tags["scalars"] == ["loss_1", "accuracy_1"], tags
    assert tags["histograms"] == ["weights_1"], tags
    assert tags["graph"], tags
    losses = ea.Scalars("loss_1")
    assert [e.step for e in losses] == list(range(training_epochs * total_batch))
    assert losses[-1].value < losses[0].value
    assert ea.Scalars("accuracy_1")[-1].value > 0.5
    assert len(ea.Histograms("weights_1")) == len(losses)
print("OK")

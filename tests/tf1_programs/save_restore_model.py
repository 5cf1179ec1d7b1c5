"""Save and restore a model: tf.train.Saver, get_checkpoint_state, checkpoint_exists,
ckpt.model_checkpoint_path, save(global_step=), latest_checkpoint, Saver(var_list)."""

from __future__ import print_function

import os

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

checkpoint_dir = "./ckpt_dir"
if not tf.gfile.Exists(checkpoint_dir):
    tf.gfile.MakeDirs(checkpoint_dir)
model_path = os.path.join(checkpoint_dir, "model.ckpt")

# Synthetic 2-class data
train_x = rs.normal(size=(200, 5)).astype(np.float32)
train_y = np.eye(2, dtype=np.float32)[(train_x.sum(axis=1) > 0).astype(int)]

# Network
x = tf.placeholder("float", [None, 5], name="x")
y = tf.placeholder("float", [None, 2], name="y")
weights = {
    'h1': tf.Variable(tf.random_normal([5, 16]), name='h1'),
    'out': tf.Variable(tf.random_normal([16, 2]), name='w_out'),
}
biases = {
    'b1': tf.Variable(tf.random_normal([16]), name='b1'),
    'out': tf.Variable(tf.random_normal([2]), name='b_out'),
}
layer_1 = tf.nn.relu(tf.add(tf.matmul(x, weights['h1']), biases['b1']))
pred = tf.add(tf.matmul(layer_1, weights['out']), biases['out'], name="pred")
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=pred, labels=y))
global_step = tf.Variable(0, name='global_step', trainable=False)
optimizer = tf.train.AdamOptimizer(learning_rate=0.01).minimize(cost, global_step=global_step)

init = tf.global_variables_initializer()

# 'Saver' op to save and restore all the variables
saver = tf.train.Saver()

print("Starting 1st session...")
with tf.Session() as sess:
    sess.run(init)
    for epoch in range(3):
        for i in range(0, 200, 50):
            _, c = sess.run([optimizer, cost], feed_dict={x: train_x[i:i + 50],
                                                          y: train_y[i:i + 50]})
        saver.save(sess, model_path, global_step=global_step)
    # Save model weights to disk
    save_path = saver.save(sess, model_path)
    print("Model saved in file: %s" % save_path)
    assert save_path == model_path, save_path
    saved_h1, saved_cost = sess.run([weights['h1'], cost], feed_dict={x: train_x, y: train_y})
    saved_step = sess.run(global_step)
    assert saved_step == 12, saved_step

# Running a new session
print("Starting 2nd session...")
with tf.Session() as sess:
    # Restore model weights from previously saved model
    ckpt = tf.train.get_checkpoint_state(checkpoint_dir)
    assert ckpt and ckpt.model_checkpoint_path, ckpt
    print("Checkpoint:", ckpt.model_checkpoint_path)
    assert tf.train.checkpoint_exists(ckpt.model_checkpoint_path)
    # the last save (without global_step) is the latest one
    assert os.path.basename(ckpt.model_checkpoint_path) == "model.ckpt"
    assert len(ckpt.all_model_checkpoint_paths) >= 2
    saver.restore(sess, ckpt.model_checkpoint_path)
    print("Model restored from file: %s" % ckpt.model_checkpoint_path)
    restored_h1, restored_cost = sess.run([weights['h1'], cost],
                                          feed_dict={x: train_x, y: train_y})
    np.testing.assert_array_equal(restored_h1, saved_h1)
    np.testing.assert_allclose(restored_cost, saved_cost, rtol=1e-6)
    assert sess.run(global_step) == saved_step
    # Resume training
    for i in range(0, 200, 50):
        sess.run(optimizer, feed_dict={x: train_x[i:i + 50], y: train_y[i:i + 50]})
    assert sess.run(global_step) == saved_step + 4

# Restore the graph itself from the .meta file and look tensors up by name
tf.reset_default_graph()
with tf.Session() as sess:
    new_saver = tf.train.import_meta_graph(model_path + '.meta')
    new_saver.restore(sess, model_path)
    graph = tf.get_default_graph()
    x_in = graph.get_tensor_by_name("x:0")
    pred_out = graph.get_tensor_by_name("pred:0")
    h1_restored = sess.run(graph.get_tensor_by_name("h1:0"))
    np.testing.assert_array_equal(h1_restored, saved_h1)
    assert sess.run(pred_out, feed_dict={x_in: train_x[:7]}).shape == (7, 2)

# A step-numbered checkpoint restores the values at that step
tf.reset_default_graph()
global_step = tf.Variable(0, name='global_step', trainable=False)
saver = tf.train.Saver([global_step])
assert tf.train.checkpoint_exists(model_path + "-8")
assert not tf.train.checkpoint_exists(model_path + "-999")
latest = tf.train.latest_checkpoint(checkpoint_dir)
assert latest is not None and latest.endswith("model.ckpt"), latest
with tf.Session() as sess:
    saver.restore(sess, model_path + "-8")
    assert sess.run(global_step) == 8

# Saver over an explicit var_list (tf.global_variables()) in a fresh graph, by variable name
tf.reset_default_graph()
h1 = tf.Variable(tf.zeros([5, 16]), name='h1')
other = tf.Variable(tf.ones([3]), name='not_in_checkpoint')
saver2 = tf.train.Saver([h1])
assert len(tf.global_variables()) == 2
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    saver2.restore(sess, model_path)
    np.testing.assert_array_equal(sess.run(h1), saved_h1)
    np.testing.assert_array_equal(sess.run(other), np.ones(3))

# Restoring a variable that the checkpoint lacks is a NotFoundError
tf.reset_default_graph()
missing = tf.Variable(tf.zeros([2]), name='missing_var')
saver3 = tf.train.Saver(tf.global_variables())
with tf.Session() as sess:
    try:
        saver3.restore(sess, model_path)
    except tf.errors.NotFoundError as e:
        print("NotFoundError as expected:", str(e).splitlines()[0])
    else:
        raise AssertionError("restoring a missing variable should fail")
print("OK")

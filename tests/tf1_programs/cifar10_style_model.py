"""The CIFAR-10 tutorial's model code (cifar10.py) on small synthetic images: variables with
weight decay through tf.get_variable + tf.add_to_collection('losses'), conv + lrn + pooling,
reshape.get_shape()[1].value, tf.nn.zero_fraction summaries, moving averages of the losses
and of the variables with tf.train.ExponentialMovingAverage, control_dependencies and a
tf.no_op train op, and evaluation with tf.nn.in_top_k."""

from __future__ import print_function

import re

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

IMAGE_SIZE = 8
NUM_CLASSES = 3
NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN = 600
MOVING_AVERAGE_DECAY = 0.9999  # The decay to use for the moving average.
NUM_EPOCHS_PER_DECAY = 350.0  # Epochs after which learning rate decays.
LEARNING_RATE_DECAY_FACTOR = 0.1  # Learning rate decay factor.
INITIAL_LEARNING_RATE = 0.1  # Initial learning rate.
TOWER_NAME = 'tower'
batch_size = 50


def _activation_summary(x):
    tensor_name = re.sub('%s_[0-9]*/' % TOWER_NAME, '', x.op.name)
    tf.summary.histogram(tensor_name + '/activations', x)
    tf.summary.scalar(tensor_name + '/sparsity', tf.nn.zero_fraction(x))


def _variable_on_cpu(name, shape, initializer):
    with tf.device('/cpu:0'):
        dtype = tf.float32
        var = tf.get_variable(name, shape, initializer=initializer, dtype=dtype)
    return var


def _variable_with_weight_decay(name, shape, stddev, wd):
    dtype = tf.float32
    var = _variable_on_cpu(
        name,
        shape,
        tf.truncated_normal_initializer(stddev=stddev, dtype=dtype))
    if wd is not None:
        weight_decay = tf.multiply(tf.nn.l2_loss(var), wd, name='weight_loss')
        tf.add_to_collection('losses', weight_decay)
    return var


def inference(images):
    # conv1
    with tf.variable_scope('conv1') as scope:
        kernel = _variable_with_weight_decay('weights', shape=[3, 3, 3, 16],
                                             stddev=5e-2, wd=None)
        conv = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], padding='SAME')
        biases = _variable_on_cpu('biases', [16], tf.constant_initializer(0.0))
        pre_activation = tf.nn.bias_add(conv, biases)
        conv1 = tf.nn.relu(pre_activation, name=scope.name)
        _activation_summary(conv1)

    # pool1
    pool1 = tf.nn.max_pool(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1],
                           padding='SAME', name='pool1')
    # norm1
    norm1 = tf.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75,
                      name='norm1')

    # local3
    with tf.variable_scope('local3') as scope:
        # Move everything into depth so we can perform a single matrix multiply.
        reshape = tf.reshape(norm1, [images.get_shape().as_list()[0], -1])
        dim = reshape.get_shape()[1].value
        weights = _variable_with_weight_decay('weights', shape=[dim, 32],
                                              stddev=0.04, wd=0.004)
        biases = _variable_on_cpu('biases', [32], tf.constant_initializer(0.1))
        local3 = tf.nn.relu(tf.matmul(reshape, weights) + biases, name=scope.name)
        _activation_summary(local3)

    # linear layer(WX + b),
    with tf.variable_scope('softmax_linear') as scope:
        weights = _variable_with_weight_decay('weights', [32, NUM_CLASSES],
                                              stddev=1 / 32.0, wd=None)
        biases = _variable_on_cpu('biases', [NUM_CLASSES],
                                  tf.constant_initializer(0.0))
        softmax_linear = tf.add(tf.matmul(local3, weights), biases, name=scope.name)
        _activation_summary(softmax_linear)

    return softmax_linear


def loss(logits, labels):
    # Calculate the average cross entropy loss across the batch.
    labels = tf.cast(labels, tf.int64)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, name='cross_entropy_per_example')
    cross_entropy_mean = tf.reduce_mean(cross_entropy, name='cross_entropy')
    tf.add_to_collection('losses', cross_entropy_mean)

    # The total loss is defined as the cross entropy loss plus all of the weight
    # decay terms (L2 loss).
    return tf.add_n(tf.get_collection('losses'), name='total_loss')


def _add_loss_summaries(total_loss):
    # Compute the moving average of all individual losses and the total loss.
    loss_averages = tf.train.ExponentialMovingAverage(0.9, name='avg')
    losses = tf.get_collection('losses')
    loss_averages_op = loss_averages.apply(losses + [total_loss])

    # Attach a scalar summary to all individual losses and the total loss; do the
    # same for the averaged version of the losses.
    for l in losses + [total_loss]:
        # Name each loss as '(raw)' and name the moving average version of the loss
        # as the original loss name.
        tf.summary.scalar(l.op.name + ' (raw)', l)
        tf.summary.scalar(l.op.name, loss_averages.average(l))

    return loss_averages_op


def train(total_loss, global_step):
    # Variables that affect learning rate.
    num_batches_per_epoch = NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN / batch_size
    decay_steps = int(num_batches_per_epoch * NUM_EPOCHS_PER_DECAY)

    # Decay the learning rate exponentially based on the number of steps.
    lr = tf.train.exponential_decay(INITIAL_LEARNING_RATE,
                                    global_step,
                                    decay_steps,
                                    LEARNING_RATE_DECAY_FACTOR,
                                    staircase=True)
    tf.summary.scalar('learning_rate', lr)

    # Generate moving averages of all losses and associated summaries.
    loss_averages_op = _add_loss_summaries(total_loss)

    # Compute gradients.
    with tf.control_dependencies([loss_averages_op]):
        opt = tf.train.GradientDescentOptimizer(lr)
        grads = opt.compute_gradients(total_loss)

    # Apply gradients.
    apply_gradient_op = opt.apply_gradients(grads, global_step=global_step)

    # Add histograms for trainable variables.
    for var in tf.trainable_variables():
        tf.summary.histogram(var.op.name, var)

    # Add histograms for gradients.
    for grad, var in grads:
        if grad is not None:
            tf.summary.histogram(var.op.name + '/gradients', grad)

    # Track the moving averages of all trainable variables.
    variable_averages = tf.train.ExponentialMovingAverage(
        MOVING_AVERAGE_DECAY, global_step)
    with tf.control_dependencies([apply_gradient_op]):
        variables_averages_op = variable_averages.apply(tf.trainable_variables())

    return variables_averages_op, variable_averages


def make_data(n):
    labels = rs.randint(0, NUM_CLASSES, size=n)
    images = rs.normal(0, 0.5, size=(n, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)
    images[np.arange(n), :, :, labels] += 1.0  # the class is the brightest channel
    return images, labels.astype(np.int32)


train_images, train_labels = make_data(NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN)
test_images, test_labels = make_data(200)

global_step = tf.train.get_or_create_global_step()
images = tf.placeholder(tf.float32, [batch_size, IMAGE_SIZE, IMAGE_SIZE, 3])
labels = tf.placeholder(tf.int32, [batch_size])
logits = inference(images)
total_loss = loss(logits, labels)
train_op, variable_averages = train(total_loss, global_step)
top_k_op = tf.nn.in_top_k(logits, labels, 1)
summary_op = tf.summary.merge_all()

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    writer = tf.summary.FileWriter('./cifar10_train', sess.graph)
    losses = []
    for step in range(60):
        i = (step * batch_size) % NUM_EXAMPLES_PER_EPOCH_FOR_TRAIN
        feed = {images: train_images[i:i + batch_size], labels: train_labels[i:i + batch_size]}
        _, loss_value = sess.run([train_op, total_loss], feed_dict=feed)
        assert not np.isnan(loss_value), 'Model diverged with loss = NaN'
        losses.append(loss_value)
        if step % 20 == 0:
            writer.add_summary(sess.run(summary_op, feed_dict=feed), step)
    writer.close()
    assert sess.run(global_step) == 60
    true_count = 0
    for i in range(0, 200, batch_size):
        predictions = sess.run(top_k_op, feed_dict={images: test_images[i:i + batch_size],
                                                    labels: test_labels[i:i + batch_size]})
        true_count += np.sum(predictions)
    precision = true_count / 200.0
    print('precision @ 1 = %.3f, loss %.3f -> %.3f' % (precision, losses[0], losses[-1]))
    assert precision > 0.8, precision
    assert np.mean(losses[-5:]) < np.mean(losses[:5])

    # The shadow variables exist, and can be restored in place of the variables for eval
    variables_to_restore = variable_averages.variables_to_restore()
    assert 'conv1/weights/ExponentialMovingAverage' in variables_to_restore, \
        sorted(variables_to_restore)
    shadow = sess.run(variable_averages.average(tf.trainable_variables()[0]))
    assert shadow.shape == tuple(tf.trainable_variables()[0].get_shape().as_list())
print("OK")

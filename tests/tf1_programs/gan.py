"""A GAN on 1-D data: two networks in variable scopes, each trained with minimize(var_list=)
taken from tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope=...), the discriminator
called twice with reuse=True; plus the weights-dict GAN's glorot_init idiom."""

from __future__ import print_function

import numpy as np
import rillet as tf

tf.set_random_seed(0)
rs = np.random.RandomState(0)

# Training Params
num_steps = 300
batch_size = 64
learning_rate = 0.005

# Network Params
gen_hidden_dim = 16
disc_hidden_dim = 16
noise_dim = 4  # Noise data points

real_mean, real_std = 3.0, 0.5


# Generator
def generator(x, reuse=False):
    with tf.variable_scope('Generator', reuse=reuse):
        x = tf.layers.dense(x, units=gen_hidden_dim, activation=tf.nn.relu, name='h1')
        x = tf.layers.dense(x, units=1, name='out')
        return x


# Discriminator
def discriminator(x, reuse=False):
    with tf.variable_scope('Discriminator', reuse=reuse):
        x = tf.layers.dense(x, units=disc_hidden_dim, activation=tf.nn.relu, name='h1')
        x = tf.layers.dense(x, units=1, name='out')
    return x


# Network Inputs
noise_input = tf.placeholder(tf.float32, shape=[None, noise_dim])
real_input = tf.placeholder(tf.float32, shape=[None, 1])

# Build Generator Network
gen_sample = generator(noise_input)

# Build 2 Discriminator Networks (one from real samples, one from generated samples)
disc_real = discriminator(real_input)
disc_fake = discriminator(gen_sample, reuse=True)

# Build Loss
disc_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
    logits=disc_real, labels=tf.ones_like(disc_real)) +
    tf.nn.sigmoid_cross_entropy_with_logits(
    logits=disc_fake, labels=tf.zeros_like(disc_fake)))
gen_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
    logits=disc_fake, labels=tf.ones_like(disc_fake)))

# Build Optimizers
optimizer_gen = tf.train.AdamOptimizer(learning_rate=learning_rate, beta1=0.5)
optimizer_disc = tf.train.AdamOptimizer(learning_rate=learning_rate, beta1=0.5)

# Training Variables for each optimizer
# By default in TensorFlow, all variables are updated by each optimizer, so we
# need to precise for each one of them the specific variables to update.
# Generator Network Variables
gen_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope='Generator')
# Discriminator Network Variables
disc_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope='Discriminator')
print([v.name for v in gen_vars], [v.name for v in disc_vars])
assert [v.name for v in gen_vars] == ['Generator/h1/kernel:0', 'Generator/h1/bias:0',
                                      'Generator/out/kernel:0', 'Generator/out/bias:0']
assert len(disc_vars) == 4  # shared by both discriminator calls

# Create training operations
train_gen = optimizer_gen.minimize(gen_loss, var_list=gen_vars)
train_disc = optimizer_disc.minimize(disc_loss, var_list=disc_vars)

# Initialize the variables (i.e. assign their default value)
init = tf.global_variables_initializer()

# Start Training
with tf.Session() as sess:

    # Run the initializer
    sess.run(init)

    gen_before = sess.run(gen_vars)
    disc_before = sess.run(disc_vars)
    z = rs.uniform(-1., 1., size=[batch_size, noise_dim])
    sess.run(train_disc, feed_dict={real_input: rs.normal(real_mean, real_std, (batch_size, 1)),
                                    noise_input: z})
    # var_list: training the discriminator leaves the generator alone
    for a, b in zip(gen_before, sess.run(gen_vars)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(disc_before, sess.run(disc_vars)))

    start_mean = sess.run(gen_sample, feed_dict={noise_input: z}).mean()
    for i in range(1, num_steps + 1):
        batch_x = rs.normal(real_mean, real_std, size=(batch_size, 1))
        # Generate noise to feed to the generator
        z = rs.uniform(-1., 1., size=[batch_size, noise_dim])

        # Train
        feed_dict = {real_input: batch_x, noise_input: z}
        _, _, gl, dl = sess.run([train_gen, train_disc, gen_loss, disc_loss],
                                feed_dict=feed_dict)
        if i % 100 == 0 or i == 1:
            print('Step %i: Generator Loss: %f, Discriminator Loss: %f' % (i, gl, dl))

    z = rs.uniform(-1., 1., size=[1000, noise_dim])
    samples = sess.run(gen_sample, feed_dict={noise_input: z})
    print("generated mean %.3f (started at %.3f), real mean %.1f"
          % (samples.mean(), start_mean, real_mean))
    assert np.isfinite(gl) and np.isfinite(dl)
    assert abs(samples.mean() - real_mean) < abs(start_mean - real_mean) / 2

# The weights-dict GAN: a custom initializer built from tf.random_normal and tf.sqrt
tf.reset_default_graph()


def glorot_init(shape):
    return tf.random_normal(shape=shape, stddev=1. / tf.sqrt(shape[0] / 2.))


w = tf.Variable(glorot_init([200, 50]))
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    std = sess.run(w).std()
    assert abs(std - 0.1) < 0.01, std
print("OK")

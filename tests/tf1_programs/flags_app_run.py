"""tf.app.flags, tf.app.run(main), tf.logging and tf.gfile, as tutorial main programs use them
(both the FLAGS style and the argparse + tf.app.run(main=, argv=) style)."""

from __future__ import print_function

import argparse
import os
import subprocess
import sys

import rillet as tf

flags = tf.app.flags
flags.DEFINE_string('data_dir', './data', 'Directory for storing input data')
flags.DEFINE_string('log_dir', './logs/flags_example', 'Summaries log directory')
flags.DEFINE_integer('max_steps', 20, 'Number of steps to run trainer.')
flags.DEFINE_float('learning_rate', 0.5, 'Initial learning rate.')
flags.DEFINE_boolean('fake_data', False, 'If true, uses fake data for unit testing.')
flags.DEFINE_boolean('use_fp16', False, """Train the model using fp16.""")
FLAGS = flags.FLAGS

tf.logging.set_verbosity(tf.logging.INFO)


def train():
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.zeros([2, 1]))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    train_op = tf.train.GradientDescentOptimizer(FLAGS.learning_rate).minimize(loss)
    xs = [[1., 0.], [0., 1.], [1., 1.]]
    ys = [[1.], [2.], [3.]]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(FLAGS.max_steps):
            _, l = sess.run([train_op, loss], feed_dict={x: xs, y: ys})
            if step % 10 == 0:
                tf.logging.info("step %d, loss %f", step, l)
    return l


def main(argv=None):
    if FLAGS.fake_data:
        # the child run below: flags given on the command line
        assert FLAGS.max_steps == 30 and FLAGS.learning_rate == 0.25, FLAGS.max_steps
        assert FLAGS.data_dir == '/tmp/x'
        print("child OK")
        return
    assert FLAGS.data_dir == './data' and FLAGS.max_steps == 20
    assert FLAGS.learning_rate == 0.5 and FLAGS.fake_data is False
    if tf.gfile.Exists(FLAGS.log_dir):
        tf.gfile.DeleteRecursively(FLAGS.log_dir)
    tf.gfile.MakeDirs(FLAGS.log_dir)
    assert tf.gfile.Exists(FLAGS.log_dir) and tf.gfile.IsDirectory(FLAGS.log_dir)
    with tf.gfile.GFile(os.path.join(FLAGS.log_dir, 'notes.txt'), 'w') as f:
        f.write('hello\n')
    with tf.gfile.FastGFile(os.path.join(FLAGS.log_dir, 'notes.txt'), 'rb') as f:
        assert f.read() == b'hello\n'
    assert tf.gfile.Glob(os.path.join(FLAGS.log_dir, '*.txt'))
    assert tf.gfile.ListDirectory(FLAGS.log_dir) == ['notes.txt']
    final_loss = train()
    assert final_loss < 0.05, final_loss
    tf.logging.info("final loss %f", final_loss)

    # The argparse style: parse known args, pass the rest to tf.app.run
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch_size', type=int, default=100)
    parsed, unparsed = parser.parse_known_args(['--batch_size', '7', '--other=1'])
    assert parsed.batch_size == 7 and unparsed == ['--other=1']

    # Flags from the command line, and tf.app.run(main=, argv=)
    out = subprocess.run([sys.executable, __file__, '--max_steps=30', '--learning_rate', '0.25',
                          '--batch_size=5', '--data_dir=/tmp/x', '--fake_data'],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "child OK" in out.stdout, (out.stdout, out.stderr)
    print("OK")


if __name__ == '__main__':
    if len(sys.argv) == 1:
        tf.app.run()
    else:
        parser = argparse.ArgumentParser()
        parser.add_argument('--batch_size', type=int, default=100)
        ARGS, unparsed = parser.parse_known_args()
        assert ARGS.batch_size == 5, ARGS
        tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)

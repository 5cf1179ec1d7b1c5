"""Seed 000's linear regression ("TensorFlow: the confusing parts"), unchanged except for the
import: ``import rillet as tf``. 100,000 steps of ``sess.run([loss, train_op], feed_dict=...)``
with ``GradientDescentOptimizer(1e-3)`` learn ``m`` and ``b`` to 4 decimals.

    python examples/linear_regression.py             # prints every 10,000th step
    python examples/linear_regression.py --every 1   # every step, as in the article
    python examples/linear_regression.py --steps 20000 --quiet
"""

import argparse
import random

import rillet as tf


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100000, help="training steps")
    parser.add_argument("--every", type=int, default=10000, help="print every N-th step")
    parser.add_argument("--quiet", action="store_true", help="print only the parameters")
    parser.add_argument("--seed", type=int, default=None, help="seed Python's random")
    args = parser.parse_args(argv)
    if args.seed is not None:
        random.seed(args.seed)

    ### build the graph
    ## first set up the parameters
    m = tf.get_variable("m", [], initializer=tf.constant_initializer(0.))
    b = tf.get_variable("b", [], initializer=tf.constant_initializer(0.))
    init = tf.global_variables_initializer()

    ## then set up the computations
    input_placeholder = tf.placeholder(tf.float32)
    output_placeholder = tf.placeholder(tf.float32)

    x = input_placeholder
    y = output_placeholder
    y_guess = m * x + b

    loss = tf.square(y - y_guess)

    ## finally, set up the optimizer and minimization node
    optimizer = tf.train.GradientDescentOptimizer(1e-3)
    train_op = optimizer.minimize(loss)

    ### start the session
    sess = tf.Session()
    sess.run(init)

    ### perform the training loop
    ## set up problem
    true_m = random.random()
    true_b = random.random()

    for update_i in range(args.steps):
        ## (1) get the input and output
        input_data = random.random()
        output_data = true_m * input_data + true_b

        ## (2), (3), and (4) all take place within a single call to sess.run()!
        _loss, _ = sess.run([loss, train_op], feed_dict={input_placeholder: input_data,
                                                         output_placeholder: output_data})
        if not args.quiet and (update_i % args.every == 0 or update_i == args.steps - 1):
            print(update_i, _loss)

    ### finally, print out the values we learned for our two variables
    print("True parameters: m=%.4f, b=%.4f" % (true_m, true_b))  # noqa: UP031
    learned = tuple(sess.run([m, b]))
    print("Learned parameters: m=%.4f, b=%.4f" % learned)  # noqa: UP031
    return (true_m, true_b), learned


if __name__ == "__main__":
    main()

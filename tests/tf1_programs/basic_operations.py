"""Basic operations (constants, placeholders without shape, matmul), as in the classic tutorials."""

from __future__ import print_function

import rillet as tf

# Basic constant operations
a = tf.constant(2)
b = tf.constant(3)

with tf.Session() as sess:
    print("a=2, b=3")
    print("Addition with constants: %i" % sess.run(a + b))
    print("Multiplication with constants: %i" % sess.run(a * b))
    assert sess.run(a + b) == 5
    assert sess.run(a * b) == 6

# Basic operations with variable as graph input (placeholders without shape)
a = tf.placeholder(tf.int16)
b = tf.placeholder(tf.int16)
add = tf.add(a, b)
mul = tf.multiply(a, b)

with tf.Session() as sess:
    print("Addition with variables: %i" % sess.run(add, feed_dict={a: 2, b: 3}))
    print("Multiplication with variables: %i" % sess.run(mul, feed_dict={a: 2, b: 3}))
    assert sess.run(add, feed_dict={a: 2, b: 3}) == 5
    assert sess.run(mul, feed_dict={a: 2, b: 3}) == 6

# Matrix multiplication
matrix1 = tf.constant([[3., 3.]])
matrix2 = tf.constant([[2.], [2.]])
product = tf.matmul(matrix1, matrix2)

with tf.Session() as sess:
    result = sess.run(product)
    print(result)
    assert result.shape == (1, 1) and result[0, 0] == 12.0

# The computation path: a fetch that does not depend on an unfed placeholder runs.
input_placeholder = tf.placeholder(tf.int32)
three_node = tf.constant(3)
sum_node = input_placeholder + three_node
sess = tf.Session()
assert sess.run(three_node) == 3
try:
    sess.run(sum_node)
except tf.errors.InvalidArgumentError as e:
    assert "You must feed a value for placeholder tensor" in str(e), str(e)
else:
    raise AssertionError("expected InvalidArgumentError for the unfed placeholder")
answer, inspection = sess.run([sum_node, [three_node, input_placeholder]],
                              feed_dict={input_placeholder: 2})
assert answer == 5 and list(inspection) == [3, 2]
sess.close()

# Variables, assign, and the uninitialized-value error
count_variable = tf.get_variable("count", [])
zero_node = tf.constant(0.)
assign_node = tf.assign(count_variable, zero_node)
sess = tf.Session()
try:
    sess.run(count_variable)
except tf.errors.FailedPreconditionError as e:
    assert "Attempting to use uninitialized value count" in str(e), str(e)
else:
    raise AssertionError("expected FailedPreconditionError")
sess.run(assign_node)
assert sess.run(count_variable) == 0.0

# tf.Print is an identity op whose printing is a side effect
two_node = tf.constant(2)
three_node = tf.constant(3)
sum_node = two_node + three_node
print_sum_node = tf.Print(sum_node, [two_node, three_node])
assert sess.run(print_sum_node) == 5

# Tensor.eval / Operation.run under a default session
x = tf.placeholder("float", [None, 3])
v = tf.Variable(tf.zeros([3]), name="v")
inc = tf.assign_add(v, tf.reduce_sum(x, 0))
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    inc.op.run(feed_dict={x: [[1., 2., 3.]]})
    assert list(v.eval()) == [1., 2., 3.]
    assert (x * 2).eval(feed_dict={x: [[1., 1., 1.]]}).tolist() == [[2., 2., 2.]]
print("OK")

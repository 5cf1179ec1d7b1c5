"""The positional and keyword forms TF 1.x tutorials use for array and math ops, each checked
against NumPy: one_hot(indices, depth, on, off), split(x, num, 0), concat(values, 0),
squeeze(squeeze_dims=), reduce_sum(reduction_indices=), random_uniform(shape, -1., 1.),
cast(x, "float"), argmax(x, 1), unstack(x, num, 1), transpose, gather, stack, expand_dims,
arg_min, and friends."""

from __future__ import print_function

import numpy as np
import rillet as tf

sess = tf.Session()
run = sess.run

# one_hot(indices, depth, on_value, off_value), positionally
oh = tf.one_hot([0, 2, 1], 3, 1.0, 0.0)
np.testing.assert_array_equal(run(oh), np.eye(3)[[0, 2, 1]])
oh2 = tf.one_hot(tf.constant([1, 0]), depth=2, on_value=5, off_value=-1)
np.testing.assert_array_equal(run(oh2), [[-1, 5], [5, -1]])

# split(value, num_or_size_splits, axis)
x = np.arange(24, dtype=np.float32).reshape(4, 6)
parts = tf.split(x, 2, 0)
assert len(parts) == 2
np.testing.assert_array_equal(run(parts[1]), x[2:])
a, b, c = tf.split(x, [1, 2, 3], 1)
np.testing.assert_array_equal(run(c), x[:, 3:])

# concat(values, axis), positional and keyword
np.testing.assert_array_equal(run(tf.concat([parts[0], parts[1]], 0)), x)
np.testing.assert_array_equal(run(tf.concat([a, b, c], axis=1)), x)

# squeeze with the TF 1.x keyword squeeze_dims
y = tf.constant(np.zeros((3, 1, 2, 1)))
assert run(tf.squeeze(y, squeeze_dims=[1])).shape == (3, 2, 1)
assert run(tf.squeeze(y, [3])).shape == (3, 1, 2)
assert run(tf.squeeze(y)).shape == (3, 2)

# reductions: reduction_indices= and axis=, keepdims=, keep_dims=
np.testing.assert_array_equal(run(tf.reduce_sum(x, reduction_indices=[1])), x.sum(1))
np.testing.assert_array_equal(run(tf.reduce_sum(x, reduction_indices=1)), x.sum(1))
np.testing.assert_array_equal(run(tf.reduce_sum(x, axis=0)), x.sum(0))
np.testing.assert_array_equal(run(tf.reduce_sum(x, 1, keepdims=True)), x.sum(1, keepdims=True))
np.testing.assert_array_equal(run(tf.reduce_mean(x, 0, keep_dims=True)),
                              x.mean(0, keepdims=True))
assert run(tf.reduce_max(x)) == 23 and run(tf.reduce_min(x)) == 0
np.testing.assert_allclose(run(tf.reduce_mean(x, 1)), x.mean(1))

# random_uniform(shape, minval, maxval) positionally; random_normal / truncated_normal
r = run(tf.random_uniform([1000], -1., 1.))
assert r.min() >= -1 and r.max() < 1 and abs(r.mean()) < 0.1
e = run(tf.random_uniform([50, 10], -1.0, 1.0))
assert e.shape == (50, 10) and e.dtype == np.float32
n = run(tf.random_normal([2000], mean=1.0, stddev=2.0))
assert abs(n.mean() - 1.0) < 0.2 and abs(n.std() - 2.0) < 0.2
t = run(tf.truncated_normal([2000], stddev=0.1))
assert np.abs(t).max() <= 0.2 + 1e-6

# cast with a dtype string; argmax/argmin positional axis; equal; arg_min
v = tf.constant([[1., 5., 2.], [7., 0., 3.]])
am = tf.argmax(v, 1)
np.testing.assert_array_equal(run(am), [1, 0])
assert run(am).dtype == np.int64
np.testing.assert_array_equal(run(tf.argmin(v, 0)), [0, 1, 0])
np.testing.assert_array_equal(run(tf.arg_min(v, 1)), [0, 1])
eq = tf.equal(am, tf.constant([1, 1], dtype=tf.int64))
fl = tf.cast(eq, "float")
assert fl.dtype == tf.float32
np.testing.assert_array_equal(run(fl), [1., 0.])
assert run(tf.reduce_mean(tf.cast(eq, tf.float32))) == 0.5
assert tf.cast(v, dtype=tf.int32).dtype == tf.int32

# unstack(value, num, axis) / stack
seq = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
steps = tf.unstack(seq, 3, 1)
assert len(steps) == 3
np.testing.assert_array_equal(run(steps[2]), seq[:, 2, :])
np.testing.assert_array_equal(run(tf.stack(steps, axis=1)), seq)
np.testing.assert_array_equal(run(tf.stack([1, 2, 3])), [1, 2, 3])

# transpose(x, perm), gather, expand_dims(name=), shape, reshape(-1), range, tile
np.testing.assert_array_equal(run(tf.transpose(seq, [1, 0, 2])), seq.transpose(1, 0, 2))
np.testing.assert_array_equal(run(tf.transpose(x)), x.T)
np.testing.assert_array_equal(run(tf.gather(x, [3, 0])), x[[3, 0]])
ed = tf.expand_dims(x, 1, name="expanded")
assert ed.op.name == "expanded" and ed.get_shape().as_list() == [4, 1, 6]
p = tf.placeholder(tf.float32, [None, 6])
sh = tf.shape(p)
np.testing.assert_array_equal(run(sh, feed_dict={p: x}), [4, 6])
np.testing.assert_array_equal(run(tf.reshape(p, [-1]), feed_dict={p: x}), x.ravel())
np.testing.assert_array_equal(run(tf.reshape(p, shape=[2, -1]), feed_dict={p: x}),
                              x.reshape(2, -1))
np.testing.assert_array_equal(run(tf.range(0, 10)), np.arange(10))
np.testing.assert_array_equal(run(tf.range(5)), np.arange(5))
np.testing.assert_array_equal(run(tf.tile([[1, 2]], [2, 1])), [[1, 2], [1, 2]])

# element-wise math: add/multiply/pow/square/sqrt/exp/log/abs/negative/tanh/sigmoid/add_n
np.testing.assert_allclose(run(tf.pow(tf.constant([2., 3.]), 2)), [4., 9.])
np.testing.assert_allclose(run(tf.sqrt(tf.square(tf.constant([-3.])))), [3.])
np.testing.assert_allclose(run(tf.log(tf.exp(tf.constant([1.5])))), [1.5], rtol=1e-6)
np.testing.assert_allclose(run(tf.abs(tf.negative(tf.constant([2., -1.])))), [2., 1.])
np.testing.assert_allclose(run(tf.tanh(0.5)), np.tanh(0.5), rtol=1e-6)
np.testing.assert_allclose(run(tf.sigmoid(0.0)), 0.5)
np.testing.assert_allclose(run(tf.nn.tanh(tf.constant([0.0]))), [0.0])
np.testing.assert_allclose(run(tf.add_n([tf.ones([2]), tf.ones([2]), tf.ones([2])])), [3., 3.])
np.testing.assert_array_equal(run(tf.ones_like(v)), np.ones((2, 3)))
np.testing.assert_array_equal(run(tf.zeros_like(v)), np.zeros((2, 3)))
np.testing.assert_array_equal(run(tf.ones(3)), np.ones(3))
np.testing.assert_array_equal(run(tf.zeros([2, 2])), np.zeros((2, 2)))
np.testing.assert_allclose(run(tf.div(tf.constant(7.), 2.)), 3.5)

# operator overloading: + - * / unary minus, comparisons, indexing
t1 = tf.constant([1., 2., 3.])
np.testing.assert_allclose(run(-t1 * 2 + 1 / t1 - t1 / 2), -np.array([1., 2., 3.]) * 2
                           + 1 / np.array([1., 2., 3.]) - np.array([1., 2., 3.]) / 2)
np.testing.assert_array_equal(run(t1 > 1.5), [False, True, True])
np.testing.assert_array_equal(run(t1[1:]), [2., 3.])
np.testing.assert_array_equal(run(tf.constant(x)[:, -1]), x[:, -1])

# matmul(transpose_b=True), convert_to_tensor(dtype=), constant(dtype=, shape=)
m = tf.convert_to_tensor(np.ones((2, 3)), dtype=tf.float32)
assert m.dtype == tf.float32
np.testing.assert_array_equal(run(tf.matmul(m, m, transpose_b=True)), 3 * np.ones((2, 2)))
np.testing.assert_array_equal(run(tf.constant(0.1, shape=[2, 2])), np.full((2, 2), 0.1,
                                                                          np.float32))
np.testing.assert_array_equal(run(tf.constant(1, dtype=tf.float32)), 1.0)

# placeholder_with_default, placeholders of dtype "float" without a shape
pwd = tf.placeholder_with_default(tf.constant(1.0), shape=[], name="pwd")
assert run(pwd) == 1.0 and run(pwd, feed_dict={pwd: 3.0}) == 3.0
pf = tf.placeholder("float")
assert pf.dtype == tf.float32
np.testing.assert_array_equal(run(pf * 2, feed_dict={pf: [[1, 2]]}), [[2., 4.]])

# group, control_dependencies, get_shape().as_list()
va = tf.Variable(0)
vb = tf.Variable(0)
g = tf.group(tf.assign_add(va, 1), tf.assign_add(vb, 2))
run(tf.global_variables_initializer())
run(g)
assert run([va, vb]) == [1, 2]
with tf.control_dependencies([tf.assign(va, 10)]):
    after = tf.identity(vb)
assert run(after) == 2 and run(va) == 10
assert tf.zeros([3, 4]).get_shape().as_list() == [3, 4]
assert tf.placeholder(tf.float32, [None, 5]).shape.as_list() == [None, 5]
sess.close()
print("OK")

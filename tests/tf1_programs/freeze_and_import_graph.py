"""Freezing a trained graph and loading it back: tf.graph_util.convert_variables_to_constants,
GraphDef SerializeToString / ParseFromString through tf.gfile.GFile, tf.import_graph_def(name=,
return_elements=), get_tensor_by_name, tf.train.write_graph(sess.graph_def, ...)."""

from __future__ import print_function

import os

import numpy as np
import rillet as tf

rs = np.random.RandomState(0)
data_x = rs.normal(size=(50, 4)).astype(np.float32)

x = tf.placeholder(tf.float32, [None, 4], name="input")
W = tf.Variable(tf.random_normal([4, 3]), name="W")
b = tf.Variable(tf.zeros([3]), name="b")
logits = tf.add(tf.matmul(x, W), b, name="logits")
probs = tf.nn.softmax(logits, name="output")

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    expected = sess.run(probs, feed_dict={x: data_x})
    output_graph_def = tf.graph_util.convert_variables_to_constants(
        sess, sess.graph.as_graph_def(), ["output"])
    assert not any(n.op in ("VariableV2", "Variable") for n in output_graph_def.node)
    with tf.gfile.GFile("frozen_model.pb", "wb") as f:
        f.write(output_graph_def.SerializeToString())
    print("%d ops in the final graph." % len(output_graph_def.node))
    tf.train.write_graph(sess.graph_def, ".", "graph.pbtxt")
assert os.path.exists("frozen_model.pb") and os.path.exists("graph.pbtxt")

# Load the frozen graph in a fresh graph
with tf.gfile.GFile("frozen_model.pb", "rb") as f:
    graph_def = tf.GraphDef()
    graph_def.ParseFromString(f.read())

with tf.Graph().as_default() as graph:
    tf.import_graph_def(graph_def, name="prefix")
    inp = graph.get_tensor_by_name("prefix/input:0")
    out = graph.get_tensor_by_name("prefix/output:0")
    with tf.Session(graph=graph) as sess:
        got = sess.run(out, feed_dict={inp: data_x})
    np.testing.assert_allclose(got, expected, rtol=1e-6)

# return_elements form
with tf.Graph().as_default():
    new_input = tf.placeholder(tf.float32, [None, 4], name="new_input")
    out, = tf.import_graph_def(graph_def, input_map={"input:0": new_input},
                               return_elements=["output:0"], name="")
    with tf.Session() as sess:
        got = sess.run(out, feed_dict={new_input: data_x})
    np.testing.assert_allclose(got, expected, rtol=1e-6)
print("OK")

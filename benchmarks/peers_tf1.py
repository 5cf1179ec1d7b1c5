"""TF 1.x graph-mode contenders, written once against a TF1-style module `tf`.

Each `build_*` takes the module (tensorflow.compat.v1 for the peer, `rillet` for rillet's
side, see rillet_side.py) plus the workload's data, builds a graph and a Session, and
returns a zero-arg step doing one `sess.run` with a feed_dict of NumPy data.

`setup()` switches TensorFlow to graph mode, which is process-global: this family must run
in a process of its own (run.py does that), never beside the TF2 eager peers.
"""

from __future__ import annotations

import os

from harness import bench_threads


def setup():
    """Import TensorFlow in TF1 graph mode; returns tensorflow.compat.v1."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf-keras backs v1 rnn_cell
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import tensorflow.compat.v1 as tf1

    tf1.disable_eager_execution()
    tf1.logging.set_verbosity(tf1.logging.ERROR)
    try:
        from tensorflow.python.util import deprecation

        deprecation._PRINT_DEPRECATION_WARNINGS = False
    except ImportError:
        pass
    return tf1


def info(tf) -> dict:
    """TensorFlow's version and the Session thread settings."""
    return {"tensorflow": tf.__version__, "session_threads": bench_threads()}


# ----------------------------------------------------------------------------- helpers


def _new_session(tf, graph):
    """A Session on `graph`; TensorFlow's gets bench_threads() intra/inter-op threads."""
    if tf.__name__.startswith("tensorflow"):
        n = bench_threads()
        config = tf.ConfigProto(intra_op_parallelism_threads=n, inter_op_parallelism_threads=n)
        return tf.Session(graph=graph, config=config)
    return tf.Session(graph=graph)


def _session(tf, graph):
    """A Session on `graph` with its variables initialised."""
    with graph.as_default():
        init = tf.global_variables_initializer()
    sess = _new_session(tf, graph)
    sess.run(init)
    return sess


def _dense(tf, h, w, b, relu: bool):
    out = tf.matmul(h, tf.Variable(w)) + tf.Variable(b)
    return tf.nn.relu(out) if relu else out


def _xent(tf, labels, logits):
    """Mean softmax cross-entropy over the batch."""
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def _train_step(tf, graph, loss, train_op, feed):
    sess = _session(tf, graph)
    return lambda: sess.run([loss, train_op], feed_dict=feed)


# ---------------------------------------------------------------------------- builders


def build_session_add(tf, data):
    """sess.run(a + b) with two scalar placeholders."""
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, shape=[])
        b = tf.placeholder(tf.float32, shape=[])
        c = a + b
    sess = _new_session(tf, graph)
    feed = {a: data["a"], b: data["b"]}
    return lambda: sess.run(c, feed_dict=feed)


def build_linreg(tf, data):
    """The classic tutorial: y = m*x + b, square loss, GradientDescent, one pair per step."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32)
        y = tf.placeholder(tf.float32)
        m = tf.Variable(data["m0"], dtype=tf.float32)
        b = tf.Variable(data["b0"], dtype=tf.float32)
        loss = tf.square(y - (m * x + b))
        train_op = tf.train.GradientDescentOptimizer(data["lr"]).minimize(loss)
    return _train_step(tf, graph, loss, train_op, {x: data["x"], y: data["y"]})


def build_mlp(tf, data):
    """784-400-100-10 ReLU MLP, softmax cross-entropy, Adam."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, shape=[None, 784])
        y = tf.placeholder(tf.float32, shape=[None, 10])
        h, last = x, len(data["weights"]) - 1
        for i, (w, b) in enumerate(zip(data["weights"], data["biases"])):
            h = _dense(tf, h, w, b, relu=i < last)
        loss = _xent(tf, y, h)
        train_op = tf.train.AdamOptimizer(data["lr"]).minimize(loss)
    return _train_step(tf, graph, loss, train_op, {x: data["x"], y: data["y"]})


def _conv_pool(tf, h, kernel, bias):
    h = tf.nn.conv2d(h, tf.Variable(kernel), strides=[1, 1, 1, 1], padding="SAME")
    h = tf.nn.relu(h + tf.Variable(bias))
    return tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def build_cnn(tf, data):
    """LeNet-style CNN (NHWC), softmax cross-entropy, Adam."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, shape=[None, 28, 28, 1])
        y = tf.placeholder(tf.float32, shape=[None, 10])
        h = _conv_pool(tf, x, data["conv1"], data["b_conv1"])
        h = _conv_pool(tf, h, data["conv2"], data["b_conv2"])
        h = tf.reshape(h, [-1, 7 * 7 * 64])
        h = _dense(tf, h, data["fc1"], data["b_fc1"], relu=True)
        logits = _dense(tf, h, data["fc2"], data["b_fc2"], relu=False)
        loss = _xent(tf, y, logits)
        train_op = tf.train.AdamOptimizer(data["lr"]).minimize(loss)
    return _train_step(tf, graph, loss, train_op, {x: data["x"], y: data["y"]})


def _lstm_cells(tf, x, data):
    """Two LSTMCells in a MultiRNNCell under dynamic_rnn (TF's own while_loop)."""
    cells = [tf.nn.rnn_cell.LSTMCell(data["hidden"], forget_bias=data["forget_bias"],
                                     initializer=tf.constant_initializer(kernel))
             for kernel in data["kernels"]]
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(cells), x, dtype=tf.float32)
    return out, tf.trainable_variables()


def _lstm_unrolled(tf, x, data):
    """The same two LSTM layers unrolled over time with basic ops (no RNN API needed)."""
    steps, params = tf.unstack(x, axis=1), []
    for kernel, bias in zip(data["kernels"], data["biases"]):
        w, b = tf.Variable(kernel), tf.Variable(bias)
        params += [w, b]
        batch = int(x.shape[0])
        h = c = tf.zeros([batch, data["hidden"]], dtype=tf.float32)
        outs = []
        for x_t in steps:
            z = tf.matmul(tf.concat([x_t, h], axis=1), w) + b
            i, j, f, o = tf.split(z, 4, axis=1)
            c = c * tf.sigmoid(f + data["forget_bias"]) + tf.sigmoid(i) * tf.tanh(j)
            h = tf.tanh(c) * tf.sigmoid(o)
            outs.append(h)
        steps = outs
    return tf.stack(steps, axis=1), params


def build_lstm(tf, data, unrolled: bool | None = None):
    """2-layer LSTM forward + backward (gradients of a mean-square loss; no update).

    Uses tf.nn.dynamic_rnn with LSTMCells when `tf` has them, else the unrolled graph.
    """
    if unrolled is None:
        unrolled = not (hasattr(tf.nn, "dynamic_rnn") and hasattr(tf.nn, "rnn_cell"))
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, shape=data["x"].shape)
        target = tf.placeholder(tf.float32, shape=data["target"].shape)
        out, params = (_lstm_unrolled if unrolled else _lstm_cells)(tf, x, data)
        loss = tf.reduce_mean(tf.square(out - target))
        grads = tf.gradients(loss, params)
        fetch = tf.group(*grads) if hasattr(tf, "group") else grads
    return _train_step(tf, graph, loss, fetch, {x: data["x"], target: data["target"]})


BUILDERS = {
    "session_add": build_session_add,
    "linreg": build_linreg,
    "mlp": build_mlp,
    "cnn": build_cnn,
    "lstm": build_lstm,
}


def make_step(workload: str, data):
    """The TensorFlow 1.x graph-mode step for `workload`."""
    return BUILDERS[workload](setup(), data)

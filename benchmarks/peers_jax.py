"""JAX (jit, CPU) contenders; Adam from optax when installed, else a small hand-written one."""

from __future__ import annotations

import os

from harness import bench_threads


def setup():
    """Import jax on the CPU backend (single-threaded XLA when --threads 1)."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if bench_threads() == 1:
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    import jax

    return jax


def info(jax) -> dict:
    return {"jax": jax.__version__, "backend": jax.default_backend(),
            "devices": [str(d) for d in jax.devices()], "adam": _adam_source()}


def _adam_source() -> str:
    try:
        import optax  # noqa: F401
    except ImportError:
        return "hand-written"
    return "optax"


def adam(lr: float):
    """(init, update) for Adam: optax.adam, or an equivalent written with tree_map."""
    try:
        import optax
    except ImportError:
        return _hand_adam(lr)
    opt = optax.adam(lr)

    def update(grads, state, params):
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return opt.init, update


def _hand_adam(lr, b1=0.9, b2=0.999, eps=1e-8):
    import jax
    import jax.numpy as jnp

    tmap = jax.tree_util.tree_map

    def init(params):
        zeros = tmap(jnp.zeros_like, params)
        return (0, zeros, zeros)

    def update(grads, state, params):
        t, m, v = state
        t = t + 1
        m = tmap(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = tmap(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        scale = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        params = tmap(lambda p, m, v: p - scale * m / (jnp.sqrt(v) + eps), params, m, v)
        return params, (t, m, v)

    return init, update


def _xent(logits, y):
    import jax

    return -(y * jax.nn.log_softmax(logits)).sum(axis=1).mean()


def _train_step(loss_fn, params, data):
    """A jitted value_and_grad + Adam step, fed NumPy x/y each call; returns the loss."""
    import jax

    init, update = adam(data["lr"])

    @jax.jit
    def train(params, state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        params, state = update(grads, state, params)
        return params, state, loss

    carry = [params, init(params)]
    x, y = data["x"], data["y"]

    def step():
        carry[0], carry[1], loss = train(carry[0], carry[1], x, y)
        return loss.block_until_ready()

    return step


def _dense(params, h, key, relu):
    import jax

    out = h @ params["w_" + key] + params["b_" + key]
    return jax.nn.relu(out) if relu else out


def mlp(jax, data):
    import jax.numpy as jnp

    keys = ["1", "2", "3"]
    params = {"w_" + k: jnp.asarray(w) for k, w in zip(keys, data["weights"])}
    params.update({"b_" + k: jnp.asarray(b) for k, b in zip(keys, data["biases"])})

    def loss_fn(params, x, y):
        h = _dense(params, x, "1", True)
        h = _dense(params, h, "2", True)
        return _xent(_dense(params, h, "3", False), y)

    return _train_step(loss_fn, params, data)


def _conv_pool(params, h, key):
    import jax
    from jax import lax

    h = lax.conv_general_dilated(h, params["w_" + key], (1, 1), "SAME",
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    h = jax.nn.relu(h + params["b_" + key])
    return lax.reduce_window(h, -float("inf"), lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")


def cnn(jax, data):
    import jax.numpy as jnp

    keys = ["conv1", "conv2", "fc1", "fc2"]
    params = {"w_" + k: jnp.asarray(data[k]) for k in keys}
    params.update({"b_" + k: jnp.asarray(data["b_" + k]) for k in keys})

    def loss_fn(params, x, y):
        h = _conv_pool(params, x, "conv1")
        h = _conv_pool(params, h, "conv2")
        h = _dense(params, h.reshape(h.shape[0], -1), "fc1", True)
        return _xent(_dense(params, h, "fc2", False), y)

    return _train_step(loss_fn, params, data)


def _lstm_layer(x_tm, kernel, bias, forget_bias):
    """One LSTM layer over time-major x with lax.scan (TF LSTMCell semantics)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    hidden = kernel.shape[1] // 4
    zeros = jnp.zeros((x_tm.shape[1], hidden), x_tm.dtype)

    def cell(carry, x_t):
        h, c = carry
        z = jnp.concatenate([x_t, h], axis=1) @ kernel + bias
        i, j, f, o = jnp.split(z, 4, axis=1)
        c = c * jax.nn.sigmoid(f + forget_bias) + jax.nn.sigmoid(i) * jnp.tanh(j)
        h = jnp.tanh(c) * jax.nn.sigmoid(o)
        return (h, c), h

    _, hs = lax.scan(cell, (zeros, zeros), x_tm)
    return hs


def lstm(jax, data):
    """2-layer LSTM forward + backward (jit of value_and_grad; no update)."""
    import jax.numpy as jnp

    params = [(jnp.asarray(k), jnp.asarray(b)) for k, b in zip(data["kernels"], data["biases"])]
    forget_bias = data["forget_bias"]

    def loss_fn(params, x, target):
        h = jnp.swapaxes(x, 0, 1)
        for kernel, bias in params:
            h = _lstm_layer(h, kernel, bias, forget_bias)
        return jnp.mean((jnp.swapaxes(h, 0, 1) - target) ** 2)

    grad_fn = jax.jit(jax.value_and_grad(loss_fn))
    x, target = data["x"], data["target"]

    def step():
        loss, grads = grad_fn(params, x, target)
        jax.block_until_ready(grads)
        return loss

    return step


BUILDERS = {"mlp": mlp, "cnn": cnn, "lstm": lstm}


def make_step(workload: str, data):
    """The JAX jit step for `workload`."""
    return BUILDERS[workload](setup(), data)

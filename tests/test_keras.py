"""rillet.keras: layers vs NumPy, models (Sequential, functional, subclassed), compile/fit in
graph and eager mode, callbacks, weights files, configs, summary() and error messages."""

import csv
import io
import os

import numpy as np
import pytest

import rillet as rt
from rillet import keras
from rillet.data import Dataset

L = keras.layers
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _graph():
    with rt.Graph().as_default() as g:
        yield g


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _toy(n=256, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(d, classes)), 1)
    return x, y


def _mlp(d=6, classes=3):
    return keras.Sequential([L.Dense(16, activation="relu", input_shape=(d,)),
                             L.Dense(classes, activation="softmax")])


# --- layers ---------------------------------------------------------------------------------
def test_dense_matches_numpy_with_its_weights():
    layer = L.Dense(4, activation="tanh", kernel_initializer="he_normal")
    x = RNG.normal(size=(3, 5)).astype(np.float32)
    y = layer(x)
    assert [w.op.name for w in layer.weights] == ["dense/kernel", "dense/bias"]
    k, b = layer.get_weights()
    with rt.Session() as sess:
        rt.keras.backend.set_session(sess)
        sess.run(rt.global_variables_initializer())
        k, b = sess.run(layer.weights)
        np.testing.assert_allclose(sess.run(y), np.tanh(x @ k + b), rtol=1e-5, atol=1e-6)
    seq = L.Dense(2)(rt.placeholder(rt.float32, [None, 7, 5]))
    assert seq.shape.as_list() == [None, 7, 2]


def test_get_set_weights_and_errors():
    layer = L.Dense(2, input_shape=(3,))
    model = keras.Sequential([layer])
    new = [np.arange(6, dtype=np.float32).reshape(3, 2), np.array([1.0, -1.0], np.float32)]
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(model.predict(np.ones((1, 3))), [[7.0, 8.0]])
    with pytest.raises(ValueError, match="expecting 2 weights"):
        layer.set_weights(new[:1])
    with pytest.raises(ValueError, match=r"Layer weight shape \(3, 2\) not compatible with "
                                         r"provided weight shape \(2, 3\)"):
        layer.set_weights([new[0].T, new[1]])
    with pytest.raises(ValueError, match="isn't built"):
        L.Dense(3).count_params()


def test_conv_pool_flatten_against_numpy():
    x = RNG.normal(size=(2, 6, 6, 3)).astype(np.float32)
    inp = keras.Input((6, 6, 3))
    conv = L.Conv2D(4, 3, padding="same", activation="relu")
    out = L.GlobalAveragePooling2D()(L.MaxPooling2D()(conv(inp)))
    model = keras.Model(inp, out)
    assert conv.kernel.shape.as_list() == [3, 3, 3, 4]
    k, b = conv.get_weights()
    xp = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    ref = sum(np.einsum("nhwc,co->nhwo", xp[:, i:i + 6, j:j + 6], k[i, j])
              for i in range(3) for j in range(3))
    ref = np.maximum(ref + b, 0).reshape(2, 3, 2, 3, 2, 4).max(axis=(2, 4)).mean(axis=(1, 2))
    np.testing.assert_allclose(model.predict(x), ref, rtol=1e-4, atol=1e-5)
    assert L.Flatten()(rt.placeholder(rt.float32, [None, 3, 4, 5])).shape.as_list() == [None, 60]


def test_embedding_and_layer_normalization():
    ids = np.array([[1, 2, 0], [4, 4, 3]])
    emb = L.Embedding(5, 3)
    norm = L.LayerNormalization(epsilon=1e-5)
    model = keras.Sequential([emb, norm])
    out = model.predict(ids)
    table = emb.get_weights()[0]
    e = table[ids]
    ref = (e - e.mean(-1, keepdims=True)) / np.sqrt(e.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_lstm_and_gru_match_numpy():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    lstm = L.LSTM(5, return_sequences=True)
    gru = L.GRU(2)
    model = keras.Sequential([lstm, gru])
    out = model.predict(x)
    k, rk, b = lstm.get_weights()
    assert np.allclose(b[5:10], 1.0) and np.allclose(b[:5], 0.0)  # unit forget bias
    np.testing.assert_allclose(rk @ rk.T, np.eye(5), atol=1e-5)  # orthogonal initializer
    h, c, seq = np.zeros((2, 5)), np.zeros((2, 5)), []
    for t in range(4):
        z = x[:, t] @ k + h @ rk + b
        i, f, g, o = np.split(z, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        seq.append(h)
    gk, grk, gb = gru.get_weights()
    h = np.zeros((2, 2))
    for t in range(4):
        xz, xr, xh = np.split(seq[t] @ gk + gb[0], 3, axis=1)
        rz, rr, rh = np.split(h @ grk + gb[1], 3, axis=1)
        z, r = _sigmoid(xz + rz), _sigmoid(xr + rr)
        h = z * h + (1 - z) * np.tanh(xh + r * rh)
    np.testing.assert_allclose(out, h, rtol=1e-4, atol=1e-5)


def test_bidirectional_simple_rnn_shapes_and_state():
    inp = keras.Input((5, 3))
    seq = L.Bidirectional(L.SimpleRNN(4, return_sequences=True))(inp)
    last, h = L.SimpleRNN(2, return_state=True)(seq)
    assert seq.shape.as_list() == [None, 5, 8] and last.shape.as_list() == [None, 2]
    model = keras.Model(inp, [last, h])
    a, b = model.predict(RNG.normal(size=(3, 5, 3)))
    np.testing.assert_allclose(a, b)


def test_layer_config_round_trip():
    layers = [L.Dense(3, activation="relu", kernel_regularizer=keras.regularizers.l2(0.1),
                      kernel_initializer=keras.initializers.RandomNormal(stddev=0.3)),
              L.Conv2D(4, (3, 2), strides=2, padding="same"), L.LSTM(3, return_sequences=True),
              L.BatchNormalization(momentum=0.9), L.Dropout(0.3), L.Bidirectional(L.GRU(2))]
    for layer in layers:
        cfg = layer.get_config()
        clone = type(layer).from_config(cfg)
        assert clone.get_config() == cfg, type(layer).__name__


def test_sequential_and_functional_config_round_trip():
    seq = _mlp()
    clone = keras.models.model_from_json(seq.to_json())
    clone.set_weights(seq.get_weights())
    x, _ = _toy(8)
    np.testing.assert_allclose(clone.predict(x), seq.predict(x), rtol=1e-6)
    a, b = keras.Input((4,), name="a"), keras.Input((2,), name="b")
    out = L.Dense(1, name="out")(L.Concatenate()([L.Dense(3)(a), b]))
    func = keras.Model([a, b], out)
    clone = keras.Model.from_config(func.get_config())
    names = [layer.name for layer in func.layers]
    assert names == ["a", "b", "dense_2", "concatenate", "out"]
    assert [layer.name for layer in clone.layers] == names
    clone.set_weights(func.get_weights())
    xa, xb = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 2))
    np.testing.assert_allclose(clone.predict([xa, xb]), func.predict([xa, xb]), rtol=1e-6)


# --- models ---------------------------------------------------------------------------------
def test_summary_table():
    lines = []
    keras.Sequential([L.Dense(64, activation="relu", input_shape=(784,)),
                      L.Dropout(0.2), L.Dense(10)]).summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "sequential"'
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    assert lines[4].split() == ["dense", "(Dense)", "(None,", "64)", "50240"]
    assert "dropout (Dropout)            (None, 64)                0" in text
    assert lines[8].split() == ["dense_1", "(Dense)", "(None,", "10)", "650"]
    assert "Total params: 50,890\nTrainable params: 50,890\nNon-trainable params: 0" in text
    with pytest.raises(ValueError, match="This model has not yet been built"):
        keras.Sequential([L.Dense(2)]).summary()


def test_incompatible_sequential_shapes_fail_at_add():
    model = keras.Sequential([L.Dense(10, input_shape=(5,))])
    with pytest.raises(ValueError, match="Input 0 of layer conv2d is incompatible with the "
                                         r"layer: expected ndim=4, found ndim=2. Full shape "
                                         r"received: \[None, 10\]"):
        model.add(L.Conv2D(3, 3))
    with pytest.raises(ValueError, match="unique names"):
        model.add(L.Dense(3, name="dense"))
    with pytest.raises(TypeError, match="must be an instance of class Layer"):
        model.add("dense")


def test_functional_errors():
    a = keras.Input((3,))
    b = keras.Input((3,))
    out = L.Add()([L.Dense(3)(a), b])
    with pytest.raises(ValueError, match="Graph disconnected: cannot obtain value for tensor"):
        keras.Model(a, out)
    with pytest.raises(ValueError, match="must come from `keras.Input`"):
        keras.Model(rt.placeholder(rt.float32, [None, 3]), out)
    with pytest.raises(ValueError, match="at least 2 inputs"):
        L.Add()([a])


def test_compile_errors():
    model = _mlp()
    with pytest.raises(ValueError, match="Unknown loss function: nope"):
        model.compile("adam", "nope")
    with pytest.raises(ValueError, match="Unknown optimizer: adamm"):
        model.compile("adamm", "mse")
    with pytest.raises(ValueError, match="Unknown metric function: f2"):
        model.compile("adam", "mse", metrics=["f2"])
    with pytest.raises(RuntimeError, match="must compile your model"):
        model.fit(*_toy(8), verbose=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.fit(np.zeros((8, 6)), np.zeros(7), verbose=0)


def test_fit_reduces_loss_graph_mode_with_metrics_and_validation():
    x, y = _toy()
    model = _mlp()
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    hist = model.fit(x, y, batch_size=32, epochs=6, validation_split=0.25, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.epoch == list(range(6))
    assert hist.history["loss"][-1] < 0.6 * hist.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    probs = model.predict(x, batch_size=50)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == y))
    ce = -np.mean(np.log(probs[np.arange(len(y)), y]))
    assert loss == pytest.approx(ce, rel=1e-4)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == acc


def test_fit_reduces_loss_eager_mode():
    x, y = _toy()
    with rt.eager_mode():
        inp = keras.Input((6,))
        h = L.BatchNormalization()(L.Dense(16, activation="relu")(inp))
        model = keras.Model(inp, L.Dense(3)(L.Dropout(0.1)(h)))
        model.compile(keras.optimizers.Adam(0.01),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"])
        hist = model.fit(x, y, batch_size=32, epochs=6, verbose=0)
        bn = model.layers[2]
        assert not np.allclose(bn.moving_mean.numpy(), 0)
        np.testing.assert_allclose(model(x[:4]).numpy(), model.predict(x[:4]), rtol=1e-5)
        logits = model.predict(x)
        assert model.evaluate(x, y, verbose=0)[1] == pytest.approx(
            np.mean(logits.argmax(1) == y))
    assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0]


def test_eager_deferred_sequential_and_train_on_batch():
    x, y = _toy(64)
    with rt.eager_mode():
        model = keras.Sequential([L.Dense(8, activation="relu"), L.Dense(3)])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        first = model.train_on_batch(x, y)
        for _ in range(20):
            last = model.train_on_batch(x, y)
        assert last < first
        assert model.test_on_batch(x, y) == pytest.approx(
            model.evaluate(x, y, batch_size=64, verbose=0), rel=1e-5)
        assert model.count_params() == 6 * 8 + 8 + 8 * 3 + 3


def test_subclassed_model_trains():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = L.Dense(16, activation="relu")
            self.out = L.Dense(1)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    x = RNG.normal(size=(128, 4)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32)
    net = Net()
    net.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    hist = net.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.1 * hist.history["loss"][0]
    assert len(net.trainable_weights) == 4 and net.layers == [net.hidden, net.out]


def test_multi_input_multi_output_named_losses():
    a, b = keras.Input((4,), name="a"), keras.Input((2,), name="b")
    h = L.Concatenate()([L.Dense(8, activation="relu")(a), b])
    cls = L.Dense(2, activation="softmax", name="cls")(h)
    reg = L.Dense(1, name="reg")(h)
    model = keras.Model([a, b], [cls, reg])
    model.compile("adam", {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  metrics={"cls": "accuracy"}, loss_weights={"cls": 1.0, "reg": 0.5})
    xa, xb = RNG.normal(size=(40, 4)), RNG.normal(size=(40, 2))
    y1, y2 = RNG.integers(0, 2, 40), RNG.normal(size=(40, 1))
    hist = model.fit({"a": xa, "b": xb}, {"cls": y1, "reg": y2}, epochs=2, verbose=0)
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_accuracy"]
    logs = model.evaluate([xa, xb], [y1, y2], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-5)
    assert len(hist.history["reg_loss"]) == 2


def test_batch_norm_moving_stats_update_in_graph_fit():
    model = keras.Sequential([L.BatchNormalization(momentum=0.5, input_shape=(2,)),
                              L.Dense(1)])
    model.compile("sgd", "mse")
    x = RNG.normal(5.0, 1.0, size=(32, 2)).astype(np.float32)
    model.fit(x, np.zeros((32, 1)), batch_size=32, epochs=1, verbose=0, shuffle=False)
    mm = model.layers[0].get_weights()[2]
    np.testing.assert_allclose(mm, 0.5 * x.mean(0), rtol=1e-4)


def test_default_session_is_used_in_graph_mode():
    x, y = _toy(32)
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    with rt.Session() as sess:
        model.fit(x, y, epochs=2, verbose=0)
        trained = model.get_weights()
        for got, want in zip(sess.run(model.weights), trained):
            np.testing.assert_array_equal(got, want)  # the default session holds the values
    fresh = model.get_weights()  # outside: Keras' private session, initialized separately
    assert any(not np.allclose(a, b) for a, b in zip(fresh, trained))


def test_fit_on_dataset_and_generator():
    x = RNG.normal(size=(100, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [2.0], [-1.0]], np.float32)).astype(np.float32)
    model = keras.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(0.1), "mse", ["mae"])
    ds = Dataset.from_tensor_slices((x, y)).shuffle(100, seed=0).batch(10)
    hist = model.fit(ds, epochs=4, verbose=0, validation_data=ds)
    assert hist.history["val_loss"][-1] < hist.history["val_loss"][0]

    def gen():
        while True:
            i = RNG.integers(0, 100, 10)
            yield x[i], y[i]
    hist = model.fit(gen(), steps_per_epoch=5, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    assert model.predict(Dataset.from_tensor_slices(x).batch(30)).shape == (100, 1)


# --- callbacks ------------------------------------------------------------------------------
def test_callbacks_early_stopping_checkpoint_csv_history(tmp_path):
    x, y = _toy(64)
    model = _mlp()
    model.compile(keras.optimizers.SGD(0.001), "sparse_categorical_crossentropy", ["accuracy"])
    seen = []
    cbs = [keras.callbacks.EarlyStopping("loss", min_delta=1.0, patience=2),
           keras.callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}.safetensors")),
           keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
           keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))]
    hist = model.fit(x, y, epochs=10, verbose=0, callbacks=cbs)
    assert hist.epoch == [0, 1, 2] and seen == [0, 1, 2] and cbs[0].stopped_epoch == 2
    assert sorted(os.listdir(tmp_path)) == ["log.csv", "w-01.safetensors",
                                            "w-02.safetensors", "w-03.safetensors"]
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert float(rows[1]["loss"]) == pytest.approx(hist.history["loss"][1])
    assert float(rows[2]["accuracy"]) == pytest.approx(hist.history["accuracy"][2])


def test_checkpoint_best_only_restores_and_lr_callbacks(tmp_path):
    x, y = _toy(64)
    model = _mlp()
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    lrs = []
    sched = keras.callbacks.LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)
    probe = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: lrs.append(model.optimizer.learning_rate))
    path = str(tmp_path / "best.safetensors")
    ckpt = keras.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True)
    first = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched, probe, ckpt])
    assert ckpt.best == pytest.approx(min(first.history["loss"]))
    assert lrs == pytest.approx([0.1, 0.05, 0.025])
    plateau = keras.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=10)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[plateau])
    assert model.optimizer.learning_rate == pytest.approx(0.025 * 0.5 ** 2)
    other = _mlp()
    other.load_weights(path)
    assert all(a.shape == b.shape for a, b in zip(other.get_weights(), model.get_weights()))


def test_terminate_on_nan_and_progress_bar(capsys):
    x, y = _toy(64)
    model = _mlp()
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    x[3, 0] = np.nan
    hist = model.fit(x, y, epochs=5, batch_size=8, verbose=1,
                     callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(hist.epoch) == 1
    err = capsys.readouterr().err
    assert "Epoch 1/5" in err and "loss=" in err


def test_save_and_load_weights_round_trip(tmp_path):
    x, y = _toy(32)
    a = _mlp()
    a.compile("adam", "sparse_categorical_crossentropy")
    a.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "model.safetensors")
    a.save_weights(path)
    b = _mlp()
    b.load_weights(path)
    np.testing.assert_allclose(b.predict(x), a.predict(x), rtol=1e-6)
    small = keras.Sequential([L.Dense(2, input_shape=(6,))])
    with pytest.raises(ValueError, match="containing 4 weights into a model with 2 weights"):
        small.load_weights(path)


def test_tensorboard_callback_writes_events(tmp_path):
    pytest.importorskip("tensorboard")
    x, y = _toy(32)
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[
        keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)])
    from rillet.summary.events import summary_iterator
    tags = set()
    for sub in ("train", "validation"):
        (name,) = os.listdir(tmp_path / sub)
        for event in summary_iterator(str(tmp_path / sub / name)):
            tags.update(v.tag for v in event.summary.value)
    assert {"epoch_loss", "epoch_accuracy", "dense/kernel"} <= tags


def test_metrics_objects_in_compile():
    x = RNG.normal(size=(60, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = keras.Sequential([L.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile("adam", "binary_crossentropy",
                  [keras.metrics.Precision(), keras.metrics.AUC(), "accuracy"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    p = model.predict(x)
    assert logs["accuracy"] == pytest.approx(np.mean((p > 0.5) == (y > 0.5)))
    tp = np.sum((p > 0.5) & (y > 0.5))
    assert logs["precision"] == pytest.approx(tp / max(1, np.sum(p > 0.5)))
    buf = io.StringIO()
    print(logs, file=buf)
    assert "auc" in buf.getvalue()


def test_sample_and_class_weights_scale_the_loss():
    x, y = _toy(40)
    model = _mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    probs = model.predict(x)
    per_sample = -np.log(probs[np.arange(40), y])
    w = np.where(np.arange(40) % 2 == 0, 2.0, 0.0)
    loss = model.evaluate(x, y, sample_weight=w, batch_size=40, verbose=0)
    assert loss == pytest.approx(np.mean(per_sample * w), rel=1e-5)
    cw = {0: 0.0, 1: 1.0, 2: 3.0}
    before = model.get_weights()
    model.fit(x, y, class_weight=cw, batch_size=40, epochs=1, shuffle=False, verbose=0)
    model.set_weights(before)
    h = model.fit(x, y, class_weight=cw, batch_size=40, epochs=1, shuffle=False, verbose=0)
    weights = np.array([cw[int(c)] for c in y])
    assert h.history["loss"][0] == pytest.approx(np.mean(per_sample * weights), rel=1e-5)


def test_sequential_accepts_an_input_tensor_first():
    model = rt.keras.Sequential([rt.keras.Input(shape=(4,)), rt.keras.layers.Dense(3)])
    assert model.outputs[0].shape.as_list() == [None, 3]
    with pytest.raises(TypeError, match="must be an instance of class Layer"):
        rt.keras.Sequential([rt.constant(1.0)])

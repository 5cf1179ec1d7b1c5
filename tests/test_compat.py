"""TF 1.x program scaffolding: tf.app.flags / tf.app.run / tf.logging."""

import logging

import pytest

import rillet as tf
from rillet.app import _Flags


def test_flags_parse_and_defaults():
    f = _Flags()
    f._define(str, "data_dir", "/tmp/data", "where")
    f._define(int, "steps", 10, None)
    f._define(bool, "fake", False, None)
    rest = f(["prog", "--steps", "5", "--fake", "extra"])
    assert (f.data_dir, f.steps, f.fake) == ("/tmp/data", 5, True)
    assert rest == ["prog", "extra"]
    with pytest.raises(AttributeError, match="Unknown command line flag 'nope'"):
        _ = f.nope


def test_app_run_calls_main_with_remaining_argv():
    seen = []
    with pytest.raises(SystemExit) as info:
        tf.app.run(main=lambda argv: seen.append(argv) or 3, argv=["prog", "x"])
    assert info.value.code == 3 and seen == [["prog", "x"]]


def test_logging_levels(caplog):
    tf.logging.set_verbosity(tf.logging.INFO)
    with caplog.at_level(logging.INFO, logger="rillet"):
        tf.logging.info("hello %d", 3)
    assert "hello 3" in caplog.text


def test_boolean_flag_forms():
    f = _Flags()
    f._define(bool, "fake", True, None)
    f(["prog", "--fake=false"])
    assert f.fake is False
    f(["prog", "--nofake"])
    assert f.fake is False
    f(["prog"])
    assert f.fake is True


def test_compat_v1_is_rillet():
    assert tf.compat.v1 is tf
    assert tf.compat.v1.placeholder is tf.placeholder
    assert tf.compat.as_bytes("a") == b"a" and tf.compat.as_text(b"b") == "b"
    tf.compat.v1.disable_eager_execution()
    assert not tf.executing_eagerly()


def test_contrib_names():
    tf.reset_default_graph()
    cell = tf.contrib.rnn.BasicLSTMCell(4)
    x = tf.placeholder(tf.float32, [None, 3, 2])
    outs, state = tf.contrib.rnn.static_rnn(cell, tf.unstack(x, 3, 1), dtype=tf.float32)
    assert len(outs) == 3 and outs[0].shape.as_list() == [None, 4]
    flat = tf.contrib.layers.flatten(tf.placeholder(tf.float32, [None, 2, 3]))
    assert flat.shape.as_list() == [None, 6]
    w = tf.get_variable("w", [3, 3], initializer=tf.contrib.layers.xavier_initializer())
    assert w.shape.as_list() == [3, 3]
    assert callable(tf.contrib.eager.implicit_value_and_gradients)

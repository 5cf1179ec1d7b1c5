"""Tests for the checkpoint storage layer: rillet.train.checkpoint_io and checkpoint_state."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _child_process import LineChild

from rillet import errors
from rillet.train import checkpoint_io as cio
from rillet.train.checkpoint_io import (
    checkpoint_exists,
    checkpoint_file,
    list_tensors,
    read_checkpoint,
    read_metadata,
    remove_checkpoint,
    write_checkpoint,
)
from rillet.train.checkpoint_state import (
    get_checkpoint_state,
    latest_checkpoint,
    prune_old,
    update_checkpoint_state,
)

REPO = Path(__file__).resolve().parent.parent
TRUNCATED = "is truncated or not a rillet checkpoint"


def _sample() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "dense/kernel:0": rng.standard_normal((3, 4)).astype(np.float32),
        "dense/bias:0": np.arange(4, dtype=np.float64),
        "global_step:0": np.array(7, dtype=np.int64),
    }


def _header(path: str) -> tuple[int, dict]:
    """(offset of the data region, parsed safetensors header) of a safetensors file."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return 8 + n, json.loads(f.read(n))


def _tmp_leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if ".tmp-" in p.name]


# ----------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize(
    "dtype",
    [
        np.bool_,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.float16,
        np.float32,
        np.float64,
        np.complex64,
        np.complex128,
    ],
)
def test_dtypes_round_trip(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(1)
    raw = rng.standard_normal((2, 3, 5)) * 100
    if np.dtype(dtype).kind == "c":
        raw = raw + 1j * rng.standard_normal((2, 3, 5))
    full = raw.astype(dtype) if np.dtype(dtype) != np.bool_ else raw > 0
    scalar = full.reshape(-1)[3].copy().reshape(())
    empty = np.zeros((0, 3), dtype=dtype)
    path = str(tmp_path / "c.safetensors")
    assert write_checkpoint(path, {"a/full:0": full, "a/scalar:0": scalar, "e": empty}) == path
    got = read_checkpoint(path)
    assert set(got) == {"a/full:0", "a/scalar:0", "e"}
    for name, want in [("a/full:0", full), ("a/scalar:0", scalar), ("e", empty)]:
        assert got[name].dtype == np.dtype(dtype)
        assert got[name].shape == want.shape
        np.testing.assert_array_equal(got[name], want)
        assert got[name].flags.writeable
    assert list_tensors(path) == [
        ("a/full:0", (2, 3, 5), np.dtype(dtype)),
        ("a/scalar:0", (), np.dtype(dtype)),
        ("e", (0, 3), np.dtype(dtype)),
    ]


def test_zero_d_and_python_scalars(tmp_path: Path) -> None:
    path = str(tmp_path / "s.safetensors")
    write_checkpoint(path, {"step": np.int64(42), "lr": 0.5, "flag": True, "n": 3})
    got = read_checkpoint(path)
    assert got["step"].shape == () and got["step"].dtype == np.int64 and got["step"] == 42
    assert got["lr"].shape == () and got["lr"].dtype == np.float64 and got["lr"] == 0.5
    assert got["flag"].dtype == np.bool_ and bool(got["flag"])
    assert got["n"] == 3


def test_non_contiguous_and_big_endian_inputs(tmp_path: Path) -> None:
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    tensors = {
        "transposed": base.T,
        "strided": base[::2, ::3],
        "big_endian": np.arange(5, dtype=">i4"),
    }
    path = str(tmp_path / "x.safetensors")
    write_checkpoint(path, tensors)
    got = read_checkpoint(path)
    np.testing.assert_array_equal(got["transposed"], base.T)
    np.testing.assert_array_equal(got["strided"], base[::2, ::3])
    np.testing.assert_array_equal(got["big_endian"], np.arange(5))
    assert got["big_endian"].dtype == np.int32


def test_metadata_and_selected_names(tmp_path: Path) -> None:
    path = str(tmp_path / "m.safetensors")
    write_checkpoint(path, _sample(), {"global_step": np.int64(100), "note": "hi", "xs": [1, 2]})
    assert read_metadata(path) == {"global_step": 100, "note": "hi", "xs": [1, 2]}
    got = read_checkpoint(path, ["dense/bias:0"])
    assert list(got) == ["dense/bias:0"]
    assert list(read_checkpoint(path, "global_step:0")) == ["global_step:0"]
    write_checkpoint(str(tmp_path / "n.safetensors"), {"a": np.zeros(1)})
    assert read_metadata(str(tmp_path / "n.safetensors")) == {}


def test_file_is_plain_safetensors_with_rillet_header(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    path = str(tmp_path / "p.safetensors")
    sample = _sample()
    write_checkpoint(path, sample, {"global_step": 7})
    plain = load_file(path)
    for name, value in sample.items():
        np.testing.assert_array_equal(plain[name], value)
    _, header = _header(path)
    meta = header["__metadata__"]
    assert meta["rillet.format"] == "rillet-checkpoint"
    assert meta["rillet.format_version"] == "1"
    assert json.loads(meta["rillet.metadata"]) == {"global_step": 7}
    entry = json.loads(meta["rillet.tensors"])["dense/kernel:0"]
    assert entry["dtype"] == "float32" and entry["shape"] == [3, 4]
    assert entry["sha256"] == hashlib.sha256(sample["dense/kernel:0"].tobytes()).hexdigest()


def test_prefix_naming(tmp_path: Path) -> None:
    prefix = str(tmp_path / "model.ckpt-100")
    assert checkpoint_file(prefix) == prefix + ".safetensors"
    assert checkpoint_file(prefix + ".safetensors") == prefix + ".safetensors"
    assert not checkpoint_exists(prefix)
    write_checkpoint(checkpoint_file(prefix), _sample(), {"global_step": 100})
    assert checkpoint_exists(prefix) and checkpoint_exists(checkpoint_file(prefix))
    assert read_metadata(prefix) == {"global_step": 100}  # readers accept the prefix
    assert set(read_checkpoint(prefix)) == set(_sample())
    remove_checkpoint(prefix)
    assert not checkpoint_exists(prefix)
    remove_checkpoint(prefix)  # idempotent


def test_overwrite_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = str(tmp_path / "o.safetensors")
    write_checkpoint(path, {"a": np.zeros(3)})
    write_checkpoint(path, {"b": np.ones(2)})
    assert list(read_checkpoint(path)) == ["b"]
    assert _tmp_leftovers(tmp_path) == []


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "f.safetensors")
    write_checkpoint(path, {"a": np.zeros(3)})

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cio.os, "replace", boom)
    with pytest.raises(errors.ResourceExhaustedError, match="No space left"):
        write_checkpoint(path, {"a": np.ones(3)})
    monkeypatch.undo()
    np.testing.assert_array_equal(read_checkpoint(path)["a"], np.zeros(3))
    assert _tmp_leftovers(tmp_path) == []


# ----------------------------------------------------------------------------------------------
# Write-side validation


@pytest.mark.parametrize(
    "value",
    [
        np.array(["a", "b"]),
        np.array([object()], dtype=object),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
    ],
)
def test_unsupported_dtype(tmp_path: Path, value: np.ndarray) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="'bad'"):
        write_checkpoint(str(tmp_path / "u.safetensors"), {"bad": value})
    assert list(tmp_path.iterdir()) == []


def test_bad_names_and_metadata(tmp_path: Path) -> None:
    path = str(tmp_path / "b.safetensors")
    with pytest.raises(errors.InvalidArgumentError):
        write_checkpoint(path, {"__metadata__": np.zeros(1)})
    with pytest.raises(errors.InvalidArgumentError):
        write_checkpoint(path, {"": np.zeros(1)})
    with pytest.raises(errors.InvalidArgumentError, match="JSON"):
        write_checkpoint(path, {"a": np.zeros(1)}, {"x": object()})
    with pytest.raises(errors.NotFoundError, match="doesn't exist"):
        write_checkpoint(str(tmp_path / "no" / "such" / "dir.safetensors"), {"a": np.zeros(1)})


# ----------------------------------------------------------------------------------------------
# Read-side errors


def test_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.ckpt-1")
    for fn in (read_checkpoint, read_metadata, list_tensors):
        with pytest.raises(errors.NotFoundError, match=re.escape(missing)):
            fn(missing)


def test_missing_key(tmp_path: Path) -> None:
    path = str(tmp_path / "k.safetensors")
    write_checkpoint(path, _sample())
    with pytest.raises(errors.NotFoundError) as ei:
        read_checkpoint(path, ["dense/kernel:0", "w"])
    assert str(ei.value) == f"Key w not found in checkpoint {path}"


def test_flipped_data_byte_names_tensor(tmp_path: Path) -> None:
    path = str(tmp_path / "flip.safetensors")
    write_checkpoint(path, _sample())
    data_start, header = _header(path)
    begin, end = header["dense/bias:0"]["data_offsets"]
    with open(path, "r+b") as f:
        f.seek(data_start + (begin + end) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0x10]))
    with pytest.raises(errors.DataLossError) as ei:
        read_checkpoint(path)
    assert "dense/bias:0" in str(ei.value) and path in str(ei.value)
    assert "Checksum mismatch" in str(ei.value)
    # Intact tensors of the same file still read (only tensors read are checked).
    assert set(read_checkpoint(path, ["dense/kernel:0", "global_step:0"])) == {
        "dense/kernel:0",
        "global_step:0",
    }


def test_every_single_byte_corruption_is_detected(tmp_path: Path) -> None:
    """Flip each byte of a small file in turn: reading either fails or returns exact values."""
    path = str(tmp_path / "all.safetensors")
    tensors = {"w": np.arange(6, dtype=np.float32), "s": np.array(3, dtype=np.int16)}
    write_checkpoint(path, tensors, {"global_step": 5})
    original = Path(path).read_bytes()
    silent = []
    for i in range(len(original)):
        corrupted = bytearray(original)
        corrupted[i] ^= 0x01
        Path(path).write_bytes(bytes(corrupted))
        try:
            got = read_checkpoint(path)
            meta = read_metadata(path)
        except errors.DataLossError:
            continue
        same = meta == {"global_step": 5} and all(
            got[k].dtype == v.dtype and np.array_equal(got[k], v) for k, v in tensors.items()
        )
        if not same:
            silent.append(i)
    assert silent == [], f"silently wrong values after flipping bytes {silent}"


def test_flipped_header_byte(tmp_path: Path) -> None:
    path = str(tmp_path / "h.safetensors")
    write_checkpoint(path, _sample(), {"global_step": 100})
    raw = bytearray(Path(path).read_bytes())
    marker = b'global_step\\": 100'  # inside the JSON-in-JSON metadata string
    i = raw.index(marker) + len(marker) - 3
    raw[i] = ord("9")  # 100 -> 900: still valid JSON, so only the header checksum can tell
    Path(path).write_bytes(bytes(raw))
    with pytest.raises(errors.DataLossError, match="header"):
        read_metadata(path)


def test_truncated_file(tmp_path: Path) -> None:
    path = str(tmp_path / "t.safetensors")
    write_checkpoint(path, _sample(), {"global_step": 1})
    raw = Path(path).read_bytes()
    data_start, _ = _header(path)
    cuts = sorted({0, 1, 7, 8, 9, data_start // 2, data_start - 1, data_start, len(raw) - 1})
    cuts += list(range(data_start, len(raw), 7))
    for n in cuts:
        Path(path).write_bytes(raw[:n])
        for fn in (read_checkpoint, read_metadata, list_tensors):
            with pytest.raises(errors.DataLossError, match=TRUNCATED):
                fn(path)
    Path(path).write_bytes(raw + b"\0")  # trailing bytes are not a valid file either
    with pytest.raises(errors.DataLossError, match=TRUNCATED):
        read_checkpoint(path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello world, definitely not a checkpoint\n",
        bytes(range(256)) * 4,
        struct.pack("<Q", 10) + b"{not json}",
        struct.pack("<Q", 2) + b"[]",
        struct.pack("<Q", 1 << 62) + b"{}",
    ],
)
def test_garbage_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "g.safetensors"
    path.write_bytes(content)
    with pytest.raises(errors.DataLossError, match=TRUNCATED):
        read_checkpoint(str(path))


def test_random_garbage(tmp_path: Path) -> None:
    path = tmp_path / "r.safetensors"
    rng = random.Random(3)
    for n in (8, 100, 5000):
        path.write_bytes(bytes(rng.getrandbits(8) for _ in range(n)))
        with pytest.raises(errors.DataLossError, match=TRUNCATED):
            read_checkpoint(str(path))


def test_foreign_safetensors_file(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    path = str(tmp_path / "foreign.safetensors")
    save_file({"a": np.zeros(2, np.float32)}, path)
    with pytest.raises(errors.DataLossError, match=TRUNCATED):
        read_checkpoint(path)
    save_file({"a": np.zeros(2, np.float32)}, path, metadata={"format": "pt"})
    with pytest.raises(errors.DataLossError, match=TRUNCATED):
        list_tensors(path)


def _tensor_entries(path: str) -> dict:
    return json.loads(_header(path)[1]["__metadata__"]["rillet.tensors"])


def _rewrite_header(path: str, **changes: str) -> None:
    """Re-save ``path`` with changed rillet header entries (and a matching header checksum)."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    with safe_open(path, framework="np") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta.update(changes)
    meta["rillet.header_sha256"] = cio._header_sha(meta)
    save_file(tensors, path, metadata=meta)


def test_format_version_checks(tmp_path: Path) -> None:
    path = str(tmp_path / "v.safetensors")
    write_checkpoint(path, {"a": np.zeros(2)})
    _rewrite_header(path, **{"rillet.format_version": "2"})
    with pytest.raises(errors.InvalidArgumentError, match="format version 2"):
        read_checkpoint(path)
    _rewrite_header(path, **{"rillet.format_version": "x"})
    with pytest.raises(errors.DataLossError, match=TRUNCATED):
        read_checkpoint(path)


def test_headers_disagree(tmp_path: Path) -> None:
    path = str(tmp_path / "d.safetensors")
    write_checkpoint(path, {"a": np.zeros(2), "b": np.ones(3)})
    entries = _tensor_entries(path)
    del entries["b"]
    _rewrite_header(path, **{"rillet.tensors": json.dumps(entries)})
    with pytest.raises(errors.DataLossError, match="'b'"):
        read_checkpoint(path, ["a"])
    # A header that lies about a dtype is caught before the data is interpreted.
    write_checkpoint(path, {"a": np.zeros(2, np.float32)})
    entries = _tensor_entries(path)
    entries["a"]["dtype"] = "int32"
    _rewrite_header(path, **{"rillet.tensors": json.dumps(entries)})
    with pytest.raises(errors.DataLossError, match="'a'"):
        read_checkpoint(path)


# ----------------------------------------------------------------------------------------------
# State file


def _touch_ckpt(prefix: str | Path, step: int = 0) -> None:
    write_checkpoint(checkpoint_file(str(prefix)), {"x": np.array(step)}, {"global_step": step})


def test_state_round_trip_relative(tmp_path: Path) -> None:
    d = tmp_path / "train"
    d.mkdir()
    prefixes = [str(d / f"model.ckpt-{s}") for s in (90, 100)]
    update_checkpoint_state(str(d), prefixes[-1], prefixes)
    assert (d / "checkpoint").read_text() == (
        'model_checkpoint_path: "model.ckpt-100"\n'
        'all_model_checkpoint_paths: "model.ckpt-90"\n'
        'all_model_checkpoint_paths: "model.ckpt-100"\n'
    )
    state = get_checkpoint_state(str(d))
    assert state is not None
    assert state.model_checkpoint_path == prefixes[-1]
    assert state.all_model_checkpoint_paths == prefixes
    assert all(os.path.isabs(p) for p in state.all_model_checkpoint_paths)
    assert _tmp_leftovers(d) == []


def test_state_relocatable_and_relative_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkdir("run")
    update_checkpoint_state("run", os.path.join("run", "model.ckpt-5"))
    assert (
        (tmp_path / "run" / "checkpoint")
        .read_text()
        .startswith('model_checkpoint_path: "model.ckpt-5"\n')
    )
    os.rename("run", "moved")
    state = get_checkpoint_state("moved")
    assert state is not None
    assert state.model_checkpoint_path == str(tmp_path / "moved" / "model.ckpt-5")
    assert state.all_model_checkpoint_paths == [state.model_checkpoint_path]


def test_state_absolute_outside_dir(tmp_path: Path) -> None:
    d, other = tmp_path / "d", tmp_path / "elsewhere"
    d.mkdir()
    other.mkdir()
    outside, inside = str(other / "m.ckpt-1"), str(d / "sub" / "m.ckpt-2")
    update_checkpoint_state(str(d), inside, [outside, inside])
    text = (d / "checkpoint").read_text()
    assert f'all_model_checkpoint_paths: "{outside}"' in text
    assert 'model_checkpoint_path: "sub/m.ckpt-2"' in text.replace(os.sep, "/")
    state = get_checkpoint_state(d)
    assert state is not None
    assert state.all_model_checkpoint_paths == [outside, inside]


def test_state_appends_latest_and_timestamps(tmp_path: Path) -> None:
    a, b = str(tmp_path / "m-1"), str(tmp_path / "m-2")
    update_checkpoint_state(
        tmp_path, b, [a], all_model_checkpoint_timestamps=[1.5, 2.25], last_preserved_timestamp=1.0
    )
    state = get_checkpoint_state(tmp_path)
    assert state is not None
    assert state.all_model_checkpoint_paths == [a, b]
    assert state.all_model_checkpoint_timestamps == [1.5, 2.25]
    assert state.last_preserved_timestamp == 1.0
    with pytest.raises(ValueError, match="timestamps"):
        update_checkpoint_state(tmp_path, b, [a, b], all_model_checkpoint_timestamps=[1.0])


def test_state_parses_tensorflow_written_file(tmp_path: Path) -> None:
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "we\\"ird\\\\name\\303\\251.ckpt-3"\n'
        'all_model_checkpoint_paths: "/abs/model.ckpt-2"\n'
        'all_model_checkpoint_paths: "we\\"ird\\\\name\\303\\251.ckpt-3"\n'
        "all_model_checkpoint_timestamps: 1700000000.5\n"
        "all_model_checkpoint_timestamps: 1700000100\n"
        "last_preserved_timestamp: 1699999999.25\n"
        "some_future_field: 3\n"
    )
    state = get_checkpoint_state(str(tmp_path))
    assert state is not None
    want = str(tmp_path / 'we"ird\\nameé.ckpt-3')
    assert state.model_checkpoint_path == want
    assert state.all_model_checkpoint_paths == [os.path.abspath("/abs/model.ckpt-2"), want]
    assert state.all_model_checkpoint_timestamps == [1700000000.5, 1700000100.0]
    assert state.last_preserved_timestamp == 1699999999.25


def test_state_quoting_round_trip(tmp_path: Path) -> None:
    name = str(tmp_path / 'a "quoted"\\ \t name é\n.ckpt-1')
    update_checkpoint_state(tmp_path, name)
    assert len((tmp_path / "checkpoint").read_text().splitlines()) == 2  # newline escaped
    state = get_checkpoint_state(tmp_path)
    assert state is not None and state.model_checkpoint_path == name


def test_state_bad_files(tmp_path: Path) -> None:
    assert get_checkpoint_state(tmp_path) is None
    assert latest_checkpoint(tmp_path) is None
    (tmp_path / "checkpoint").write_bytes(b"\xff\xfe garbage")
    assert get_checkpoint_state(tmp_path) is None
    (tmp_path / "checkpoint").write_text("model_checkpoint_path: unquoted\n")
    assert get_checkpoint_state(tmp_path) is None
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "x"\n')
    with pytest.raises(ValueError, match="Invalid checkpoint state"):
        get_checkpoint_state(tmp_path)


def test_latest_checkpoint(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None
    p1, p2 = str(tmp_path / "model.ckpt-1"), str(tmp_path / "model.ckpt-2")
    _touch_ckpt(p1, 1)
    update_checkpoint_state(tmp_path, p1)
    assert latest_checkpoint(tmp_path) == p1
    assert latest_checkpoint(str(tmp_path)) == p1
    update_checkpoint_state(tmp_path, p2, [p1, p2])  # state names a file that does not exist
    assert latest_checkpoint(tmp_path) is None
    _touch_ckpt(p2, 2)
    assert latest_checkpoint(tmp_path) == p2
    assert read_metadata(latest_checkpoint(tmp_path) or "") == {"global_step": 2}
    # Custom state file name.
    update_checkpoint_state(tmp_path, p1, latest_filename="other_state")
    assert latest_checkpoint(tmp_path, "other_state") == p1
    assert latest_checkpoint(tmp_path) == p2


def test_prune_old() -> None:
    ps = [f"/c/m-{i}" for i in range(1, 6)]
    assert prune_old(ps, 3) == (ps[2:], ps[:2])
    assert prune_old(ps, 5) == (ps, [])
    assert prune_old(ps, 10) == (ps, [])
    assert prune_old(ps[:1], 1) == (ps[:1], [])
    assert prune_old([], 2) == ([], [])
    assert prune_old(ps, None) == (ps[-1:], [])  # TF: keep only the newest in the state file
    assert prune_old(ps, 0) == (ps[-1:], [])
    # Re-saving an old prefix moves it to the end and never deletes it.
    assert prune_old(["/c/a", "/c/b", "/c/c", "/c/a"], 2) == (["/c/c", "/c/a"], ["/c/b"])
    # keep_checkpoint_every_n_hours-style preservation.
    kept, delete = prune_old(ps, 2, preserve=lambda p: p.endswith("-2"))
    assert kept == ps[3:] and delete == ["/c/m-1", "/c/m-3"]
    with pytest.raises(ValueError):
        prune_old(ps, -1)


def test_saver_style_loop_deletes_after_state_update(tmp_path: Path) -> None:
    kept: list[str] = []
    for step in range(1, 8):
        prefix = str(tmp_path / f"model.ckpt-{step}")
        _touch_ckpt(prefix, step)
        kept, delete = prune_old(kept + [prefix], 3)
        update_checkpoint_state(tmp_path, prefix, kept)
        for p in delete:
            remove_checkpoint(p)
    state = get_checkpoint_state(tmp_path)
    assert state is not None
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        "model.ckpt-5",
        "model.ckpt-6",
        "model.ckpt-7",
    ]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["checkpoint"] + [f"model.ckpt-{s}.safetensors" for s in (5, 6, 7)]


# ----------------------------------------------------------------------------------------------
# Crash safety: SIGKILL a saving process at random moments


def _check_directory(directory: Path, durable: int, context: str) -> int:
    """Assert the directory is consistent after a crash; returns the latest step (0 if none).

    ``durable`` is the newest step known to be saved: the one this child started from, or the
    last it reported. Steps are saved in order, so the latest is ``durable`` or, if the child
    was killed between updating the state file and reporting, ``durable + 1``."""
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from _ckpt_kill_child import tensors_for
    finally:
        sys.path.pop(0)
    latest = latest_checkpoint(directory)
    if latest is None:
        assert durable == 0, f"{context}: no latest checkpoint after step {durable}"
        return 0
    step = int(latest.rsplit("-", 1)[1])
    assert durable <= step <= durable + 1, f"{context}: latest is {latest}, expected {durable}"
    state = get_checkpoint_state(directory)
    assert state is not None and state.all_model_checkpoint_paths[-1] == latest, context
    for prefix in state.all_model_checkpoint_paths:  # none of them deleted, all intact
        s = int(prefix.rsplit("-", 1)[1])
        got = read_checkpoint(prefix)  # verifies every checksum
        assert read_metadata(prefix) == {"global_step": s}, context
        want = tensors_for(s)
        assert set(got) == set(want), context
        for name, value in want.items():
            assert got[name].dtype == value.dtype, f"{context}: {prefix} {name}"
            np.testing.assert_array_equal(got[name], value, err_msg=f"{context}: {prefix}")
    return step


def test_sigkill_during_saves_never_corrupts_latest(tmp_path: Path) -> None:
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    seed = int(os.environ.get("RILLET_CKPT_SEED") or random.SystemRandom().randrange(1 << 30))
    rng = random.Random(seed)
    directory = tmp_path / "ckpts"
    directory.mkdir()
    step = n_saves = 0  # latest durable step; saves reported
    kills, torn_writes, known_leftovers = 20, 0, set[str]()
    for i in range(kills):
        context = f"seed={seed} kill #{i}"
        child = LineChild(str(REPO / "tests" / "_ckpt_kill_child.py"), str(directory))
        # Half the kills are timed from start-up, half from the first save of this life, so
        # some land during the first write and progress is guaranteed.
        child.wait_for("ready" if i % 2 == 0 else "saved")
        time.sleep(rng.uniform(0.0, 0.05))
        rc, err = child.finish(kill=True)
        assert rc == -signal.SIGKILL, f"{context}: child exited with {rc} on its own:\n{err}"
        assert f"ready {step}" in child.lines, f"{context}: did not resume from step {step}"
        leftovers = set(_tmp_leftovers(directory))
        torn_writes += bool(leftovers - known_leftovers)
        known_leftovers = leftovers
        saved = child.saved_steps()
        assert saved == list(range(step + 1, step + 1 + len(saved))), f"{context}: {saved}"
        step = _check_directory(directory, max([step, *saved]), context)
        n_saves += len(saved)
    assert n_saves > 0, f"seed={seed}: no save ever completed"
    # Stale temp files from killed writes are never mistaken for checkpoints.
    assert all(name.startswith(".") for name in _tmp_leftovers(directory))
    print(f"seed={seed}: {n_saves} saves, {torn_writes}/{kills} kills tore a write")

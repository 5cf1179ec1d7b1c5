"""Tests of rillet.datasets and the TF 1.x tutorial helper input_data (no network needed)."""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from rillet.datasets import ChecksumError, DatasetNotFoundError, _loader, fashion_mnist, mnist
from rillet.examples.tutorials.mnist import input_data

# ../shared/data/mnist beside the repository (where CI puts shared/), else this workplace's copy.
_BESIDE = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
SHARED_MNIST = Path(os.environ.get(
    "RILLET_TEST_MNIST", _BESIDE if _BESIDE.is_dir() else "/work/shared/data/mnist"))
NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


# --------------------------------------------------------------------------- helpers / fixtures

def _idx_bytes(arr: np.ndarray) -> bytes:
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    code = codes[arr.dtype.kind + str(arr.dtype.itemsize)]
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _write_tiny_mnist(directory: Path, n_train: int = 30, n_test: int = 10) -> dict:
    """Write four small, valid MNIST-layout IDX .gz files; return the arrays."""
    rng = np.random.default_rng(1)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        NAMES[1]: (np.arange(n_train) % 10).astype(np.uint8),
        NAMES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        NAMES[3]: (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }
    for name, arr in arrays.items():
        (directory / name).write_bytes(gzip.compress(_idx_bytes(arr)))
    return arrays


def _shared_dir() -> Path:
    if not all((SHARED_MNIST / n).is_file() for n in NAMES):
        pytest.skip(f"shared MNIST files not present at {SHARED_MNIST}")
    return SHARED_MNIST


@pytest.fixture(scope="module")
def mnist_dir() -> Path:
    return _shared_dir()


@pytest.fixture(scope="module")
def mnist_arrays(mnist_dir):
    return mnist.load_data(mnist_dir)


@pytest.fixture(scope="module")
def tf_datasets(mnist_dir):
    return input_data.read_data_sets(str(mnist_dir))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Cache in tmp_path and every download failing like a machine without network."""
    calls: list[str] = []

    def fail(url: str, timeout: float = 60.0) -> bytes:
        calls.append(url)
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setenv("RILLET_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(_loader, "_fetch", fail)
    return calls


def _serve_shared(monkeypatch, mnist_dir: Path, check=None) -> list[str]:
    """Make downloads return the shared files' bytes; returns the list of URLs fetched."""
    calls: list[str] = []

    def fetch(url: str, timeout: float = 60.0) -> bytes:
        calls.append(url)
        if check is not None:
            check(url)
        return (mnist_dir / url.rsplit("/", 1)[1]).read_bytes()

    monkeypatch.setattr(_loader, "_fetch", fetch)
    return calls


# --------------------------------------------------------------------------- mnist.load_data

def test_mnist_shapes_and_dtypes(mnist_arrays):
    (x_train, y_train), (x_test, y_test) = mnist_arrays
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
        assert a.flags.writeable


def test_mnist_labels_and_pixels(mnist_arrays):
    (x_train, y_train), (x_test, y_test) = mnist_arrays
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert y_train.min() == 0 and y_train.max() == 9
    assert np.bincount(y_test, minlength=10).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.min() == 0 and x_train.max() == 255
    assert x_train.mean() == pytest.approx(33.318421, abs=1e-5)
    assert x_test.mean() == pytest.approx(33.791224, abs=1e-5)


def test_hard_coded_checksums_match_shared_files(mnist_dir):
    for f in mnist.FILES:
        assert hashlib.sha256((mnist_dir / f.name).read_bytes()).hexdigest() == f.sha256


def test_load_data_from_npz_file(tmp_path):
    arrays = _write_tiny_mnist(tmp_path / "idx")
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=arrays[NAMES[0]], y_train=arrays[NAMES[1]],
             x_test=arrays[NAMES[2]], y_test=arrays[NAMES[3]])
    (x_train, y_train), (x_test, y_test) = mnist.load_data(npz)
    np.testing.assert_array_equal(x_train, arrays[NAMES[0]])
    np.testing.assert_array_equal(y_test, arrays[NAMES[3]])


def test_fashion_mnist_uses_same_loader(tmp_path):
    arrays = _write_tiny_mnist(tmp_path)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(tmp_path)
    np.testing.assert_array_equal(x_train, arrays[NAMES[0]])
    np.testing.assert_array_equal(y_train, arrays[NAMES[1]])
    np.testing.assert_array_equal(x_test, arrays[NAMES[2]])
    assert len(fashion_mnist.CLASS_NAMES) == 10
    assert all(f.sha256 and len(f.sha256) == 64 for f in fashion_mnist.FILES)


def test_read_idx_other_dtypes(tmp_path):
    arr = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    (tmp_path / "x.idx").write_bytes(_idx_bytes(arr))
    out = _loader.read_idx(tmp_path / "x.idx")
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.int32 and out.dtype.isnative


# --------------------------------------------------------------------------- corrupt files

def test_truncated_gzip_is_clear_value_error(tmp_path, mnist_dir):
    _write_tiny_mnist(tmp_path)
    raw = (mnist_dir / NAMES[3]).read_bytes()
    (tmp_path / NAMES[3]).write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz.*truncated"):
        mnist.load_data(tmp_path)


def test_truncated_idx_payload_is_clear_value_error(tmp_path):
    _write_tiny_mnist(tmp_path)
    raw = gzip.decompress((tmp_path / NAMES[0]).read_bytes())
    (tmp_path / NAMES[0]).write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: IDX data truncated"):
        mnist.load_data(tmp_path)


def test_wrong_magic_number(tmp_path):
    arrays = _write_tiny_mnist(tmp_path)
    # A label file where the images should be.
    (tmp_path / NAMES[2]).write_bytes(gzip.compress(_idx_bytes(arrays[NAMES[3]])))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: IDX magic number is 2049"):
        mnist.load_data(tmp_path)


def test_image_label_count_mismatch(tmp_path):
    _write_tiny_mnist(tmp_path)
    (tmp_path / NAMES[1]).write_bytes(gzip.compress(_idx_bytes(np.zeros(7, np.uint8))))
    with pytest.raises(ValueError, match="30 images but .*7 labels"):
        mnist.load_data(tmp_path)


# --------------------------------------------------------------------------- missing / download

def test_explicit_dir_missing_files_names_dir_and_files(tmp_path, offline):
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / NAMES[1]).write_bytes(b"")
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data(tmp_path / "partial")
    msg = str(info.value)
    assert str(tmp_path / "partial") in msg
    for name in (NAMES[0], NAMES[2], NAMES[3]):
        assert name in msg
    assert NAMES[1] not in info.value.missing
    assert offline == []  # an explicit directory never downloads


def test_offline_and_absent_is_file_not_found(tmp_path, offline):
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data()
    err = info.value
    assert isinstance(err, DatasetNotFoundError)
    cache = tmp_path / "cache" / "mnist"
    assert err.directory == str(cache)
    assert set(err.missing) == set(NAMES)
    msg = str(err)
    assert str(cache) in msg and "offline" in msg and "RILLET_DATA" in msg
    assert all(name in msg for name in NAMES)
    # Both mirrors were tried for the first file, then the loader gave up on the network.
    assert len(offline) == len(mnist.MIRRORS)
    assert not cache.exists() or not any(cache.iterdir())


def test_checksum_mismatch_detected_and_nothing_written(tmp_path, monkeypatch):
    monkeypatch.setenv("RILLET_DATA", str(tmp_path))
    monkeypatch.setattr(_loader, "_fetch", lambda url, timeout=60.0: b"not the real file")
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz"):
        mnist.load_data()
    cache = tmp_path / "mnist"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_corrupt_cached_file_detected(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv("RILLET_DATA", str(tmp_path))
    _serve_shared(monkeypatch, mnist_dir)
    mnist.download()
    target = tmp_path / "mnist" / NAMES[3]
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz.*Delete it"):
        mnist.load_data()


def test_download_is_atomic_and_verified(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv("RILLET_DATA", str(tmp_path))
    cache = tmp_path / "mnist"

    def not_there_yet(url: str) -> None:
        assert not (cache / url.rsplit("/", 1)[1]).exists()

    calls = _serve_shared(monkeypatch, mnist_dir, check=not_there_yet)
    assert mnist.download() == cache
    assert len(calls) == 4 and all(c.startswith(mnist.MIRRORS[0]) for c in calls)
    assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES)  # no temp files left
    for name in NAMES:
        assert (cache / name).read_bytes() == (mnist_dir / name).read_bytes()
    # A second load uses the cache: no more downloads.
    (_, y_train), _ = mnist.load_data()
    assert y_train[:3].tolist() == [5, 0, 4] and len(calls) == 4


def test_failed_write_leaves_no_file(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv("RILLET_DATA", str(tmp_path))
    _serve_shared(monkeypatch, mnist_dir)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_loader.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        mnist.download()
    cache = tmp_path / "mnist"
    assert list(cache.iterdir()) == []


def test_second_mirror_used_when_first_fails(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv("RILLET_DATA", str(tmp_path))

    def fetch(url: str, timeout: float = 60.0) -> bytes:
        if url.startswith(mnist.MIRRORS[0]):
            raise urllib.error.HTTPError(url, 403, "Forbidden", None, None)
        return (mnist_dir / url.rsplit("/", 1)[1]).read_bytes()

    monkeypatch.setattr(_loader, "_fetch", fetch)
    assert sorted(p.name for p in mnist.download().iterdir()) == sorted(NAMES)


# --------------------------------------------------------------------------- input_data

def test_read_data_sets_sizes(tf_datasets, mnist_arrays):
    train, validation, test = tf_datasets
    assert isinstance(tf_datasets, input_data.Datasets)
    assert (train.num_examples, validation.num_examples, test.num_examples) == (55000, 5000, 10000)
    assert train.images.shape == (55000, 784) and train.images.dtype == np.float32
    assert test.images.shape == (10000, 784)
    assert train.labels.shape == (55000,) and train.labels.dtype == np.uint8
    assert float(train.images.min()) == 0.0 and float(train.images.max()) == 1.0
    (x_train, y_train), _ = mnist_arrays
    # Validation is the front of the original train set, train the rest (before any batch).
    np.testing.assert_array_equal(validation.labels, y_train[:5000])
    expected = np.multiply(x_train[:5000].reshape(5000, 784).astype(np.float32), 1.0 / 255.0)
    np.testing.assert_array_equal(validation.images, expected)
    np.testing.assert_array_equal(train.labels[:5], y_train[5000:5005])


def test_read_data_sets_one_hot_uint8_no_reshape(mnist_dir, capsys):
    ds = input_data.read_data_sets(str(mnist_dir) + "/", one_hot=True, dtype="uint8",
                                   reshape=False)
    out = capsys.readouterr().out
    assert f"Extracting {mnist_dir}/train-images-idx3-ubyte.gz" in out.replace("//", "/")
    assert ds.train.images.shape == (55000, 28, 28, 1) and ds.train.images.dtype == np.uint8
    assert ds.train.labels.shape == (55000, 10) and ds.test.labels.shape == (10000, 10)
    assert ds.train.labels.dtype == np.float32
    np.testing.assert_array_equal(ds.train.labels.sum(axis=1), 1.0)
    assert ds.test.labels[:5].argmax(axis=1).tolist() == [7, 2, 1, 0, 4]


def test_next_batch_crosses_epoch_on_real_data(mnist_arrays):
    _, (x_test, y_test) = mnist_arrays
    test = input_data.DataSet(x_test[..., np.newaxis], y_test, seed=3)
    assert test.images.shape == (10000, 784) and float(test.images.max()) == 1.0
    x, y = test.next_batch(7000)
    assert x.shape == (7000, 784) and test.epochs_completed == 0
    x, y = test.next_batch(5000)  # 3000 left in the epoch + 2000 of the next
    assert x.shape == (5000, 784) and y.shape == (5000,)
    assert test.epochs_completed == 1


def _index_dataset(n: int, seed: int | None = 0) -> input_data.DataSet:
    images = np.arange(n, dtype=np.uint8).reshape(n, 1, 1, 1)
    return input_data.DataSet(images, np.arange(n), dtype="uint8", seed=seed)


def test_next_batch_without_shuffle_is_in_order_and_wraps():
    ds = _index_dataset(10)
    seen = []
    for _ in range(3):
        x, y = ds.next_batch(3, shuffle=False)
        seen.append(y.tolist())
        np.testing.assert_array_equal(x[:, 0], y)  # images stay aligned with labels
    assert seen == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and ds.epochs_completed == 0
    x, y = ds.next_batch(3, shuffle=False)
    assert y.tolist() == [9, 0, 1] and x.shape == (3, 1) and ds.epochs_completed == 1
    assert ds.next_batch(3, shuffle=False)[1].tolist() == [2, 3, 4]
    assert ds.next_batch(5, shuffle=False)[1].tolist() == [5, 6, 7, 8, 9]
    assert ds.epochs_completed == 1  # ended exactly at the boundary: not yet past it
    assert ds.next_batch(1, shuffle=False)[1].tolist() == [0] and ds.epochs_completed == 2


def test_next_batch_shuffled_sees_every_example_once_per_epoch():
    n, batch = 10, 4
    ds = _index_dataset(n, seed=123)
    stream, epochs = [], []
    for _ in range(15):  # 60 examples = 6 epochs
        x, y = ds.next_batch(batch)
        assert y.shape == (batch,)
        np.testing.assert_array_equal(x[:, 0], y)
        stream.extend(y.tolist())
        epochs.append(ds.epochs_completed)
    for e in range(6):
        assert sorted(stream[e * n:(e + 1) * n]) == list(range(n))
    assert stream[:n] != list(range(n))  # the first epoch was shuffled
    # epochs_completed goes up on the batch that crosses each boundary.
    assert epochs == [(i * batch - 1) // n for i in range(1, 16)]
    # Same seed, same order.
    again = _index_dataset(n, seed=123)
    assert again.next_batch(batch)[1].tolist() == stream[:batch]


def test_next_batch_rejects_oversized_batch():
    with pytest.raises(ValueError, match="batch_size"):
        _index_dataset(5).next_batch(6)


def test_fake_data():
    ds = input_data.read_data_sets("unused", fake_data=True, one_hot=True)
    assert ds.train.num_examples == 10000
    x, y = ds.train.next_batch(8)
    assert x.shape == (8, 784) and y.shape == (8, 10)
    assert (x == 1).all() and (y.argmax(axis=1) == 0).all()


def test_invalid_dtype_and_validation_size(tmp_path):
    _write_tiny_mnist(tmp_path)
    with pytest.raises(TypeError, match="uint8 or float32"):
        input_data.DataSet(np.zeros((2, 28, 28, 1)), np.zeros(2), dtype="float64")
    with pytest.raises(ValueError, match="Validation size should be between 0 and 30"):
        input_data.read_data_sets(tmp_path, validation_size=31)
    ds = input_data.read_data_sets(tmp_path, validation_size=10)
    assert (ds.train.num_examples, ds.validation.num_examples, ds.test.num_examples) == (20, 10, 10)


def test_read_data_sets_falls_back_to_cache(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv("RILLET_DATA", str(tmp_path / "cache"))
    train_dir = tmp_path / "MNIST_data"
    calls = _serve_shared(monkeypatch, mnist_dir)
    ds = input_data.read_data_sets(train_dir, dtype="uint8",
                                   source_url=mnist.MIRRORS[1])  # known mirror: tried first
    assert calls[0].startswith(mnist.MIRRORS[1])
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(NAMES)
    assert not train_dir.exists()
    assert ds.test.labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_read_data_sets_unknown_source_downloads_into_train_dir(tmp_path, monkeypatch):
    served = _write_tiny_mnist(tmp_path / "server")
    calls: list[str] = []

    def fetch(url: str, timeout: float = 60.0) -> bytes:
        calls.append(url)
        return (tmp_path / "server" / url.rsplit("/", 1)[1]).read_bytes()

    monkeypatch.setattr(_loader, "_fetch", fetch)
    train_dir = tmp_path / "data"
    ds = input_data.read_data_sets(train_dir, validation_size=5,
                                   source_url="http://example.invalid/my-mnist")
    assert calls[0] == "http://example.invalid/my-mnist/train-images-idx3-ubyte.gz"
    assert sorted(p.name for p in train_dir.iterdir()) == sorted(NAMES)
    np.testing.assert_array_equal(ds.validation.labels, served[NAMES[1]][:5])


def test_partial_train_dir_warns_and_uses_cache(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv("RILLET_DATA", str(mnist_dir.parent))
    if mnist_dir.name != "mnist":
        pytest.skip("shared MNIST directory is not named 'mnist'")
    monkeypatch.setattr(_loader, "_fetch", lambda url, timeout=60.0: pytest.fail("download"))
    train_dir = tmp_path / "MNIST_data"
    train_dir.mkdir()
    (train_dir / NAMES[3]).write_bytes((mnist_dir / NAMES[3]).read_bytes())
    with pytest.warns(UserWarning, match="holds only t10k-labels"):
        ds = input_data.read_data_sets(train_dir, dtype="uint8", validation_size=0)
    assert ds.train.num_examples == 60000


# --------------------------------------------------------------------------- digits

def test_digits_load_data():
    pytest.importorskip("sklearn")
    from rillet.datasets import digits

    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.max() == 255 and x_train.min() == 0
    assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(10))
    (x2, y2), _ = digits.load_data(seed=0)
    np.testing.assert_array_equal(y2, y_train)
    (_, y3), (_, y3_test) = digits.load_data(test_fraction=0.5, seed=1)
    assert len(y3) + len(y3_test) == 1797 and not np.array_equal(y3[:100], y_train[:100])
    with pytest.raises(ValueError, match="test_fraction"):
        digits.load_data(test_fraction=1.0)


def test_digits_without_sklearn_names_the_extra(monkeypatch):
    from rillet.datasets import digits

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'rillet\[datasets\]'"):
        digits.load_data()

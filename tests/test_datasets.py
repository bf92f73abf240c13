"""Data sets: IDX reader, standardisation, digits split, and the missing-data error."""

import gzip

import numpy as np
import pytest

from meanfield.tasks import datasets as ds


def write_idx(path, arr, code=0x08):
    arr = np.asarray(arr)
    head = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes()
    body = arr.astype({0x08: ">u1", 0x0D: ">f4"}[code]).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(head + body)


def fake_mnist(folder, rng, n_train=50, n_test=20, gz=True):
    suffix = ".gz" if gz else ""
    imgs = {k: rng.integers(0, 256, (n, 4, 3)) for k, n in (("train", n_train), ("test", n_test))}
    labs = {k: rng.integers(0, 10, n) for k, n in (("train", n_train), ("test", n_test))}
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", imgs["train"])
    write_idx(folder / f"t10k-images-idx3-ubyte{suffix}", imgs["test"])
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", labs["train"])
    write_idx(folder / f"t10k-labels-idx1-ubyte{suffix}", labs["test"])
    return imgs, labs


@pytest.mark.parametrize("gz", [True, False])
def test_idx_roundtrip_and_mnist_loader(tmp_path, rng, gz):
    imgs, labs = fake_mnist(tmp_path, rng, gz=gz)
    np.testing.assert_array_equal(
        ds.read_idx(tmp_path / f"train-images-idx3-ubyte{'.gz' if gz else ''}"), imgs["train"])
    data = ds.mnist(tmp_path)
    assert data.X_train.shape == (50, 12) and data.X_test.shape == (20, 12)
    np.testing.assert_array_equal(data.y_test, labs["test"])
    # standardised with the training statistics, per pixel
    raw_tr = imgs["train"].reshape(50, -1).astype(float)
    raw_te = imgs["test"].reshape(20, -1).astype(float)
    mu, sd = raw_tr.mean(0), raw_tr.std(0)
    np.testing.assert_allclose(data.X_test, (raw_te - mu) / sd, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(data.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(data.X_train.std(0), 1, atol=1e-5)


def test_idx_float_type_and_bad_files(tmp_path):
    arr = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    write_idx(tmp_path / "f.idx", arr, code=0x0D)
    np.testing.assert_array_equal(ds.read_idx(tmp_path / "f.idx"), arr)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        ds.read_idx(tmp_path / "bad")
    write_idx(tmp_path / "short", np.zeros((3, 2)))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-1])
    with pytest.raises(ValueError, match="header says shape"):
        ds.read_idx(tmp_path / "short")


def test_constant_pixels_are_only_centred():
    Xtr = np.array([[1.0, 5.0], [3.0, 5.0]])
    Xte = np.array([[2.0, 6.0]])
    tr, te = ds.standardise(Xtr, Xte)
    np.testing.assert_allclose(tr, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(te, [[0, 1]])


def test_missing_dataset_names_the_path_and_how_to_install(tmp_path, monkeypatch):
    monkeypatch.delenv("MEANFIELD_FASHION_MNIST", raising=False)
    with pytest.raises(ds.DatasetNotFoundError) as err:
        ds.fashion_mnist(tmp_path / "nowhere")
    msg = str(err.value)
    assert str(tmp_path / "nowhere") in msg and "apt-get install dataset-fashion-mnist" in msg
    assert "train-images-idx3-ubyte[.gz]" in msg
    with pytest.raises(ds.DatasetNotFoundError, match="no folder given"):
        ds.load_dataset("mnist")
    with pytest.raises(ValueError, match="dataset must be one of"):
        ds.load_dataset("cifar")


def test_digits_split_is_seeded_and_standardised():
    a, b, c = ds.digits(seed=0), ds.digits(seed=0), ds.digits(seed=1)
    assert a.X_train.shape == (1348, 64) and a.X_test.shape == (449, 64) and a.n_classes == 10
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.y_test, c.y_test)
    sd = a.X_train.std(0)
    np.testing.assert_allclose(sd[sd > 0], 1, atol=1e-4)
    np.testing.assert_allclose(a.X_train.mean(0), 0, atol=1e-5)
    assert set(np.unique(a.y_train)) == set(range(10))


@pytest.mark.skipif(not ds.FASHION_MNIST_DIR.is_dir(),
                    reason="Fashion-MNIST not installed: "
                           "sudo apt-get install dataset-fashion-mnist")
def test_fashion_mnist_from_debian_package():
    data = ds.fashion_mnist()
    assert data.X_train.shape == (60000, 784) and data.X_test.shape == (10000, 784)
    assert np.bincount(data.y_test).tolist() == [1000] * 10

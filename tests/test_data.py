import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnscratch as ns
from nnscratch.data import Standardizer, minibatches, num_batches, train_test_split

finite = st.floats(-1e6, 1e6)


@given(x=arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 4)), elements=finite))
def test_standardizer_properties(x):
    s = Standardizer().fit(x)
    z = s.transform(x)
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-6)
    spread = x.std(axis=0)
    for j in range(x.shape[1]):
        if spread[j] > 1e-6 * max(1.0, np.abs(x[:, j]).max()):
            assert abs(z[:, j].std() - 1) < 1e-6
        if np.all(x[:, j] == x[0, j]):  # constant feature: centred, not divided by (almost) zero
            assert np.abs(z[:, j]).max() <= 1e-12 * max(1.0, abs(x[0, j]))
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-9, atol=1e-9 * (1 + np.abs(x).max()))


def test_standardizer_per_feature_and_one_dimensional():
    x = np.array([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]])
    s = Standardizer().fit(x)
    np.testing.assert_allclose(s.mean_, [2.0, 20.0, 5.0])
    np.testing.assert_allclose(s.scale_, [1.0, 10.0, 1.0])
    np.testing.assert_allclose(s.transform(x), [[-1, -1, 0], [1, 1, 0]])
    y = np.array([2.0, 4.0, 6.0])
    np.testing.assert_allclose(Standardizer().fit_transform(y), (y - 4) / np.sqrt(8 / 3))
    assert Standardizer().fit(x).transform(x.astype(np.float32)).dtype == np.float32


def test_standardizer_errors():
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(np.ones((2, 2)))
    with pytest.raises(ns.ShapeError, match=r"\(3,\)"):
        Standardizer().fit(np.ones((4, 3))).transform(np.ones((4, 2)))
    with pytest.raises(ns.NonFiniteError, match="NaN"):
        Standardizer().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ns.ShapeError, match="N >= 1"):
        Standardizer().fit(np.ones((0, 2)))


@given(
    n=st.integers(1, 40),
    batch_size=st.integers(1, 50),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_minibatches_cover_the_data_once(n, batch_size, shuffle, drop_last, seed):
    X = np.arange(n * 2, dtype=float).reshape(n, 2)
    y = np.arange(n, dtype=float) * 10
    batches = list(minibatches(X, y, batch_size, shuffle=shuffle, rng=seed, drop_last=drop_last))
    assert len(batches) == num_batches(n, batch_size, drop_last)
    for xb, yb in batches:
        assert len(xb) == len(yb) and 1 <= len(xb) <= batch_size
        np.testing.assert_array_equal(xb[:, 0] / 2 * 10, yb)  # rows stay paired
        if drop_last:
            assert len(xb) == batch_size
    rows = np.concatenate([yb for _, yb in batches]) / 10 if batches else np.array([])
    assert len(set(rows)) == len(rows)
    if not drop_last:
        assert sorted(rows) == list(range(n))
    if not shuffle:
        np.testing.assert_array_equal(rows, np.arange(len(rows)))
    again = list(minibatches(X, y, batch_size, shuffle=shuffle, rng=seed, drop_last=drop_last))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(batches, again))


def test_minibatches_shuffle_changes_the_order():
    X, y = np.arange(100.0).reshape(-1, 1), np.arange(100.0)
    gen = np.random.default_rng(0)
    first = np.concatenate([yb for _, yb in minibatches(X, y, 10, rng=gen)])
    second = np.concatenate([yb for _, yb in minibatches(X, y, 10, rng=gen)])
    assert not np.array_equal(first, np.arange(100)) and not np.array_equal(first, second)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(batch_size=0), ns.ConfigError, "batch_size"),
        (dict(batch_size=-2), ns.ConfigError, "batch_size"),
        (dict(batch_size=2.5), ns.ConfigError, "integer"),
        (dict(batch_size=True), ns.ConfigError, "integer"),
    ],
)
def test_minibatches_bad_batch_size(kwargs, error, match):
    with pytest.raises(error, match=match):
        next(minibatches(np.ones((4, 1)), np.ones(4), **kwargs))


def test_minibatches_bad_data():
    with pytest.raises(ns.ShapeError, match="X has 4"):
        next(minibatches(np.ones((4, 1)), np.ones(3), 2))
    with pytest.raises(ns.ShapeError, match="empty"):
        next(minibatches(np.ones((0, 1)), np.ones(0), 2))
    with pytest.raises(ns.ShapeError, match="first axis"):
        next(minibatches(np.float64(1.0), np.ones(1), 2))


@given(n=st.integers(2, 60), frac=st.floats(0.01, 0.99), seed=st.integers(0, 1000), shuffle=st.booleans())
def test_train_test_split_partitions(n, frac, seed, shuffle):
    X = np.arange(n, dtype=float).reshape(n, 1)
    y = np.arange(n, dtype=float) + 0.5
    n_test = int(np.ceil(frac * n))
    if not 1 <= n_test <= n - 1:
        with pytest.raises(ns.ConfigError, match="at least one"):
            train_test_split(X, y, frac, rng=seed)
        return
    Xtr, Xte, ytr, yte = train_test_split(X, y, frac, rng=seed, shuffle=shuffle)
    assert len(Xte) == len(yte) == n_test and len(Xtr) == len(ytr) == n - n_test
    np.testing.assert_array_equal(Xtr[:, 0] + 0.5, ytr)
    np.testing.assert_array_equal(Xte[:, 0] + 0.5, yte)
    assert sorted(np.concatenate([Xtr[:, 0], Xte[:, 0]])) == list(range(n))
    if not shuffle:
        np.testing.assert_array_equal(Xte[:, 0], np.arange(n - n_test, n))
    np.testing.assert_array_equal(train_test_split(X, y, frac, rng=seed, shuffle=shuffle)[1], Xte)


def test_train_test_split_counts_and_errors():
    X, y = np.ones((10, 2)), np.ones(10)
    assert len(train_test_split(X, y, 3, rng=0)[1]) == 3
    with pytest.raises(ns.ConfigError, match="test_size"):
        train_test_split(X, y, 1.5)
    with pytest.raises(ns.ConfigError, match="at least one"):
        train_test_split(X, y, 10)
    with pytest.raises(ns.ShapeError, match="same number"):
        train_test_split(X, np.ones(9))


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 20), st.integers(1, 4)),
        # away from the subnormals, where NumPy's squares underflow (and scaling by 2^-k would round)
        elements=st.one_of(st.just(0.0), st.floats(1e-100, 1e6), st.floats(-1e6, -1e-100)),
    )
)
def test_standardizer_statistics_equal_numpys_bit_for_bit(x):
    # Mean and std are computed on x scaled by a power of two (so values near 1e308 do not overflow);
    # that scaling is exact, so on ordinary data the numbers are NumPy's own.
    s = Standardizer().fit(x)
    np.testing.assert_array_equal(s.mean_, x.mean(axis=0))
    std = x.std(axis=0)
    np.testing.assert_array_equal(s.scale_[s.scale_ != 1.0], std[s.scale_ != 1.0])


def test_standardizer_near_the_float64_limit():
    x = np.array([[1.0e308, 1e-300], [1.5e308, 3e-300], [1.7e308, 2e-300]])
    s = Standardizer().fit(x)  # NumPy's mean overflows to inf here and its std underflows to 0
    assert np.isfinite(s.mean_).all() and np.isfinite(s.scale_).all() and (s.scale_ > 0).all()
    np.testing.assert_allclose(s.mean_, [1.4e308, 2e-300], rtol=1e-15)
    np.testing.assert_allclose(s.transform(x).std(axis=0), [1.0, 1.0], rtol=1e-12)
    with pytest.raises(ns.NonFiniteError, match=r"spread of column 0 of x, max - min = 1e\+308 - \(-1e\+308\)"):
        Standardizer().fit(np.array([[1e308, 0.0], [-1e308, 1.0]]))

"""The flattened gradient-boosting model scores candidates exactly as scikit-learn does,
survives a save and load without scikit-learn's pickle, and a damaged file is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from loyalchat.receipts.reading.parse.trees import TreeEnsemble


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """No database here: skip the suite's table truncation."""


@pytest.fixture(scope="module")
def fitted() -> tuple[HistGradientBoostingClassifier, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, 6))
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values learn a side of each split
    y = ((np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 3]) * 0.5 > 0.2) ^ np.isnan(x[:, 1])).astype(
        int
    )
    model = HistGradientBoostingClassifier(max_iter=40, max_depth=5, random_state=0).fit(x, y)
    probe = rng.normal(size=(300, 6)) * 2
    probe[rng.random(probe.shape) < 0.15] = np.nan
    return model, probe


def test_scores_are_scikit_learns(fitted) -> None:
    model, probe = fitted
    ours = TreeEnsemble.from_sklearn(model).predict_proba(probe)
    assert np.allclose(ours, model.predict_proba(probe)[:, 1], atol=1e-12)
    assert 0.05 < float(np.mean(ours > 0.5)) < 0.95  # a model that separates, not a constant


def test_a_saved_model_loads_and_scores_the_same(fitted, tmp_path: Path) -> None:
    model, probe = fitted
    path = tmp_path / "ranker.npz"
    TreeEnsemble.from_sklearn(model).save(path)
    loaded = TreeEnsemble.load(path)
    assert np.allclose(loaded.predict_proba(probe), model.predict_proba(probe)[:, 1], atol=1e-12)


def test_a_damaged_or_foreign_file_is_refused(fitted, tmp_path: Path) -> None:
    model, _ = fitted
    good = tmp_path / "good.npz"
    TreeEnsemble.from_sklearn(model).save(good)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(ValueError):
        TreeEnsemble.load(cut)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a tree ensemble"):
        TreeEnsemble.load(other)
    text = tmp_path / "text.npz"
    text.write_text("not a model")
    with pytest.raises(ValueError):
        TreeEnsemble.load(text)


def test_rows_must_be_a_table(fitted) -> None:
    model, _ = fitted
    with pytest.raises(ValueError):
        TreeEnsemble.from_sklearn(model).predict_proba([1.0, 2.0])

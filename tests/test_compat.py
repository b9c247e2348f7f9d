"""Tests for `keras_lrfind._compat`: the version guards around Keras internals and bugs."""

from __future__ import annotations

import keras
import pytest

from keras_lrfind._compat import versions as _compat


class TestKerasVersion:
    def test_matches_keras_version_string(self):
        """`keras_version()` is `keras.version()` as a tuple of three ints."""
        expected = tuple(int(part) for part in keras.version().split(".")[:3])
        assert _compat.keras_version() == expected


class TestHasKerasBug:
    @pytest.mark.parametrize(
        ("fixed_in", "has_bug"),
        [(None, True), ((99, 0, 0), True), ((3, 0, 0), False)],
        ids=["not_fixed", "fixed_in_a_later_release", "fixed_in_an_earlier_release"],
    )
    def test_refusals_stop_once_keras_fixed_the_bug(self, monkeypatch, fixed_in, has_bug):
        """A bug counts while the running Keras is older than the release that fixed it."""
        for name in _compat._KERAS_BUG_FIXED_IN:
            monkeypatch.setitem(_compat._KERAS_BUG_FIXED_IN, name, fixed_in)
            assert _compat.has_keras_bug(name) is has_bug

    def test_every_known_bug_is_present_in_the_pinned_keras(self):
        """Keras 3.15.1 has every bug listed (tests/test_distribution.py reproduces them)."""
        assert all(_compat.has_keras_bug(name) for name in _compat._KERAS_BUG_FIXED_IN)

"""Tests for `LRFinderResult`: derived values, JSON round-trips, errors."""

from __future__ import annotations

import json
import math
import os
import re
import warnings

import numpy as np
import pytest

import keras_lrfind
from keras_lrfind import LRFinderResult

# Root may write anywhere, so read-only places cannot be tested as root.
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def make_result(**overrides):
    values = dict(
        learning_rates=[1e-4, 1e-3, 1e-2, 1e-1, 1.0],
        losses=[2.0, 1.5, 0.7, 0.9, math.nan],
        smoothed_losses=[2.0, 1.8, 1.2, 0.8, math.nan],
        stop_reason="non_finite_loss",
        start_lr=1e-4,
        end_lr=1.0,
        num_steps=5,
    )
    values.update(overrides)
    return LRFinderResult(**values)


class TestLRFinderResult:
    def test_min_loss_is_the_lowest_finite_smoothed_loss(self):
        """`lr_at_min_loss`/`min_loss` come from the lowest finite smoothed loss, NaN ignored."""
        result = make_result()
        assert result.min_loss_index == 3
        assert result.lr_at_min_loss == 1e-1
        assert result.min_loss == 0.8

    def test_all_nan_curve_has_no_minimum(self):
        """A curve with no finite loss has NaN minimum values."""
        result = make_result(
            learning_rates=[1e-3], losses=[math.nan], smoothed_losses=[math.nan], num_steps=100
        )
        assert result.min_loss_index is None
        assert math.isnan(result.lr_at_min_loss) and math.isnan(result.min_loss)

    @pytest.mark.parametrize(
        ("old", "new", "expected"),
        [
            ("best_lr", "lr_at_min_loss", 1e-1),
            ("best_loss", "min_loss", 0.8),
            ("best_index", "min_loss_index", 3),
        ],
    )
    def test_old_names_still_work_with_a_deprecation_warning(self, old, new, expected):
        """`best_lr`, `best_loss` and `best_index` read the renamed values, and warn."""
        with pytest.warns(DeprecationWarning, match=rf"`{old}` was renamed `{new}`"):
            assert getattr(make_result(), old) == expected

    def test_step_mode_and_its_deprecated_name(self):
        """`step_mode` is stored; `mode` still works as an argument and an attribute, warning."""
        assert make_result(step_mode="linear").step_mode == "linear"
        with pytest.warns(DeprecationWarning, match=r"`mode` was renamed `step_mode`"):
            result = make_result(mode="linear")
        assert result.step_mode == "linear"
        with pytest.warns(DeprecationWarning, match=r"`mode` was renamed `step_mode`"):
            assert result.mode == "linear"

    def test_sweep_settings_are_read_only(self):
        """The sweep's settings cannot be changed after the fact (they were validated once)."""
        result = make_result()
        with pytest.raises(AttributeError):
            result.num_steps = 3

    @pytest.mark.parametrize(
        ("overrides", "error", "match"),
        [
            ({"start_lr": -1.0}, ValueError, r"`start_lr` must be a positive, finite"),
            ({"end_lr": 1e-5}, ValueError, r"`end_lr` must be greater than `start_lr`"),
            ({"num_steps": 1}, ValueError, r"`num_steps` must be at least 2"),
            ({"step_mode": "cosine"}, ValueError, r"`step_mode` must be one of"),
            ({"smoothing": 1.5}, ValueError, r"`smoothing` must be in \[0, 1\)"),
            ({"diverge_threshold": "4"}, TypeError, r"`diverge_threshold` must be a Python number"),
        ],
    )
    def test_sweep_settings_are_validated(self, overrides, error, match):
        """A result's sweep settings are checked like the range test's arguments."""
        with pytest.raises(error, match=match):
            make_result(**overrides)

    def test_json_round_trip_with_nan(self, tmp_path):
        """`to_json` writes standard JSON (NaN as null) and `from_json` reads it back."""
        result = make_result(validation_losses=[3.0, 2.0, 1.0, 2.0, 4.0])
        text = result.to_json()
        data = json.loads(text)  # Standard JSON: the NaN is a null.
        assert data["losses"][-1] is None
        for loaded in (
            LRFinderResult.from_json(text),
            LRFinderResult.from_json(
                result.to_json(tmp_path / "curve.json") and tmp_path / "curve.json"
            ),
            LRFinderResult.from_json(str(tmp_path / "curve.json")),
        ):
            np.testing.assert_array_equal(loaded.learning_rates, result.learning_rates)
            np.testing.assert_array_equal(loaded.losses, result.losses)  # NaN == NaN here.
            np.testing.assert_array_equal(loaded.smoothed_losses, result.smoothed_losses)
            np.testing.assert_array_equal(loaded.validation_losses, result.validation_losses)
            assert loaded.stop_reason == result.stop_reason
            assert (loaded.start_lr, loaded.end_lr, loaded.num_steps) == (1e-4, 1.0, 5)
            assert (loaded.step_mode, loaded.smoothing, loaded.diverge_threshold) == (
                "exponential",
                0.98,
                4.0,
            )

    def test_reads_files_that_spell_step_mode_mode(self):
        """Files written before the rename (key `mode`) still load."""
        data = make_result(step_mode="linear").to_dict()
        data["mode"] = data.pop("step_mode")
        assert LRFinderResult.from_dict(data).step_mode == "linear"

    def test_repr_is_readable(self):
        """The repr names the length, range, stop reason and the curve's minimum."""
        text = repr(make_result())
        assert text == (
            "LRFinderResult(steps=5/5, lr=0.0001..1 (exponential), "
            "stop_reason='non_finite_loss', lr_at_min_loss=0.1, min_loss=0.8)"
        )

    def test_mismatched_lengths(self):
        """Curves of different lengths are refused with the lengths."""
        with pytest.raises(ValueError, match=r"same length.*'losses': 2"):
            make_result(losses=[1.0, 2.0])

    def test_unknown_stop_reason(self):
        """An unknown stop reason is refused with the accepted ones."""
        with pytest.raises(ValueError, match=r"`stop_reason` must be one of.*stop_reason='bored'"):
            make_result(stop_reason="bored")

    def test_foreign_json(self):
        """JSON that is not a saved result is refused."""
        with pytest.raises(ValueError, match=r"not a saved keras_lrfind result"):
            LRFinderResult.from_json('{"format": "something else"}')


def curve_result(num_steps=100, stop_reason="diverged", end=0.0):
    """A range-test result over 1e-6..10**end with a valley at 1e-2 and a divergent tail."""
    learning_rates = np.logspace(-6, end, num_steps)
    x = np.log10(learning_rates)
    losses = 2.3 - 1.6 * np.exp(-(((x + 2) / 0.6) ** 2)) + 0.02 * np.sin(7 * x)
    losses = np.where(x > -0.8, losses + 10 * (x + 0.8) ** 2, losses)
    return result_of(learning_rates, losses, stop_reason)


def result_of(learning_rates, losses, stop_reason):
    """A range-test result of these batch losses, smoothed as the finder smooths them (an
    exponential moving average, 0.98, with bias correction)."""
    average, smoothed = 0.0, []
    for i, loss in enumerate(losses):
        average = 0.98 * average + 0.02 * loss
        smoothed.append(average / (1 - 0.98 ** (i + 1)))
    return LRFinderResult(
        learning_rates=learning_rates,
        losses=losses,
        smoothed_losses=smoothed,
        stop_reason=stop_reason,
        start_lr=float(learning_rates[0]),
        end_lr=float(learning_rates[-1]),
        num_steps=len(losses),
    )


class TestSuggestions:
    def test_default_is_one_cycle_on_the_trimmed_raw_losses(self):
        """`suggest()` runs `one_cycle` on the raw losses, trimmed as fastai trims."""
        result = curve_result()
        expected = keras_lrfind.suggestions.one_cycle(
            result.learning_rates[10:95], result.losses[10:95]
        )
        assert result.suggest() == expected
        assert 1e-3 < expected < 1e-1

    def test_an_unreadable_curve_that_never_broke_answers_fastai_s_valley(self):
        """A sweep that completed without breaking and whose loss never fell (noise around
        chance) cannot be read: `suggest()` answers fastai's `valley` of it and says so,
        rather than its own reading of a valley that is noise."""
        learning_rates = np.logspace(-6, 0, 100)
        losses = 2.3 + 0.05 * np.random.default_rng(0).standard_normal(100)
        result = result_of(learning_rates, losses, "completed")
        trimmed = (learning_rates[10:95], losses[10:95])
        assert keras_lrfind.suggestions.cannot_read(*trimmed)
        own = keras_lrfind.suggestions.one_cycle(*trimmed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            answer, valley = result.suggest(), result.suggest("valley")
        said = [str(warning.message) for warning in caught]
        assert any("cannot be read and training never broke" in text for text in said), said
        assert answer == valley != own
        assert result.suggestions()["one_cycle"] == answer

    def test_the_unreadable_curve_fallback_never_answers_the_end_of_the_sweep(self):
        """fastai's `valley` answers the last learning rate when its longest valley is the
        first two points (a quirk it keeps). On a curve that never broke that would be the
        end of the sweep: `suggest()` keeps its own reading there instead."""
        learning_rates = np.logspace(-6, 0, 100)
        losses = 2.3 + 0.05 * np.random.default_rng(0).standard_normal(100)
        smoothed = 2.3 + 1e-4 * np.arange(100)  # Rising but for one dip where the trim starts.
        smoothed[11] = smoothed[10] - 1e-3
        result = LRFinderResult(
            learning_rates=learning_rates,
            losses=losses,
            smoothed_losses=smoothed,
            stop_reason="completed",
            start_lr=1e-6,
            end_lr=1.0,
            num_steps=100,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            valley, answer = result.suggest("valley"), result.suggest()
        assert valley == learning_rates[94]  # The trimmed curve's last point.
        trimmed = (learning_rates[10:95], losses[10:95])
        assert answer == keras_lrfind.suggestions.one_cycle(*trimmed) < valley

    @pytest.mark.parametrize("name", ["valley", "slide", "minimum", "steep"])
    def test_fastai_methods_read_the_trimmed_smoothed_curve(self, name):
        """Each fastai method gets the smoothed curve minus the first 10 and last 5 points."""
        result = curve_result()
        method = keras_lrfind.suggestions.FASTAI_METHODS[name]
        expected = method(result.learning_rates[10:95], result.smoothed_losses[10:95])
        assert result.suggest(name) == expected
        assert result.suggestions()[name] == expected

    def test_skip_arguments(self):
        """`skip_start`/`skip_end` change the trimmed range."""
        result = curve_result()
        expected = keras_lrfind.suggestions.minimum(
            result.learning_rates[3:98], result.smoothed_losses[3:98]
        )
        assert result.suggest("minimum", skip_start=3, skip_end=2) == expected

    def test_suggestions_lists_every_method_default_first(self):
        """`suggestions()` maps every method to a float, ours first."""
        suggestions = curve_result().suggestions()
        assert list(suggestions) == ["one_cycle", "valley", "slide", "minimum", "steep"]
        assert all(isinstance(lr, float) for lr in suggestions.values())

    def test_unknown_method(self):
        """An unknown method name is refused with the known ones."""
        with pytest.raises(ValueError, match=r"method='fast'.*'minimum'"):
            curve_result().suggest("fast")

    def test_curve_is_what_the_methods_read(self):
        """`curve()` drops a tenth of the planned steps and 5 points, and keeps three arrays."""
        result = curve_result()
        learning_rates, smoothed, raw = result.curve()
        np.testing.assert_array_equal(learning_rates, result.learning_rates[10:95])
        np.testing.assert_array_equal(smoothed, result.smoothed_losses[10:95])
        np.testing.assert_array_equal(raw, result.losses[10:95])
        curve = result.curve(skip_start=3, skip_end=0)
        np.testing.assert_array_equal(curve.learning_rates, result.learning_rates[3:])
        np.testing.assert_array_equal(curve.losses, result.losses[3:])

    def test_suggestions_raise_what_is_not_a_short_curve(self):
        """`suggestions()` maps only "too few points" to None; a bad argument still raises."""
        result = curve_result()
        with pytest.raises(ValueError, match=r"Received: methods='fast'"):
            result.suggestions(methods=["fast"])
        with pytest.raises(TypeError, match=r"`skip_start` must be a non-negative integer"):
            result.suggestions(skip_start=2.5)

    def test_suggestions_of_a_curve_too_short_for_every_method(self):
        """A curve that leaves no point after trimming maps every method to None."""
        suggestions = curve_result(num_steps=12).suggestions(skip_start=7)
        assert suggestions == dict.fromkeys(keras_lrfind.suggestions.METHODS, None)

    def test_too_few_points_is_a_value_error_with_counts(self):
        """Fewer points than a method needs raises with the counts."""
        result = curve_result(num_steps=20)
        with pytest.raises(ValueError, match=r"`slide` with lr_diff=15 needs at least 16 points"):
            result.suggest("slide", warn=False)
        assert result.suggestions()["slide"] is None

    def test_warns_when_the_sweep_never_diverged(self):
        """A completed sweep that stops while the loss still falls warns."""
        result = curve_result(stop_reason="completed", end=-2.5)
        with pytest.warns(keras_lrfind.LRFinderWarning, match="without the loss rising again"):
            result.suggest()

    def test_healthy_curve_does_not_warn(self):
        """A curve with a valley and a divergent tail gives no warning."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            curve_result().suggest()

    def test_suggest_range_follows_smith(self):
        """`suggest_range()` is (max_lr / 4, max_lr) by default, the ratio configurable."""
        result = curve_result()
        max_lr = result.suggest()
        assert result.suggest_range() == (max_lr / 4, max_lr)
        assert result.suggest_range(ratio=3.0) == (max_lr / 3, max_lr)
        with pytest.raises(ValueError, match=r"`ratio` must be.*ratio=1"):
            result.suggest_range(ratio=1)

    def test_bad_skip(self):
        """A negative skip is refused."""
        with pytest.raises(
            ValueError, match=r"`skip_start` must be non-negative. Received: skip_start=-1"
        ):
            curve_result().suggest(skip_start=-1)


class TestScheduleBuilders:
    def test_one_cycle_peaks_at_the_suggestion(self):
        """`one_cycle(total_steps)` is a OneCycle with max_lr = suggest()."""
        result = curve_result()
        schedule = result.one_cycle(200, pct_start=0.25)
        assert isinstance(schedule, keras_lrfind.OneCycle)
        assert schedule.get_config()["max_lr"] == pytest.approx(result.suggest())
        assert schedule.get_config()["total_steps"] == 200
        assert schedule.get_config()["pct_start"] == 0.25
        assert result.one_cycle(100, max_lr=0.5).get_config()["max_lr"] == 0.5

    def test_cyclic_spans_the_suggested_range(self):
        """`cyclic(step_size_up)` cycles between the bounds of `suggest_range()`."""
        result = curve_result()
        schedule = result.cyclic(50, mode="triangular2")
        base_lr, max_lr = result.suggest_range()
        config = schedule.get_config()
        assert (config["base_lr"], config["max_lr"]) == pytest.approx((base_lr, max_lr))
        assert (config["step_size_up"], config["mode"]) == (50, "triangular2")


class TestFailedRuns:
    def test_non_finite_weights_refuses_every_suggestion(self):
        """A test whose weights went NaN has failed: no learning rate is suggested from it."""
        healthy = curve_result()
        result = LRFinderResult(
            healthy.learning_rates,
            healthy.losses,
            healthy.smoothed_losses,
            "non_finite_weights",
            healthy.start_lr,
            healthy.end_lr,
            healthy.num_steps,
        )
        for suggest in (
            result.suggest,
            lambda: result.suggest("valley"),
            result.suggest_range,
            lambda: result.one_cycle(100),
            lambda: result.cyclic(50),
        ):
            with pytest.raises(ValueError, match=r"weights became NaN or infinite.*np.isfinite"):
                suggest()
        assert result.suggestions() == dict.fromkeys(keras_lrfind.suggestions.METHODS, None)

    def test_nan_from_the_first_step_says_why_without_warning_first(self):
        """A curve NaN from step 0 raises the reason (and the fix), with no warning before it."""
        result = make_result(
            learning_rates=[1e-7], losses=[math.nan], smoothed_losses=[math.nan], num_steps=100
        )
        with pytest.raises(ValueError, match=r"0 of the 1 recorded remain.*from the first step"):
            result.suggest()  # `filterwarnings = error`: a warning first would fail here.

    def test_never_rose_warning_names_the_sweeps_end_lr(self):
        """The "never rose again" warning gives the sweep's `end_lr`, not the last point read."""
        result = curve_result(stop_reason="completed", end=-2.5)
        last_read = result.curve().learning_rates[-1]
        with pytest.warns(keras_lrfind.LRFinderWarning, match="without the loss rising") as caught:
            result.suggest()
        (message,) = [str(w.message) for w in caught]
        assert f"end_lr={10**-2.5:.3g}" in message
        assert f"end_lr={last_read:.3g}" not in message

    @pytest.mark.parametrize(
        ("build", "match"),
        [
            (lambda r: r.cyclic(0), r"`step_size_up` must be a positive"),
            (lambda r: r.cyclic(10, mode="sine"), r"`mode` must be one of"),
            (lambda r: r.one_cycle(0), r"`total_steps` must be"),
            (lambda r: r.one_cycle(100, pct_start=2.0), r"`pct_start` must be"),
        ],
    )
    def test_schedule_builders_check_their_arguments_before_suggesting(self, build, match):
        """A bad schedule argument is refused before `suggest()` runs (and warns)."""
        result = curve_result(stop_reason="completed", end=-2.5)  # Would warn.
        with pytest.raises(ValueError, match=match):
            build(result)


class TestResultFiles:
    def write(self, tmp_path, content):
        path = tmp_path / "curve.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("", r"`path` is not a file name\. Received: path=''"),
            ("a\0b", r"`path` is not a file name"),
            ("missing/curve.json", r"`path` is in '.*missing', which is not a directory.*"
             r"Create the directory first"),
            (".", r"`path` is a directory"),
        ],
    )  # fmt: skip
    def test_to_json_refuses_a_path_it_cannot_write(self, tmp_path, monkeypatch, name, message):
        """Before writing anything: the argument, the value and the fix."""
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ValueError, match=message):
            make_result().to_json(name)
        assert list(tmp_path.iterdir()) == []

    def test_to_json_refuses_a_path_under_a_file(self, tmp_path, monkeypatch):
        """A path whose folder is an existing file (root cannot write there either)."""
        monkeypatch.chdir(tmp_path)
        (tmp_path / "a_file").write_text("mine")
        message = (
            r"^`path` is in 'a_file', which is not a directory\. Received: "
            r"path='a_file/curve\.json'\. Create the directory first\.$"
        )
        with pytest.raises(ValueError, match=message):
            make_result().to_json("a_file/curve.json")
        assert (tmp_path / "a_file").read_text() == "mine"

    @pytest.mark.skipif(ROOT, reason="root may write into read-only directories and files")
    def test_to_json_refuses_read_only_places(self, tmp_path, monkeypatch):
        """A read-only directory or file is refused before writing, naming the fix."""
        monkeypatch.chdir(tmp_path)
        (tmp_path / "locked").mkdir()
        (tmp_path / "kept.json").write_text("mine")
        (tmp_path / "kept.json").chmod(0o444)
        (tmp_path / "locked").chmod(0o555)
        try:
            with pytest.raises(
                ValueError,
                match=r"^`path` is in 'locked', a directory this process cannot write to\. "
                r"Received: path='locked/curve\.json'\. Choose a directory you can write to, "
                r"or change its permissions\.$",
            ):
                make_result().to_json("locked/curve.json")
            with pytest.raises(
                ValueError,
                match=r"^`path` is a read-only file\. Received: path='kept\.json'\. Choose "
                r"another path, or change the file's permissions\.$",
            ):
                make_result().to_json("kept.json")
        finally:
            (tmp_path / "locked").chmod(0o755)
        assert (tmp_path / "kept.json").read_text() == "mine"
        assert list((tmp_path / "locked").iterdir()) == []

    @pytest.mark.parametrize("name", ["{run}.json", "[1, 2].json", " {x}"])
    def test_existing_file_named_like_json_is_a_file(self, tmp_path, monkeypatch, name):
        """A `str` naming an existing file is read as the file, even if it starts like JSON."""
        monkeypatch.chdir(tmp_path)
        result = make_result(stop_reason="diverged")
        result.to_json(name)
        for source in (name, str(tmp_path / name)):
            assert LRFinderResult.from_json(source).stop_reason == "diverged"

    def test_file_wins_over_json_text(self, tmp_path, monkeypatch):
        """A `str` that is both an existing file and valid JSON (`"1"`) is the file."""
        monkeypatch.chdir(tmp_path)
        make_result(stop_reason="diverged").to_json("1")
        assert LRFinderResult.from_json("1").stop_reason == "diverged"

    @pytest.mark.parametrize(
        ("source", "path_reading", "json_reading"),
        [
            ("missing.json", "no such file", "Expecting value at line 1, column 1"),
            ('{"format": ', "no such file", "Expecting value at line 1, column 12"),
            (".", "a directory, not a file", "Expecting value at line 1, column 1"),
            ("", "not a file name", "Expecting value at line 1, column 1"),
        ],
    )
    def test_neither_a_file_nor_json(
        self, tmp_path, monkeypatch, source, path_reading, json_reading
    ):
        """A `str` that is neither an existing file nor JSON text names both readings."""
        monkeypatch.chdir(tmp_path)
        message = (
            r"^Cannot load a keras_lrfind result: `source` is neither an existing file nor "
            rf"valid JSON text\. Received: source={re.escape(repr(source))}\. As a path: "
            rf"{path_reading}\. As the JSON text: it is not valid JSON \({json_reading}\)\. "
            r"Pass the path of a file written by `result\.to_json\(path\)`, or the text "
            r"`result\.to_json\(\)` returns\.$"
        )
        with pytest.raises(ValueError, match=message):
            LRFinderResult.from_json(source)

    def test_missing_path_object(self, tmp_path):
        """A `pathlib.Path` is always a path: a missing one is `FileNotFoundError`."""
        with pytest.raises(FileNotFoundError):
            LRFinderResult.from_json(tmp_path / "missing.json")

    @pytest.mark.parametrize("reader", ["from_dict", "from_json"])
    def test_more_points_than_num_steps(self, reader):
        """A saved result can never hold more points than its planned steps: refused."""
        data = make_result().to_dict()  # 5 points.
        data["num_steps"] = 4
        message = (
            r"A range test records at most one point per planned step, so the curves can hold "
            r"at most `num_steps` points\. Received: num_steps=4, 5 points\. Pass the "
            r"`num_steps` the test was planned with\."
        )
        source = data if reader == "from_dict" else json.dumps(data)
        with pytest.raises(ValueError, match=message):
            getattr(LRFinderResult, reader)(source)
        data["num_steps"] = 5  # As many points as steps: a completed test.
        assert (
            getattr(LRFinderResult, reader)(
                data if reader == "from_dict" else json.dumps(data)
            ).num_recorded
            == 5
        )

    def test_more_points_than_num_steps_in_a_file(self, tmp_path):
        """The file's error names the file: 2,000 points recorded by a 100-step test."""
        data = make_result().to_dict()
        for name in ("learning_rates", "losses", "smoothed_losses"):
            data[name] = (data[name][:4] * 500)[:2000]
        data["num_steps"] = 100
        path = self.write(tmp_path, data)
        with pytest.raises(ValueError, match=r"curve\.json.*Received: num_steps=100, 2000 points"):
            LRFinderResult.from_json(path)

    def test_constructor_refuses_more_points_than_num_steps(self):
        """`LRFinderResult(...)` holds the same rule, so every result it builds round-trips."""
        with pytest.raises(ValueError, match=r"Received: num_steps=4, 5 points\."):
            make_result(num_steps=4)

    def test_json_list(self, tmp_path):
        """A file holding a JSON list names the file and what was expected."""
        path = self.write(tmp_path, [1, 2, 3])
        with pytest.raises(ValueError, match=r"curve\.json.*a JSON object.*Received: a JSON list"):
            LRFinderResult.from_json(path)

    @pytest.mark.parametrize("field", ["end_lr", "stop_reason", "losses", "num_steps"])
    def test_missing_field(self, tmp_path, field):
        """A missing field is named, with the file."""
        data = make_result().to_dict()
        del data[field]
        path = self.write(tmp_path, data)
        with pytest.raises(ValueError, match=rf"curve\.json.*the field `{field}` is missing"):
            LRFinderResult.from_json(path)

    @pytest.mark.parametrize(
        ("field", "value", "error", "match"),
        [
            ("num_steps", "ten", TypeError, r"`num_steps` must be an integer"),
            ("end_lr", None, TypeError, r"`end_lr` must be a Python number"),
            ("losses", "abc", TypeError, r"`losses` must be a list of numbers"),
            ("losses", [1.0, "x", 2.0, 3.0, 4.0], TypeError, r"losses\[1\]='x'"),
            ("learning_rates", [1.0], ValueError, r"same length"),
            ("stop_reason", 3, ValueError, r"`stop_reason` must be one of"),
        ],
    )
    def test_field_of_the_wrong_type(self, tmp_path, field, value, error, match):
        """A field of the wrong type or value names the file, the field and what it must be."""
        data = make_result().to_dict()
        data[field] = value
        path = self.write(tmp_path, data)
        with pytest.raises(error, match=rf"curve\.json.*{match}"):
            LRFinderResult.from_json(path)

    def test_truncated_file(self, tmp_path):
        """A file cut short says so, with the file and the position."""
        text = make_result().to_json()
        path = self.write(tmp_path, text[: len(text) // 2])
        with pytest.raises(ValueError, match=r"curve\.json.*not valid JSON.*line \d+, column \d+"):
            LRFinderResult.from_json(path)

    def test_binary_file(self, tmp_path):
        """A binary file names the file and says it is not JSON text."""
        path = self.write(tmp_path, bytes(range(128, 256)))
        with pytest.raises(ValueError, match=r"curve\.json.*not UTF-8 text"):
            LRFinderResult.from_json(path)

    def test_truncated_text(self):
        """JSON text (not a file) is named as such."""
        with pytest.raises(ValueError, match=r"the JSON text.*not valid JSON"):
            LRFinderResult.from_json('{"format": ')

    @pytest.mark.parametrize("source", [5, None, b"{}", ["curve.json"]])
    def test_source_of_the_wrong_type(self, source):
        """`from_json` takes JSON text or a path; an int is not read as a file descriptor."""
        with pytest.raises(TypeError, match=r"`source` must be JSON text or the path"):
            LRFinderResult.from_json(source)

    @pytest.mark.parametrize("data", ["{}", [], None])
    def test_from_dict_of_the_wrong_type(self, data):
        """`from_dict` takes a dict."""
        with pytest.raises(TypeError, match=r"`data` must be a dict"):
            LRFinderResult.from_dict(data)

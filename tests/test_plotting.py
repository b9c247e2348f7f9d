"""Tests for the plots: they inspect the drawn artists, not pixels."""

from __future__ import annotations

import math
import re

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from test_schedules import RTOL, torch_cyclic, torch_one_cycle

import keras_lrfind
from keras_lrfind import CyclicLR, LRFinderResult, MomentumCycler, OneCycle, plot_schedule
from keras_lrfind.outputs import plotting


def synthetic_result(num_steps=100, shift=0.0):
    """A textbook curve: flat, falling, a minimum near lr=1e-2 (times 10**shift), exploding."""
    learning_rates = 1e-6 * (1e7) ** (np.arange(num_steps) / (num_steps - 1)) * 10**shift
    x = np.log10(learning_rates) - shift
    losses = 2.3 - 1.5 / (1 + np.exp(-3 * (x + 3.5))) + 0.05 * np.exp(2.5 * (x + 2))
    smoothed = losses.copy()
    return LRFinderResult(
        learning_rates=learning_rates,
        losses=losses,
        smoothed_losses=smoothed,
        stop_reason="diverged",
        start_lr=float(learning_rates[0]),
        end_lr=float(learning_rates[-1]),
        num_steps=num_steps,
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class TestPlotResult:
    def test_draws_raw_smoothed_and_one_marker_per_suggestion(self):
        """Raw, smoothed and lag-free curves are drawn, plus one labelled marker per method."""
        from keras_lrfind.suggestions import smooth_without_lag

        result = synthetic_result()
        ax = result.plot()
        raw, smoothed, lag_free, *markers = ax.lines
        np.testing.assert_array_equal(raw.get_xdata(), result.learning_rates)
        np.testing.assert_array_equal(raw.get_ydata(), result.losses)
        np.testing.assert_array_equal(smoothed.get_ydata(), result.smoothed_losses)
        expected = smooth_without_lag(result.learning_rates, result.losses)
        np.testing.assert_allclose(lag_free.get_ydata(), expected)
        suggestions = result.suggestions()
        assert len(markers) == len(suggestions)
        for marker, (name, lr) in zip(markers, suggestions.items(), strict=True):
            assert marker.get_xdata()[0] == lr
            assert marker.get_label() == f"{name}: {lr:.2e}"
        assert ax.get_xscale() == "log"
        legend = [text.get_text() for text in ax.get_legend().get_texts()]
        assert legend[:3] == ["loss", "smoothed (fastai)", "smoothed without lag"]

    def test_uses_the_given_axes_and_selected_methods(self):
        """A given Axes is drawn on and returned; `suggest=[...]` marks only those."""
        _, ax = plt.subplots()
        returned = synthetic_result().plot(ax, suggest=["minimum"])
        assert returned is ax
        assert len(ax.lines) == 4
        assert ax.lines[3].get_label().startswith("minimum: ")

    def test_no_suggestions(self):
        """`suggest=False` draws only the curves."""
        ax = synthetic_result().plot(suggest=False, show_raw=False)
        assert [line.get_label() for line in ax.lines] == [
            "smoothed (fastai)",
            "smoothed without lag",
        ]

    def test_jupyter_png(self):
        """In Jupyter a result renders as a PNG of its plot."""
        png = synthetic_result()._repr_png_()
        assert png.startswith(b"\x89PNG")

    def test_jupyter_png_leaves_no_pyplot_figure(self):
        """Rendering a result for Jupyter draws off pyplot: no figure is left open."""
        before = plt.get_fignums()
        synthetic_result()._repr_png_()
        assert plt.get_fignums() == before

    @pytest.mark.parametrize(
        "draw",
        [
            lambda: synthetic_result().plot(),
            lambda: synthetic_result().plot_loss_change(),
            lambda: keras_lrfind.plot_curves({"a": synthetic_result()}),
        ],
        ids=["plot", "plot_loss_change", "plot_curves"],
    )
    def test_a_new_figure_is_pyplot_s(self, draw):
        """Without `ax` the plot is on a new pyplot figure (the current one), which Jupyter
        shows after the cell even when the cell ends with `;`."""
        before = set(plt.get_fignums())
        ax = draw()
        assert len(set(plt.get_fignums()) - before) == 1
        assert plt.gcf() is ax.figure

    def test_never_shows(self, monkeypatch):
        """The library never calls `plt.show()`."""
        monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show was called"))
        synthetic_result().plot()
        synthetic_result().plot_loss_change()


class TestPlotLossChange:
    def test_is_the_derivative_per_decade(self):
        """The curve is d(smoothed)/d(log10 lr), checked on a straight line of slope -0.5."""
        learning_rates = np.logspace(-5, 0, 30)
        smoothed = 3.0 - 0.5 * np.log10(learning_rates)
        result = LRFinderResult(
            learning_rates=learning_rates,
            losses=smoothed,
            smoothed_losses=smoothed,
            stop_reason="completed",
            start_lr=1e-5,
            end_lr=1.0,
            num_steps=30,
        )
        ax = result.plot_loss_change()
        np.testing.assert_allclose(ax.lines[0].get_ydata(), -0.5)
        assert ax.lines[1].get_ydata()[0] == 0.0  # The zero line.


class TestPlotCurves:
    def test_overlay_with_labels(self):
        """Each result gets a labelled curve and a marker at its default suggestion."""
        first, second = synthetic_result(), synthetic_result(shift=1.0)
        ax = keras_lrfind.plot_curves({"adam": first, "sgd": second})
        curves = [line for line in ax.lines if not line.get_label().startswith("_")]
        assert [line.get_label() for line in curves] == ["adam", "sgd"]
        markers = [line for line in ax.lines if line.get_label().startswith("_")]
        assert markers[0].get_xdata()[0] == first.suggest(warn=False)
        assert markers[1].get_xdata()[0] == second.suggest(warn=False)

    def test_label_count_must_match(self):
        """A wrong number of labels is a clear error."""
        with pytest.raises(ValueError, match=r"one label per result. Received 1 labels for 2"):
            plotting.plot_curves([synthetic_result(), synthetic_result()], labels=["a"])

    def test_empty(self):
        """No results is a clear error."""
        with pytest.raises(ValueError, match=r"`results` is empty"):
            plotting.plot_curves([])


class TestRenamedPlots:
    @staticmethod
    def drawn(ax):
        return [(line.get_label(), *line.get_data()) for line in ax.lines]

    def test_plot_result_warns_and_draws_what_plot_curve_draws(self):
        """The old `plotting.plot_result` raises a DeprecationWarning naming the new name."""
        result = synthetic_result()
        message = (
            "`keras_lrfind.plotting.plot_result` was renamed `keras_lrfind.plotting.plot_curve`."
        )
        with pytest.warns(DeprecationWarning, match=re.escape(message)):
            ax = plotting.plot_result(result, suggest=["minimum"])
        expected = self.drawn(plotting.plot_curve(result, suggest=["minimum"]))
        for (label, xs, ys), (label_expected, xs_expected, ys_expected) in zip(
            self.drawn(ax), expected, strict=True
        ):
            assert label == label_expected
            np.testing.assert_array_equal(xs, xs_expected)
            np.testing.assert_array_equal(ys, ys_expected)

    def test_plot_results_warns_and_draws_what_plot_curves_draws(self):
        """The old `keras_lrfind.plot_results` raises a DeprecationWarning naming the new name."""
        results = {"adam": synthetic_result(), "sgd": synthetic_result(shift=1.0)}
        message = "`keras_lrfind.plot_results` was renamed `keras_lrfind.plot_curves`."
        with pytest.warns(DeprecationWarning, match=re.escape(message)):
            ax = keras_lrfind.plot_results(results, suggest=False)
        assert [line.get_label() for line in ax.lines] == ["adam", "sgd"]
        for line, result in zip(ax.lines, results.values(), strict=True):
            np.testing.assert_array_equal(line.get_ydata(), result.smoothed_losses)


def test_nan_tail_is_drawn_without_breaking_the_axis_limits():
    """A NaN at the end of the curve leaves finite axis limits."""
    result = synthetic_result()
    result.smoothed_losses[-1] = math.nan
    ax = result.plot()
    low, high = ax.get_ylim()
    assert math.isfinite(low) and math.isfinite(high) and low < high


class TestPlotSchedule:
    def test_draws_the_schedule_on_a_new_axes(self):
        """With no ax, it creates one and draws (steps, learning rates) as its first line."""
        schedule = OneCycle(0.1, total_steps=30)
        ax = plot_schedule(schedule, 30)
        steps, learning_rates = ax.lines[0].get_data()
        np.testing.assert_array_equal(steps, np.arange(30))
        expected = [torch_one_cycle(k, 0.1, 30) for k in range(30)]
        np.testing.assert_allclose(learning_rates, expected, rtol=RTOL)
        assert ax.get_xlabel() == "step"
        assert ax.get_ylabel() == "learning rate"

    def test_draws_on_the_given_axes(self):
        """The Axes given is the one drawn on and returned."""
        _, given_ax = plt.subplots()
        schedule = CyclicLR(0.01, 0.1, 3)
        assert plot_schedule(schedule, 12, ax=given_ax) is given_ax
        expected = [torch_cyclic(k, 0.01, 0.1, 3) for k in range(12)]
        np.testing.assert_allclose(given_ax.lines[0].get_data()[1], expected, rtol=RTOL)

    def test_draws_momentum_on_a_twin_axis(self):
        """A MomentumCycler's momentum goes on a twin y-axis, max -> base -> max."""
        schedule = OneCycle(0.1, total_steps=20)
        ax = plot_schedule(schedule, 20, momentum=MomentumCycler.from_one_cycle(schedule))
        twin = ax.figure.axes[-1]
        assert twin is not ax
        steps, momenta = twin.lines[0].get_data()
        np.testing.assert_array_equal(steps, np.arange(20))
        assert momenta[0] == pytest.approx(0.95)
        assert min(momenta) == pytest.approx(0.85)
        assert momenta[-1] == pytest.approx(0.95)
        assert int(np.argmin(momenta)) == int(np.argmax(ax.lines[0].get_data()[1])) == 5

    def test_draws_any_keras_schedule(self):
        """A built-in Keras schedule is drawn step by step."""
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay([3], [0.1, 0.01])
        ax = plot_schedule(schedule, 6)
        np.testing.assert_allclose(ax.lines[0].get_data()[1], [0.1] * 4 + [0.01] * 2, rtol=RTOL)

    def test_rejects_invalid_arguments(self):
        """A non-callable schedule, a bad step count and a bad momentum are refused."""
        with pytest.raises(
            TypeError, match=re.escape("`schedule` must be a `LearningRateSchedule` or a callable")
        ):
            plot_schedule(0.1, 10)
        with pytest.raises(
            ValueError,
            match=re.escape("`total_steps` must be at least 1. Received: total_steps=0."),
        ):
            plot_schedule(OneCycle(0.1, 10), 0)
        with pytest.raises(
            TypeError,
            match=re.escape(
                "`momentum` must be a "
                "`keras_lrfind.MomentumCycler` or `None`. "
                "Received: momentum of type float."
            ),
        ):
            plot_schedule(OneCycle(0.1, 10), 10, momentum=0.9)

"""Tests for the `keras-lrfind` command line: arguments, errors, the files it writes."""

from __future__ import annotations

import json

import keras
import pytest

from keras_lrfind import LRFinderResult, cli


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One TFDS data directory for the module, so the digits are prepared once."""
    return str(tmp_path_factory.mktemp("tfds"))


def saved_model(path, compile=True, loss="sparse_categorical_crossentropy", shape=(8, 8, 1)):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
    )
    if compile:
        model.compile(optimizer="adam", loss=loss)
        model.optimizer.build(model.trainable_variables)  # As after training.
    model.save(path)
    return path


class TestParseDataSpec:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ("tfds:mnist", ("mnist", "train")),
            ("tfds:mnist:test", ("mnist", "test")),
            ("tfds:digits:train[:50%]", ("digits", "train[:50%]")),
        ],
    )
    def test_valid(self, spec, expected):
        """`tfds:NAME[:SPLIT]` gives the name and the split (train by default)."""
        assert cli.parse_data_spec(spec) == expected

    @pytest.mark.parametrize("spec", ["mnist", "file:x.npz", "tfds:", "tfds::train"])
    def test_invalid(self, spec):
        """Anything else is refused with the expected form."""
        with pytest.raises(cli.CommandError, match=r"tfds:NAME|names no dataset"):
            cli.parse_data_spec(spec)


class TestFind:
    def test_writes_json_and_png_and_prints_the_suggestion(self, tmp_path, data_dir, capsys):
        """`find` on a saved model and the offline digits writes the curve and the plot."""
        model_path = saved_model(tmp_path / "net.keras")
        status = cli.main(
            [
                "find",
                str(model_path),
                "--data",
                "tfds:digits",
                "--data-dir",
                data_dir,
                "--batch-size",
                "32",
                "--num-steps",
                "40",
                "--output",
                str(tmp_path / "out"),
            ]
        )
        assert status == 0
        out = capsys.readouterr().out
        result = LRFinderResult.from_json(tmp_path / "out" / "net_lr_find.json")
        assert result.num_steps == 40 and 1 < result.num_recorded <= 40
        assert (tmp_path / "out" / "net_lr_find.png").read_bytes().startswith(b"\x89PNG")
        suggested = float(out.strip().splitlines()[-1].rpartition(": ")[2])
        assert result.learning_rates[0] / 10 <= suggested <= result.learning_rates[-1]
        assert json.loads((tmp_path / "out" / "net_lr_find.json").read_text())["num_steps"] == 40

    def test_one_hot_labels_and_resized_rgb_input(self, tmp_path, data_dir):
        """A model with categorical loss and 12x12x3 input gets one-hot labels and resized RGB."""
        model_path = saved_model(
            tmp_path / "rgb.keras", loss="categorical_crossentropy", shape=(12, 12, 3)
        )
        status = cli.main(
            [
                "find",
                str(model_path),
                "--data",
                "tfds:digits:test",
                "--data-dir",
                data_dir,
                "--num-steps",
                "20",
                "--output",
                str(tmp_path),
            ]
        )
        assert status == 0
        result = LRFinderResult.from_json(tmp_path / "rgb_lr_find.json")
        assert result.num_recorded >= 2

    def test_missing_model_file(self, tmp_path, capsys):
        """A missing model file exits with status 2 and names the file."""
        status = cli.main(["find", str(tmp_path / "nope.keras"), "--data", "tfds:digits"])
        assert status == 2
        assert "model file not found" in capsys.readouterr().err

    def test_uncompiled_model(self, tmp_path, data_dir, capsys):
        """An uncompiled model exits with status 2 and says how to fix it."""
        model_path = saved_model(tmp_path / "raw.keras", compile=False)
        status = cli.main(
            ["find", str(model_path), "--data", "tfds:digits", "--data-dir", data_dir]
        )
        assert status == 2
        assert "is not compiled" in capsys.readouterr().err

    def test_unknown_dataset(self, tmp_path, capsys):
        """An unknown TFDS dataset exits with status 2 and names it."""
        model_path = saved_model(tmp_path / "net.keras")
        status = cli.main(["find", str(model_path), "--data", "tfds:no_such_dataset_xyz"])
        assert status == 2
        assert "no_such_dataset_xyz" in capsys.readouterr().err

    def test_bad_batch_size_is_an_argument_error(self, tmp_path):
        """A non-positive batch size is refused by the argument parser (exit status 2)."""
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["find", "m.keras", "--data", "tfds:digits", "--batch-size", "0"])
        assert exit_info.value.code == 2


class TestDemo:
    def test_help(self, capsys):
        """`demo --help` describes the demo and its options."""
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["demo", "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        for option in ("--dataset", "--epochs", "--batch-size", "--output"):
            assert option in out

    def test_runs_offline_and_writes_the_plot(self, tmp_path, data_dir, capsys):
        """One short demo run prints suggestions and both accuracies and writes the files."""
        status = cli.main(
            ["demo", "--epochs", "1", "--output", str(tmp_path), "--data-dir", data_dir]
        )
        assert status == 0
        out = capsys.readouterr().out
        assert "<- default" in out
        assert out.count("%  ") == 2  # Two accuracy rows.
        assert (tmp_path / "lr_find.png").read_bytes().startswith(b"\x89PNG")
        LRFinderResult.from_json(tmp_path / "lr_find.json")

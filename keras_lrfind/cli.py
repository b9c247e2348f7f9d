"""The `keras-lrfind` command: a demo, and the range test on a saved model."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from pathlib import Path

DEMO_HELP = """\
Runs the LR range test on a real vision dataset (offline by default: scikit-learn's digits
through TensorFlow Datasets), prints the suggestions, writes the plot and the curve, then
trains a small CNN with a one-cycle schedule built from the suggestion and, side by side,
with Keras's default Adam learning rate, and prints both test accuracies."""

FIND_HELP = """\
Runs the LR range test on a saved, compiled Keras model (.keras) and a TFDS dataset, saves
the curve (JSON) and its plot (PNG), and prints the suggested learning rate. Images are
scaled to [0, 1] and resized to the model's input; labels are one-hot encoded when the
model's loss expects it."""


class CommandError(Exception):
    """A problem with the command's input, reported as `keras-lrfind: error: ...`."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keras-lrfind",
        description="The learning-rate range test (lr_find) for Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the demo", description=DEMO_HELP)
    demo.add_argument(
        "--dataset",
        default="digits",
        help="'digits' (offline, default) or a TFDS image dataset name available locally, "
        "e.g. mnist",
    )
    demo.add_argument("--epochs", type=_positive_int, default=5, help="training epochs (5)")
    demo.add_argument("--batch-size", type=_positive_int, default=32, help="batch size (32)")
    demo.add_argument("--output", type=Path, default=Path("out"), help="output folder (out)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")
    demo.add_argument("--data-dir", default=None, help="TFDS data directory")

    find = commands.add_parser("find", help="range-test a saved model", description=FIND_HELP)
    find.add_argument("model", type=Path, help="a compiled model saved as .keras")
    find.add_argument(
        "--data",
        required=True,
        help="tfds:NAME[:SPLIT], e.g. tfds:mnist:train or tfds:digits (split: train)",
    )
    find.add_argument("--batch-size", type=_positive_int, default=64, help="batch size (64)")
    find.add_argument("--num-steps", type=_positive_int, default=None, help="sweep length")
    find.add_argument("--start-lr", type=float, default=1e-7, help="first learning rate (1e-7)")
    find.add_argument("--end-lr", type=float, default=10.0, help="last learning rate (10)")
    find.add_argument("--output", type=Path, default=Path("."), help="output folder (.)")
    find.add_argument("--data-dir", default=None, help="TFDS data directory")
    find.add_argument("--seed", type=int, default=0, help="shuffle seed (0)")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        if args.command == "demo":
            run_demo(args)
        else:
            run_find(args)
    except CommandError as error:
        print(f"keras-lrfind: error: {error}", file=sys.stderr)
        return 2
    return 0


def parse_data_spec(spec: str) -> tuple[str, str]:
    """Splits `tfds:NAME[:SPLIT]` into `(NAME, SPLIT)`; the split defaults to `train`."""
    prefix, _, rest = spec.partition(":")
    if prefix != "tfds" or not rest:
        raise CommandError(
            f"--data must look like tfds:NAME[:SPLIT] (e.g. tfds:mnist:train). Received: {spec!r}."
        )
    name, _, split = rest.partition(":")
    if not name:
        raise CommandError(f"--data names no dataset. Received: {spec!r}.")
    return name, split or "train"


# -- demo -------------------------------------------------------------------------------------


def demo_model(input_shape, num_classes: int, seed: int):
    """A small CNN for the demo."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(num_classes),
        ]
    )


def run_demo(args) -> None:
    import keras

    import keras_lrfind
    from keras_lrfind import datasets

    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    summary = _dataset_call(datasets.info, args.dataset, data_dir=args.data_dir)
    if not summary.split_sizes:
        raise CommandError(
            f"Dataset {args.dataset!r} is not available locally; prepare it with TFDS first, "
            "or use --dataset digits (offline)."
        )
    print(
        f"Dataset: {summary.name}, images {summary.image_shape}, {summary.num_classes} classes, "
        + ", ".join(f"{k}: {v:,}" for k, v in summary.split_sizes.items())
    )
    train = _dataset_call(
        datasets.load,
        args.dataset,
        "train",
        data_dir=args.data_dir,
        batch_size=args.batch_size,
        shuffle=True,
        seed=args.seed,
    )
    test = _dataset_call(
        datasets.load, args.dataset, "test", data_dir=args.data_dir, batch_size=256
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def compiled(learning_rate):
        model = demo_model(summary.image_shape, summary.num_classes, args.seed)
        model.compile(keras.optimizers.Adam(learning_rate), loss, metrics=["accuracy"])
        return model

    print("\n1. LR range test (Adam, learning rate 1e-7 -> 10, exponential)")
    started = time.perf_counter()
    result = keras_lrfind.LRFinder(compiled(1e-3)).find(train, verbose=1)
    print(f"   {result!r} in {time.perf_counter() - started:.1f} s")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", keras_lrfind.LRFinderWarning)
        suggested = result.suggest()
    print("\n   method      learning rate")
    for name, lr in result.suggestions().items():
        mark = "  <- default" if name == keras_lrfind.suggestions.DEFAULT_METHOD else ""
        print(f"   {name:<10}  {_format_lr(lr)}{mark}")
    for warning in caught:
        print(f"   warning: {warning.message}")

    result.to_json(out / "lr_find.json")
    ax = result.plot()
    ax.figure.savefig(out / "lr_find.png", dpi=110)
    print(f"\n   Wrote {out / 'lr_find.png'} and {out / 'lr_find.json'}")

    steps = keras_lrfind.steps_for_epochs(args.epochs, data=train)
    runs = {
        f"one-cycle, max_lr={suggested:.2e} (suggested)": result.one_cycle(steps, suggested),
        "constant 1e-3 (Keras's Adam default)": 1e-3,
    }
    print(f"\n2. Training for {args.epochs} epochs ({steps} steps), same initial weights")
    accuracies = {}
    for label, learning_rate in runs.items():
        print(f"   {label}")
        model = compiled(learning_rate)
        model.fit(train, epochs=args.epochs, shuffle=False, verbose=2)
        accuracies[label] = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    print("\n   test accuracy  schedule")
    for label, accuracy in accuracies.items():
        print(f"   {accuracy:>12.2%}  {label}")


# -- find -------------------------------------------------------------------------------------


def run_find(args) -> None:
    import keras

    import keras_lrfind
    from keras_lrfind import _compat, datasets

    name, split = parse_data_spec(args.data)
    if not args.model.is_file():
        raise CommandError(f"model file not found: {args.model}")
    try:
        model = keras.saving.load_model(args.model)
    except (ValueError, OSError) as error:
        raise CommandError(f"could not load {args.model} as a Keras model: {error}") from None
    if not _compat.is_compiled(model):
        raise CommandError(
            f"the model in {args.model} is not compiled: call model.compile(optimizer=..., "
            "loss=...) before model.save(), so the test uses your optimizer and loss."
        )
    dataset = _dataset_call(
        datasets.load,
        name,
        split,
        data_dir=args.data_dir,
        batch_size=args.batch_size,
        shuffle=True,
        seed=args.seed,
    )
    dataset = dataset.map(_matcher(model))
    result = keras_lrfind.LRFinder(model).find(
        dataset, num_steps=args.num_steps, start_lr=args.start_lr, end_lr=args.end_lr, verbose=1
    )
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.model.stem
    result.to_json(args.output / f"{stem}_lr_find.json")
    ax = result.plot()
    ax.figure.savefig(args.output / f"{stem}_lr_find.png", dpi=110)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", keras_lrfind.LRFinderWarning)
        suggested = result.suggest()
    for warning in caught:
        print(f"warning: {warning.message}")
    print(f"{result!r}")
    print(f"Wrote {args.output / (stem + '_lr_find.json')} and {stem}_lr_find.png")
    print(f"Suggested learning rate: {suggested:.3g}")


def _matcher(model):
    """A `dataset.map` function fitting images and labels to what the model expects."""
    import tensorflow as tf

    input_shape = tuple(model.inputs[0].shape[1:]) if model.inputs else None
    output_units = model.outputs[0].shape[-1] if model.outputs else None
    loss_name = str(getattr(model.loss, "name", model.loss) or "").lower()
    one_hot = "categorical" in loss_name and "sparse" not in loss_name

    def match(images, labels):
        if input_shape is not None and len(input_shape) == 3:
            height, width, channels = input_shape
            if height is not None and width is not None:
                images = tf.image.resize(images, (height, width))
            if channels == 3 and images.shape[-1] == 1:
                images = tf.image.grayscale_to_rgb(images)
            elif channels == 1 and images.shape[-1] == 3:
                images = tf.image.rgb_to_grayscale(images)
        if one_hot and output_units:
            labels = tf.one_hot(labels, output_units)
        return images, labels

    return match


def _dataset_call(function, *args, **kwargs):
    """Calls a `keras_lrfind.datasets` loader, turning its input errors into CommandErrors."""
    try:
        return function(*args, **kwargs)
    except (ValueError, RuntimeError) as error:
        raise CommandError(str(error)) from None


def _format_lr(lr: float | None) -> str:
    return "-" if lr is None or not math.isfinite(lr) else f"{lr:.2e}"

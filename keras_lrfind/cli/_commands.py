"""What `keras-lrfind demo` and `keras-lrfind find` do, once `cli` has checked the arguments.

Heavy imports (Keras, TensorFlow, TFDS, matplotlib) happen here, inside the functions, after
every argument was checked. Errors are raised, never printed: `cli.main` turns each into
one line on stderr.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
import zipfile

from keras_lrfind.cli._arguments import output_files, parse_data_spec
from keras_lrfind.cli._errors import (
    BEST_OPTIONS,
    BEST_PHRASES,
    RANGE_TEST_OPTIONS,
    CommandError,
    data_options,
    options_named,
)
from keras_lrfind.outputs.plotting import offscreen_axes

# The shuffle buffer of `find --best`'s training data (examples).
_SHUFFLE_BUFFER = 10_000
# The fraction of --data that `find --best` holds out to judge the probes without
# --validation-data (find_best_learning_rate's `validation_split`).
_HELD_OUT = 0.1


@contextlib.contextmanager
def _in_options(options: dict[str, str], phrases: dict[str, str] | None = None):
    """Re-raises the library's errors naming the command's options (see `options_named`)."""
    try:
        yield
    except (TypeError, ValueError, RuntimeError) as error:
        raise options_named(error, options, phrases) from error


# -- demo ---------------------------------------------------------------------------------------


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
    """`keras-lrfind demo`: the range test, its suggestions, then two short trainings."""
    import keras

    import keras_lrfind
    from keras_lrfind import datasets

    with _in_options(*data_options("--dataset")):
        summary = datasets.info(args.dataset, data_dir=args.data_dir)
    if not summary.split_sizes:
        raise CommandError(
            f"Dataset {args.dataset!r} is not available locally; prepare it with TFDS first, "
            "or use --dataset digits (offline)."
        )
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"Dataset: {summary.name}, images {summary.image_shape}, {summary.num_classes} classes, "
        + ", ".join(f"{k}: {v:,}" for k, v in summary.split_sizes.items())
    )
    with _in_options(*data_options("--dataset")):
        train = datasets.load(
            args.dataset,
            "train",
            data_dir=args.data_dir,
            batch_size=args.batch_size,
            shuffle=True,
            seed=args.seed,
        )
        test = datasets.load(args.dataset, "test", data_dir=args.data_dir, batch_size=256)
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
    ax = result.plot(offscreen_axes())
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


# -- find ---------------------------------------------------------------------------------------


def run_find(args) -> None:
    """`keras-lrfind find`: the range test (or `--best`) on a saved model; writes the files."""
    from keras_lrfind import datasets

    # The data first: an unknown dataset or split is reported before the model loads.
    name, split = parse_data_spec(args.data)
    with _in_options(*data_options("--data")):
        train = datasets.load(
            name,
            split,
            data_dir=args.data_dir,
            batch_size=None if args.best else args.batch_size,
            shuffle=not args.best,
            seed=args.seed,
        )
    validation = None
    if args.validation_data is not None:
        with _in_options(*data_options("--validation-data")):
            validation = datasets.load(
                *parse_data_spec(args.validation_data, "--validation-data"),
                data_dir=args.data_dir,
                batch_size=args.batch_size,
            )
    model = load_compiled_model(args.model)
    match = _matcher(model)
    if args.best:
        # find_best_learning_rate holds out batches of the training data to judge its probes
        # on, so every pass must yield the same batches: shuffle once, not every epoch.
        train = train.shuffle(_SHUFFLE_BUFFER, seed=args.seed, reshuffle_each_iteration=False)
        train = train.batch(args.batch_size)
    train = train.map(match)
    validation = None if validation is None else validation.map(match)
    args.output.mkdir(parents=True, exist_ok=True)
    if args.best:
        _run_best(args, model, train, validation)
    else:
        _run_range_test(args, model, train)


def load_compiled_model(path):
    """The compiled Keras model saved in `path`, or a `CommandError` saying what is wrong."""
    import keras

    from keras_lrfind._compat import trainer

    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        # Keras says "File not found" for any file that is not a zip archive.
        raise CommandError(
            f"{path} is not a valid Keras model file: a .keras file is a zip archive, and this "
            "one is not (empty, cut short, or another format). Save the model again with "
            "model.save('NAME.keras')."
        )
    try:
        model = keras.saving.load_model(path)
    except Exception as error:  # Keras raises many kinds for a file it cannot read.
        raise CommandError(
            f"could not load {path} as a Keras model ({type(error).__name__}: {error})"
        ) from None
    if not trainer.is_compiled(model):
        raise CommandError(
            f"the model in {path} is not compiled: call model.compile(optimizer=..., "
            "loss=...) before model.save(), so the test uses your optimizer and loss."
        )
    return model


def _run_range_test(args, model, train) -> None:
    import keras_lrfind

    with _in_options(RANGE_TEST_OPTIONS):
        result = keras_lrfind.LRFinder(model).find(
            train, num_steps=args.num_steps, start_lr=args.start_lr, end_lr=args.end_lr, verbose=1
        )
    json_path, png_path = output_files(args)
    result.to_json(json_path)  # The curve is kept even if no suggestion can be read from it.
    print(f"{result!r}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", keras_lrfind.LRFinderWarning)
        ax = result.plot(offscreen_axes())
        ax.figure.savefig(png_path, dpi=110)
        print(f"Wrote {json_path} and {png_path}")
        _write_tensorboard(args, result)
        suggested = result.suggest()
    for message in dict.fromkeys(str(warning.message) for warning in caught):
        print(f"warning: {message}")
    print(f"Suggested learning rate: {suggested:.3g}")


def _run_best(args, model, train, validation) -> None:
    import keras_lrfind

    if validation is None:
        _check_held_out(args, train)
    budget = {} if args.budget is None else {"budget": args.budget}
    with _in_options(BEST_OPTIONS, BEST_PHRASES):
        details = keras_lrfind.find_best_learning_rate(
            model,
            train,
            epochs=args.epochs,
            validation_data=validation,
            validation_split=_HELD_OUT,
            verbose=1,
            return_details=True,
            seed=args.seed,
            **budget,
        )
    json_path, png_path = output_files(args)
    written = [png_path]
    if details.range_test is not None:
        details.range_test.to_json(json_path)
        written.insert(0, json_path)
        _write_tensorboard(args, details.range_test)
    ax = details.plot(offscreen_axes())
    ax.figure.savefig(png_path, dpi=110)
    print(f"{details!r}")
    print(f"Validation: {details.validation}")
    print("Wrote " + " and ".join(str(path) for path in written))
    print(f"Best max_lr for a {args.epochs}-epoch one-cycle training: {details.max_lr:.3g}")


def _check_held_out(args, train) -> None:
    """Without --validation-data, --data must be long enough to hold out a tenth of its batches
    (find_best_learning_rate's message would name its `validation_split`, no option here)."""
    from keras_lrfind.search._data import num_validation

    batches = int(train.cardinality())  # Negative when unknown: find_best_learning_rate says.
    if batches > 0 and num_validation(batches, _HELD_OUT) == 0:
        raise CommandError(
            f"`--data` is too small for `--best` to hold out a tenth of it to judge the probes: "
            f"its {batches} batches of {args.batch_size} leave no validation batch. "
            f"Received: --data={args.data}. Pass `--validation-data tfds:NAME[:SPLIT]`, more "
            "data in `--data`, or a smaller `--batch-size`."
        )


def _write_tensorboard(args, result) -> None:
    if args.log_dir is not None:
        from keras_lrfind.outputs import tensorboard

        tensorboard.write_result(result, args.log_dir)
        print(f"Wrote the range test to TensorBoard in {args.log_dir}")


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


def _format_lr(lr: float | None) -> str:
    return "-" if lr is None or not math.isfinite(lr) else f"{lr:.2e}"

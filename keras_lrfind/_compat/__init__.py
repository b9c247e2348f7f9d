"""Every use of Keras, TensorFlow, JAX, PyTorch or TFDS internals, in one place.

keras_lrfind uses the public Keras API wherever it can. A few things the range test, the
momentum cycler and the dataset loaders need have no public API; each lives here behind a
small function whose comment says why it is needed, what it relies on, and which versions
it was checked on, so that a new Keras release breaks one module, not four, and the break
is easy to find. Version guards (`keras.version()`) mark behaviour known to change.

One module per concern:

- `versions`: the running Keras release, and the Keras bugs the range test refuses;
- `optimizers`: an optimizer's schedule object, fast variable writes, its variables;
- `trainer`: compiled state, the loss tracker, JAX's state sync, train and test functions;
- `distribute`: `tf.distribute` replicas and strategies, and writing variables that span
  JAX processes without a collective;
- `hyperparameters`: momentum computed in the graph (`MomentumCycler`);
- `tfds`: TensorFlow Datasets.

Checked on Keras 3.15.1, TensorFlow 2.21, jax 0.10.2 and torch 2.13.
"""

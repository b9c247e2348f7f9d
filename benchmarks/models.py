"""The models of the suggestion-quality benchmark: tiny, CPU-friendly, all ending in logits.

MLPs (with and without dropout), a plain CNN, a CNN with batch norm, two residual networks,
a MobileNet-like depthwise-separable CNN, a tiny MLP-Mixer, a tiny ViT, any of them behind
random-translation augmentation, and a small CNN backbone that the benchmark pre-trains on
the glyphs and fine-tunes (frozen or not) on another task. Each builder takes
`(input_shape, num_classes)` and returns a fresh, uncompiled Keras model; Keras is imported
inside the builders so that importing the benchmark's task list stays cheap.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from benchmarks.data import glyphs, shapes


def mlp(input_shape, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(num_classes),
        ]
    )


def plain_cnn(input_shape, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(num_classes),
        ]
    )


def batch_norm_cnn(input_shape, num_classes):
    import keras

    def conv_bn_relu(filters):
        return [
            keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(momentum=0.9),
            keras.layers.ReLU(),
        ]

    return keras.Sequential(
        [
            keras.Input(input_shape),
            *conv_bn_relu(16),
            keras.layers.MaxPooling2D(),
            *conv_bn_relu(32),
            keras.layers.MaxPooling2D(),
            *conv_bn_relu(64),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(num_classes),
        ]
    )


def _residual_block(x, filters, stride):
    """Two 3x3 conv + batch-norm layers with a (projected, when the shape changes) shortcut."""
    from keras import layers

    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def small_resnet(input_shape, num_classes):
    """A pre-activation-free ResNet: stem, two blocks at 16 channels, one strided block at 32."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = _residual_block(x, 16, 1)
    x = _residual_block(x, 16, 1)
    x = _residual_block(x, 32, 2)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))


def mlp_dropout(input_shape, num_classes, rate=0.3):
    """The MLP 128-64 with dropout after each hidden layer."""
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(rate),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dropout(rate),
            keras.layers.Dense(num_classes),
        ]
    )


def augmented(model_fn, translation=0.1):
    """`model_fn` behind a random translation (active in training only): augmentation."""

    def build(input_shape, num_classes):
        import keras

        inner = model_fn(input_shape, num_classes)
        return keras.Sequential(
            [
                keras.Input(input_shape),
                keras.layers.RandomTranslation(translation, translation, fill_mode="constant"),
                inner,
            ]
        )

    build.__name__ = f"augmented_{model_fn.__name__}"
    return build


def small_resnet_narrow(input_shape, num_classes):
    """A narrower residual network: stem at 8 channels, one block at 8, one strided at 16."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = _residual_block(x, 8, 1)
    x = _residual_block(x, 16, 2)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))


def depthwise_cnn(input_shape, num_classes, bn_momentum=0.99):
    """MobileNet-like: a stem, then depthwise 3x3 + pointwise 1x1 blocks (BN, ReLU6).

    `bn_momentum` is the batch norms' moving-average momentum (Keras's default 0.99 lags
    behind a short training whose weights move fast, e.g. under Lion)."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = layers.ReLU(6.0)(layers.BatchNormalization(momentum=bn_momentum)(x))
    for filters, stride in ((32, 2), (48, 2), (48, 1)):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = layers.ReLU(6.0)(layers.BatchNormalization(momentum=bn_momentum)(x))
        x = layers.Conv2D(filters, 1, use_bias=False)(x)
        x = layers.ReLU(6.0)(layers.BatchNormalization(momentum=bn_momentum)(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes)(x))


def _patch_tokens(inputs, patch, dim):
    from keras import layers

    x = layers.Conv2D(dim, patch, strides=patch)(inputs)
    return layers.Reshape((-1, dim))(x)


def mlp_mixer(input_shape, num_classes, patch=4, dim=32, blocks=2):
    """A tiny MLP-Mixer: patch embedding, token-mixing and channel-mixing MLPs, layer norm."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = _patch_tokens(inputs, patch, dim)
    tokens = x.shape[1]
    for _ in range(blocks):
        y = layers.Permute((2, 1))(layers.LayerNormalization()(x))
        y = layers.Dense(2 * tokens, activation="gelu")(y)
        x = layers.Add()([x, layers.Permute((2, 1))(layers.Dense(tokens)(y))])
        y = layers.Dense(2 * dim, activation="gelu")(layers.LayerNormalization()(x))
        x = layers.Add()([x, layers.Dense(dim)(y)])
    x = layers.GlobalAveragePooling1D()(layers.LayerNormalization()(x))
    return keras.Model(inputs, layers.Dense(num_classes)(x))


@functools.cache
def _position_embedding_layer():
    import keras

    class PositionEmbedding(keras.layers.Layer):
        """Adds a learned embedding per token position."""

        def build(self, input_shape):
            self.embedding = self.add_weight(
                shape=tuple(input_shape[1:]),
                initializer=keras.initializers.RandomNormal(stddev=0.02),
                name="embedding",
            )

        def call(self, inputs):
            return inputs + self.embedding

    return PositionEmbedding


def tiny_vit(input_shape, num_classes, patch=4, dim=32, heads=2, blocks=2):
    """A tiny ViT: patch embedding, learned positions, pre-norm attention and MLP blocks."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape)
    x = _position_embedding_layer()()(_patch_tokens(inputs, patch, dim))
    for _ in range(blocks):
        y = layers.LayerNormalization()(x)
        x = layers.Add()([x, layers.MultiHeadAttention(heads, dim // heads)(y, y)])
        y = layers.Dense(2 * dim, activation="gelu")(layers.LayerNormalization()(x))
        x = layers.Add()([x, layers.Dense(dim)(y)])
    x = layers.GlobalAveragePooling1D()(layers.LayerNormalization()(x))
    return keras.Model(inputs, layers.Dense(num_classes)(x))


# Fine-tuning: small CNN backbones pre-trained by the benchmark itself, then fine-tuned with a
# fresh head on another data set, frozen or not: a plain one pre-trained on the glyphs (16x16)
# and one with batch norm pre-trained on the shapes (16x16).
_PRETRAIN_SEED = 20261204
BACKBONE_DIR = Path(__file__).resolve().parent / ".cache" / "backbones"


def _backbone(input_shape):
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(input_shape),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
        ],
        name="backbone",
    )


def _bn_backbone(input_shape):
    import keras
    from keras import layers

    def conv_bn_relu(filters):
        return [
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
        ]

    return keras.Sequential(
        [
            keras.Input(input_shape),
            *conv_bn_relu(16),
            layers.MaxPooling2D(),
            *conv_bn_relu(32),
            layers.MaxPooling2D(),
            *conv_bn_relu(32),
            layers.GlobalAveragePooling2D(),
        ],
        name="bn_backbone",
    )


BACKBONES = {
    "glyphs16_cnn": (_backbone, lambda: glyphs(16, 2000), "glyphs16_cnn_v1.npz"),
    "shapes16_bn_cnn": (_bn_backbone, lambda: shapes(3000, 600, 16), "shapes16_bn_cnn_v1.npz"),
}
"""`name: (architecture, pre-training data, weights file)`."""
DEFAULT_BACKBONE = "glyphs16_cnn"


def pretrain_backbone(backbone: str | None = None) -> Path:
    """Pre-trains a backbone once (Adam 2e-3, 6 epochs, batch 64, a dense head) and caches
    its weights (batch-norm statistics included); returns the file. Deterministic given the
    seed and the machine."""
    import keras

    architecture, pretraining_data, file_name = BACKBONES[backbone or DEFAULT_BACKBONE]
    path = BACKBONE_DIR / file_name
    if path.exists():
        return path
    data = pretraining_data()
    keras.utils.set_random_seed(_PRETRAIN_SEED)
    network = architecture(data.x_train.shape[1:])
    model = keras.Sequential([network, keras.layers.Dense(data.num_classes)])
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(data.x_train, data.y_train, batch_size=64, epochs=6, verbose=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.stem + ".tmp.npz")
    np.savez(temporary, *network.get_weights())
    os.replace(temporary, path)
    return path


def fine_tuned(frozen: bool, backbone: str | None = None):
    """A model factory: a pre-trained backbone (frozen or not) and a fresh dense head."""

    def build(input_shape, num_classes):
        import keras

        network = BACKBONES[backbone or DEFAULT_BACKBONE][0](input_shape)
        with np.load(pretrain_backbone(backbone)) as weights:
            network.set_weights([weights[f"arr_{i}"] for i in range(len(weights.files))])
        network.trainable = not frozen
        return keras.Sequential(
            [keras.Input(input_shape), network, keras.layers.Dense(num_classes)]
        )

    build.__name__ = "fine_tuned_frozen" if frozen else "fine_tuned"
    return build

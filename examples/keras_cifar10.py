# SPDX-License-Identifier: Apache-2.0
"""The article's Keras CIFAR-10 CNN with a TensorBoard callback, on Keras 3's torch backend
without TensorFlow: the callback is xfast's (the import is the only change), and it is closed
at the end as the article closes it. Needs `pip install xfast[keras]`.

Uses keras.datasets.cifar10 when its files are already in Keras's cache (nothing is
downloaded); otherwise random 32x32x3 images with labels 0-9, with a note. View with
`tensorboard --logdir logs`."""

from __future__ import annotations

import argparse
import os
from typing import Any, Optional

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported

import keras
import numpy as np

from xfast.keras import TensorBoard  # was: from keras.callbacks import TensorBoard


def cifar10_or_random(random_size: int = 512) -> tuple[Any, Any, Any, Any]:
    """(x_train, y_train, x_test, y_test) of CIFAR-10 from Keras's cache, or random uint8
    images (N, 32, 32, 3) and labels (N, 1) when the dataset was never downloaded."""
    cache = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "datasets")
    # Where load_data extracts the archive: current Keras 3 (a "-target" folder), or earlier.
    extracted = ["cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py"]
    if any(os.path.isfile(os.path.join(cache, d, "data_batch_1")) for d in extracted):
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
        return x_train, y_train, x_test, y_test
    print(f"note: CIFAR-10 not in {cache}; training on {random_size} random 32x32x3 images")
    rng = np.random.default_rng(0)

    def images(n: int) -> Any:
        return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)

    def labels(n: int) -> Any:
        return rng.integers(0, 10, (n, 1))

    n_test = random_size // 4
    return images(random_size), labels(random_size), images(n_test), labels(n_test)


def build_model() -> Any:
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(128, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log-dir", default="logs/cifar10")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--max-samples", type=int, default=None,
                        help="train and validate on this many samples (for a smoke run)")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = cifar10_or_random()
    if args.max_samples is not None:
        x_train, y_train = x_train[: args.max_samples], y_train[: args.max_samples]
        x_test, y_test = x_test[: args.max_samples], y_test[: args.max_samples]
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0

    model = build_model()
    writer = TensorBoard(log_dir=args.log_dir, histogram_freq=1)
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=64,
              validation_data=(x_test, y_test), callbacks=[writer])
    writer.close()
    print(f"logged to {os.path.abspath(args.log_dir)}")


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: Apache-2.0
"""xfast for Keras 3 (``pip install xfast[keras]``): ``TensorBoard``, the
``keras.callbacks.TensorBoard`` callback on any backend without TensorFlow. Importing it imports
keras, so set ``KERAS_BACKEND`` first; ``import xfast`` never imports this package."""

from xfast.keras.callback import TensorBoard

__all__ = ["TensorBoard"]

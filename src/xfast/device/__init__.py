# SPDX-License-Identifier: Apache-2.0
"""Sync-free logging of device tensors: the completion queue and per-writer device log (``log``),
the histogram backends (torch ops, Triton, CUDA C++) and their dispatcher (``histogram``) over
one shared module (``common``). Imports only xfast.encoding and xfast._core below it."""

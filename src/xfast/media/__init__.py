# SPDX-License-Identifier: Apache-2.0
"""Images, videos and audio: torch's layout rules, the encoders (PNG, GIF, WAV, figures), host
snapshots of the caller's tensors, and the worker thread that encodes them. Imports only
xfast.encoding and xfast._core below it."""

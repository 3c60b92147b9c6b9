# SPDX-License-Identifier: Apache-2.0
"""TensorBoard's rarer dashboards, one module each (text, custom scalars, PR curves, mesh,
hparams, graph, projector): the messages and files their SummaryWriter methods write. Imports
xfast.media (the projector's sprite is a PNG), xfast.encoding and xfast._core below it."""

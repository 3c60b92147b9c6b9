# SPDX-License-Identifier: Apache-2.0
"""The bottom layer over the native engine: protobuf messages, Event wire bytes, the packed
histogram row, and conversion of user values. Imports only ``xfast._core`` and libraries."""

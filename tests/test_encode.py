# SPDX-License-Identifier: Apache-2.0
"""Hand-encoded events: byte equality with tensorboard's protobuf SerializeToString()."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from record_reader import masked_crc, unframe_one
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.proto.histogram_pb2 import HistogramProto
from torch.utils.tensorboard import summary as tsummary

from xfast import _core

T = _core.testing

SIMPLE, TENSOR_FLOAT, TENSOR_DOUBLE = 0, 1, 2
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _f64(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


NEG_NAN = _f64(0xFFF8000000000000)
NAN_WITH_PAYLOAD = _f64(0x7FF8000000000123)

WALL_TIMES = [0.0, -0.0, 1.5, 1700000000.123456, -1.0, 1e300, math.inf, math.nan]
STEPS = [0, 1, 127, 128, -1, -128, INT64_MAX, INT64_MIN, 2**31, -(2**31) - 1]
VALUES = [
    0.0, -0.0, 1.0, -1.0, 0.5, 1 / 3, 3.4028234663852886e38, 3.5e38, -3.5e38, 1e300, 1e-300,
    1e-45, 1.401298464324817e-45, math.inf, -math.inf, math.nan, NEG_NAN, NAN_WITH_PAYLOAD,
    2.0**24 + 1, float(INT64_MAX),
]
TAGS = ["loss", "", "a/b/c", "ünïcødé/损失/🚀", "x" * 127, "y" * 128, "z" * 20000, "nul\x00byte"]


def _event(wall: float, step: int, **what: object) -> bytes:
    return event_pb2.Event(wall_time=wall, step=step, **what).SerializeToString()


def _encoded(record: bytes) -> bytes:
    """The data of one framed record, after checking its framing and both CRCs."""
    return unframe_one(record)


def _torch_scalar(tag: str, value: float, style: int) -> summary_pb2.Summary:
    return tsummary.scalar(tag, value, new_style=style != SIMPLE,
                           double_precision=style == TENSOR_DOUBLE)


# --- scalars ------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", [SIMPLE, TENSOR_FLOAT, TENSOR_DOUBLE])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_scalar_values(style: int, value: float) -> None:
    want = _event(1.25, 3, summary=_torch_scalar("loss", value, style))
    assert _encoded(T.encode_scalar_event(1.25, 3, "loss", value, style)) == want


@pytest.mark.parametrize("style", [SIMPLE, TENSOR_FLOAT, TENSOR_DOUBLE])
@pytest.mark.parametrize("wall", WALL_TIMES, ids=repr)
@pytest.mark.parametrize("step", STEPS)
def test_scalar_headers(style: int, wall: float, step: int) -> None:
    want = _event(wall, step, summary=_torch_scalar("s", 2.5, style))
    assert _encoded(T.encode_scalar_event(wall, step, "s", 2.5, style)) == want


@pytest.mark.parametrize("style", [SIMPLE, TENSOR_FLOAT, TENSOR_DOUBLE])
@pytest.mark.parametrize("tag", TAGS, ids=lambda t: repr(t[:20]))
def test_scalar_tags(style: int, tag: str) -> None:
    want = _event(7.0, 9, summary=_torch_scalar(tag, -0.125, style))
    assert _encoded(T.encode_scalar_event(7.0, 9, tag, -0.125, style)) == want


def test_scalar_known_record() -> None:
    # compat-spec §2.3: add_scalar('loss', 0.5, 3) captured from torch, the whole record.
    wall = struct.unpack("<d", bytes.fromhex("113df7ae5ec2da41"))[0]
    head_and_data = bytes.fromhex(
        "1a00000000000000" "129bd82d" "09113df7ae5ec2da41" "1003" "2a0d0a0b0a046c6f7373"
        "150000003f"
    )
    # The spec's printed footer (502eb8de) is not the CRC of its own printed data (it was
    # captured at another wall time); the footer is checked against google-crc32c instead.
    footer = struct.pack("<I", masked_crc(head_and_data[12:]))
    assert T.encode_scalar_event(wall, 3, "loss", 0.5, SIMPLE) == head_and_data + footer


@settings(max_examples=300, deadline=None)
@given(
    wall=st.floats(allow_nan=True, allow_infinity=True),
    step=st.integers(INT64_MIN, INT64_MAX),
    tag=st.text(max_size=40),
    value=st.floats(allow_nan=True, allow_infinity=True),
    style=st.sampled_from([SIMPLE, TENSOR_FLOAT, TENSOR_DOUBLE]),
)
def test_scalar_fuzz(wall: float, step: int, tag: str, value: float, style: int) -> None:
    want = _event(wall, step, summary=_torch_scalar(tag, value, style))
    assert _encoded(T.encode_scalar_event(wall, step, tag, value, style)) == want


# --- histograms ---------------------------------------------------------------------------------

def _histo_event(wall: float, step: int, tag: str, h: HistogramProto) -> bytes:
    return _event(wall, step, summary=summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=tag, histo=h)]))


def _encode_histo(wall: float, step: int, tag: str, h: HistogramProto) -> bytes:
    return _encoded(T.encode_histogram_event(
        wall, step, tag, h.min, h.max, h.num, h.sum, h.sum_squares, list(h.bucket_limit),
        list(h.bucket)))


HISTO_CASES = [
    # (min, max, num, sum, sum_squares, limits, counts)
    (0.0, 2.0, 3.0, 3.0, 5.0, [1.0, 2.0], [1.0, 2.0]),  # compat-spec §2.5, min=0 omitted
    (0.0, 0.0, 0.0, 0.0, 0.0, [], []),  # every field default: an empty HistogramProto
    (-0.0, -0.0, 1.0, -0.0, 0.0, [0.0], [-0.0]),
    (-1.0, 1.0, 2.0, 0.0, 2.0, [-1.0, 0.0, 1.0], [0.0, 1.0, 1.0]),
    (math.nan, math.inf, 5.0, -math.inf, math.nan, [math.inf, -math.inf], [math.nan, 1.0]),
    (1e-300, 1e300, 1e15, 1e308, math.inf, [1e-12, 9.92e19], [1e15, 0.0]),
    (1.0, 1.0, 1.0, 1.0, 1.0, [1.0], [1.0]),
]


@pytest.mark.parametrize("case", HISTO_CASES)
@pytest.mark.parametrize("wall,step", [(0.0, 0), (-0.0, -5), (1.5, 7), (1e9, INT64_MAX)])
def test_histogram_fields(case: tuple, wall: float, step: int) -> None:
    mn, mx, num, s, ss, limits, counts = case
    h = HistogramProto(min=mn, max=mx, num=num, sum=s, sum_squares=ss, bucket_limit=limits,
                       bucket=counts)
    assert _encode_histo(wall, step, "h", h) == _histo_event(wall, step, "h", h)


def test_histogram_known_bytes() -> None:
    # compat-spec §2.5's histogram event, data only.
    want = bytes.fromhex(
        "09000000000000f83f" "1007" "2a4f" "0a4d" "0a0168" "2a48"
        "110000000000000040" "190000000000000840" "210000000000000840" "290000000000001440"
        "3210000000000000f03f0000000000000040" "3a10000000000000f03f0000000000000040"
    )
    got = T.encode_histogram_event(1.5, 7, "h", 0.0, 2.0, 3.0, 3.0, 5.0, [1.0, 2.0], [1.0, 2.0])
    assert _encoded(got) == want


@pytest.mark.parametrize("values", [
    [1.0], [0.0], [-1.0, 1.0], list(np.linspace(-3, 7, 1000)), [1e-13, -1e-13, 5.0, 1e19],
])
@pytest.mark.parametrize("tag", ["w", "layer.0/weight", "ünï/🚀"])
def test_histogram_from_torch_summary(values: list, tag: str) -> None:
    bins = _core.default_edges().tolist()
    summ = tsummary.histogram(tag, np.asarray(values), bins)
    h = summ.value[0].histo
    assert _encode_histo(123.0, 42, tag, h) == _event(123.0, 42, summary=summ)


def test_histogram_large_bucket_lists() -> None:
    # Packed fields longer than 127 bytes need a multi-byte length varint.
    limits = [float(x) for x in _core.default_edges()]
    counts = [float(i % 5) for i in range(len(limits))]
    h = HistogramProto(min=-1.0, max=1.0, num=3.0, sum=0.5, sum_squares=0.25,
                       bucket_limit=limits, bucket=counts)
    assert _encode_histo(1.0, 1, "big", h) == _histo_event(1.0, 1, "big", h)


def test_histogram_raw_matches_torch_histogram_raw() -> None:
    summ = tsummary.histogram_raw("raw", -2.0, 3.0, 10, 4.5, 20.25, [0.0, 1.0, 3.0], [1, 2, 7])
    h = summ.value[0].histo
    assert _encode_histo(5.0, 6, "raw", h) == _event(5.0, 6, summary=summ)


# --- text ---------------------------------------------------------------------------------------

TEXTS = ["hello", "", "**markdown** _x_\n\n| a | b |\n|---|---|\n| 1 | 2 |", "ünï 损失 🚀",
         "a" * 200, "nul\x00inside"]


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: repr(t[:12]))
@pytest.mark.parametrize("tag", ["t", "", "ünï/x"])
@pytest.mark.parametrize("wall,step", [(0.0, 0), (-0.0, -1), (99.5, INT64_MAX)])
def test_text_matches_torch(text: str, tag: str, wall: float, step: int) -> None:
    want = _event(wall, step, summary=tsummary.text(tag, text))
    assert _encoded(T.encode_text_event(wall, step, tag + "/text_summary", text)) == want


def test_text_known_value_bytes() -> None:
    # compat-spec §2.5's text Value.
    value = bytes.fromhex("0a0e") + b"t/text_summary" + bytes.fromhex(
        "420f08071204120208014205") + b"hello" + bytes.fromhex("4a080a060a04") + b"text"
    summary = b"\x0a" + bytes([len(value)]) + value
    want = b"\x2a" + bytes([len(summary)]) + summary  # wall 0 and step 0 omitted
    assert _encoded(T.encode_text_event(0.0, 0, "t/text_summary", "hello")) == want


# --- summary wrapper, file_version, session START -----------------------------------------------

def _summaries() -> list[summary_pb2.Summary]:
    return [
        summary_pb2.Summary(),
        _torch_scalar("a", 1.0, SIMPLE),
        _torch_scalar("b", 2.0, TENSOR_DOUBLE),
        tsummary.text("t", "x"),
        tsummary.histogram_raw("h", 0, 1, 1, 1, 1, [1.0], [1.0]),
        summary_pb2.Summary(value=[
            summary_pb2.Summary.Value(tag="m1", simple_value=1.0),
            summary_pb2.Summary.Value(tag="m2", simple_value=2.0),
        ]),
        tsummary.hparams({"lr": 0.1, "opt": "adam"}, {"acc": 0.5})[0],
    ]


@pytest.mark.parametrize("idx", range(7))
@pytest.mark.parametrize("wall,step", [(0.0, 0), (-0.0, -7), (3.25, 2**40)])
def test_summary_wrapper(idx: int, wall: float, step: int) -> None:
    summ = _summaries()[idx]
    data = summ.SerializeToString()
    assert _encoded(T.encode_summary_event(wall, step, data)) == _event(wall, step, summary=summ)


def test_summary_wrapper_large() -> None:
    # A Summary over 2 MiB: the length prefixes take several varint bytes.
    summ = tsummary.text("big", "x" * (2 << 20))
    data = summ.SerializeToString()
    assert _encoded(T.encode_summary_event(1.0, 1, data)) == _event(1.0, 1, summary=summ)


@pytest.mark.parametrize("writer", ["", "tensorboard.summary.writer.event_file_writer", "xfast",
                                    "ünï"])
@pytest.mark.parametrize("wall,step", [(0.0, 0), (-0.0, 5), (1.7e9, -3), (1.5, INT64_MAX)])
def test_file_version(writer: str, wall: float, step: int) -> None:
    what: dict = {"file_version": "brain.Event:2"}
    if writer:
        what["source_metadata"] = event_pb2.SourceMetadata(writer=writer)
    want = _event(wall, step, **what)
    assert _encoded(T.encode_file_version_event(wall, step, writer)) == want


def test_file_version_sizes_match_spec() -> None:
    # compat-spec §2.2: torch's first record holds 72 data bytes; tensorboardX's 24.
    assert len(_encoded(T.encode_file_version_event(
        1.7e9, 0, "tensorboard.summary.writer.event_file_writer"))) == 72
    assert len(_encoded(T.encode_file_version_event(1.7e9, 0, ""))) == 24


@pytest.mark.parametrize("wall,step", [(0.0, 0), (-0.0, 0), (1.5, 5), (2.0, -1), (3.0, INT64_MAX)])
def test_session_start(wall: float, step: int) -> None:
    want = _event(wall, step, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
    assert _encoded(T.encode_session_start_event(wall, step)) == want


# --- varints ------------------------------------------------------------------------------------

def _protobuf_varint(v: int) -> bytes:
    """The varint protobuf writes for v as a uint64 (via Event.step's int64 two's complement)."""
    step = v - 2**64 if v >= 2**63 else v
    data = event_pb2.Event(step=step).SerializeToString() if v else b"\x10\x00"
    assert data[0] == 0x10
    return data[1:]


@pytest.mark.parametrize("v,want", [
    (0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02"),
    (16383, b"\xff\x7f"), (16384, b"\x80\x80\x01"), (2**63, b"\x80" * 9 + b"\x01"),
    (2**64 - 1, b"\xff" * 9 + b"\x01"),
])
def test_varint_known(v: int, want: bytes) -> None:
    assert T.encode_varint(v) == want
    assert _protobuf_varint(v) == want


def test_varint_every_width() -> None:
    for bits in range(64):
        for v in (2**bits - 1, 2**bits, 2**bits + 1, 2**(bits + 1) - 1):
            if v < 2**64:
                assert T.encode_varint(v) == _protobuf_varint(v), v


def test_varint_rejects_out_of_range() -> None:
    with pytest.raises(TypeError):
        T.encode_varint(2**64)
    with pytest.raises(TypeError):
        T.encode_varint(-1)

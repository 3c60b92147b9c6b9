# SPDX-License-Identifier: Apache-2.0
"""CRC32C and TFRecord framing: RFC 3720 vectors, the crc32c/google-crc32c packages as oracles."""

from __future__ import annotations

import os
import random
import struct
import subprocess
import sys

import crc32c as crc32c_pkg
import google_crc32c
import pytest
from record_reader import FOOTER_SIZE, HEADER_SIZE, masked_crc, split_records

from xfast import _core

T = _core.testing

IMPLS = ["auto", "portable"] + (["sse4.2"] if T.crc32c_hardware_available() else [])

# RFC 3720 appendix B.4 (iSCSI CRC32C examples). The RFC prints each CRC as its bytes on the
# wire, least significant first ("aa 36 91 8a" is 0x8A9136AA).
ISCSI_READ_PDU = bytes.fromhex(
    "01c00000000000000000000000000000"
    "14000000000004000000001400000018"
    "28000000000000000200000000000000"
)
RFC3720_VECTORS = [
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
    (ISCSI_READ_PDU, 0xD9963A56),
    (b"123456789", 0xE3069283),  # the CRC catalogue's check value
    (b"", 0),
]

# compat-spec §2.3: masked CRCs of the data, and of the 8 length bytes TFRecord frames with.
MASKED_VECTORS = [
    (b"", 0xA282EAD8),
    (b"123456789", 0xC78AB0E5),
    (struct.pack("<Q", 24), 0x224B7FA3),
    (struct.pack("<Q", 26), 0x2DD89B12),
    (struct.pack("<Q", 72), 0x9D4892FE),
]


def _random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("data,expected", RFC3720_VECTORS)
def test_rfc3720_vectors(impl: str, data: bytes, expected: int) -> None:
    assert T.crc32c(data, 0, impl) == expected


@pytest.mark.parametrize("data,expected", MASKED_VECTORS)
def test_masked_vectors(data: bytes, expected: int) -> None:
    for impl in IMPLS:
        assert T.crc32c_mask(T.crc32c(data, 0, impl)) == expected
    assert masked_crc(data) == expected  # the tests' own reader agrees


def test_oracle_packages_agree_on_vectors() -> None:
    for data, expected in RFC3720_VECTORS:
        assert crc32c_pkg.crc32c(data) == expected
        assert google_crc32c.value(data) == expected


@pytest.mark.parametrize("impl", IMPLS)
def test_every_length_up_to_4096_matches_packages(impl: str) -> None:
    # One buffer, sliced at a length-dependent offset so every alignment of start and end is hit.
    buf = _random_bytes(4096 + 16, seed=1)
    mismatches = []
    for n in range(4097):
        off = n % 16
        data = buf[off:off + n]
        want = google_crc32c.value(data)
        got = T.crc32c(data, 0, impl)
        if got != want or crc32c_pkg.crc32c(data) != want:
            mismatches.append(n)
    assert mismatches == []


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("n", [1 << 20, (16 << 20) + 3])
def test_large_buffers_match_packages(impl: str, n: int) -> None:
    data = _random_bytes(n, seed=n)
    want = google_crc32c.value(data)
    assert crc32c_pkg.crc32c(data) == want
    assert T.crc32c(data, 0, impl) == want


@pytest.mark.parametrize("impl", IMPLS)
def test_extend_composes_at_every_split(impl: str) -> None:
    data = _random_bytes(1100, seed=2)
    whole = google_crc32c.value(data)
    splits = list(range(80)) + list(range(80, 1101, 7)) + [1100]
    for k in splits:
        a, b = data[:k], data[k:]
        assert T.crc32c(b, T.crc32c(a, 0, impl), impl) == whole, k
        assert google_crc32c.extend(google_crc32c.value(a), b) == whole


def test_implementations_extend_each_other() -> None:
    # A CRC started by one implementation and finished by another: the state is the same value.
    data = _random_bytes(3000, seed=3)
    whole = google_crc32c.value(data)
    for first in IMPLS:
        for second in IMPLS:
            for k in (0, 1, 7, 8, 9, 63, 64, 65, 1500, 3000):
                assert T.crc32c(data[k:], T.crc32c(data[:k], 0, first), second) == whole


def test_unknown_impl_is_rejected() -> None:
    with pytest.raises(ValueError):
        T.crc32c(b"x", 0, "avx512")


def test_mask_unmask_round_trip() -> None:
    rng = random.Random(4)
    values = [0, 1, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0xA282EAD8, 0xA282EAD7]
    values += [rng.getrandbits(32) for _ in range(5000)]
    for v in values:
        m = T.crc32c_mask(v)
        assert 0 <= m <= 0xFFFFFFFF
        assert m == (((v >> 15) | (v << 17)) + 0xA282EAD8) & 0xFFFFFFFF
        assert T.crc32c_unmask(m) == v
        assert T.crc32c_mask(T.crc32c_unmask(v)) == v


def test_implementation_name() -> None:
    name = T.crc32c_implementation()
    assert name in ("sse4.2", "portable")
    assert (name == "sse4.2") == T.crc32c_hardware_available()


@pytest.mark.parametrize("n", [0, 1, 23, 24, 26, 72, 127, 128, 4096, 70000])
def test_frame_record_layout(n: int) -> None:
    data = _random_bytes(n, seed=n + 10)
    rec = T.frame_record(data)
    assert len(rec) == HEADER_SIZE + n + FOOTER_SIZE
    assert rec[:8] == struct.pack("<Q", n)
    assert struct.unpack("<I", rec[8:12])[0] == masked_crc(rec[:8])
    assert rec[12:12 + n] == data
    assert struct.unpack("<I", rec[12 + n:])[0] == masked_crc(data)
    assert split_records(rec) == [data]


def test_frame_record_known_bytes() -> None:
    # compat-spec §2.3: the 26-byte scalar record's header CRC.
    rec = T.frame_record(bytes(26))
    assert rec[:12] == struct.pack("<QI", 26, 0x2DD89B12)
    assert T.frame_record(b"")[:12] == struct.pack("<QI", 0, masked_crc(bytes(8)))


def test_strict_reader_rejects_corruption() -> None:
    # The reader the other tests rely on must catch a flipped bit in either CRC'd region.
    rec = bytearray(T.frame_record(b"hello world"))
    for pos in (0, 9, 12, len(rec) - 1):
        bad = bytearray(rec)
        bad[pos] ^= 0x01
        with pytest.raises(AssertionError):
            split_records(bytes(bad))
    with pytest.raises(AssertionError):
        split_records(bytes(rec[:-1]))


def test_force_portable_env() -> None:
    code = (
        "from xfast import _core; t = _core.testing\n"
        "print(t.crc32c_implementation())\n"
        "print(t.crc32c(bytes(32)), t.crc32c(bytes(range(32))), t.crc32c(b'123456789'))\n"
    )
    env = dict(os.environ, XFAST_FORCE_PORTABLE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["portable", str(0x8A9136AA), str(0x46DD794E), str(0xE3069283)]

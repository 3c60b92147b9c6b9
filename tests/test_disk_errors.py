# SPDX-License-Identifier: Apache-2.0
"""Disk errors on the writer thread: full disk (RLIMIT_FSIZE, a small tmpfs, /dev/full), a bad
descriptor, read-only and deleted log directories. Never a crash or a hang; the next call, flush
or close raises OSError (or warns, with on_error="warn") saying how many events were lost, and
the lost count plus the events in the file is exactly what was logged."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import event_files, load_run
from strict_reader import read_records, scalar_points

import xfast

CHILD_DEADLINE_S = 60.0
_LOST = re.compile(r"\((\d+) event\(s\) lost")


def _lost_in(messages: list[str]) -> int:
    """The total of the "(N event(s) lost" counts in error or warning messages."""
    total = 0
    for m in messages:
        found = _LOST.search(m)
        assert found, f"error without a lost count: {m}"
        total += int(found.group(1))
    return total


def _file_scalars(path: str, tag: str = "x") -> list[int]:
    rf = read_records(path)  # every CRC checked
    assert rf.tail_bytes == 0  # a failed batch was cut back to the last whole record
    return [s for s, _ in scalar_points(rf.events(), tag)]


# Logs N scalars under RLIMIT_FSIZE (SIGXFSZ ignored, so write() fails with EFBIG), then flushes
# (unless told not to) and closes, catching what each call raises; reports as JSON.
_FSIZE_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys, warnings
    import xfast
    logdir, on_error = sys.argv[1], sys.argv[2]
    limit, n, do_flush = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    w = xfast.SummaryWriter(logdir, on_error=on_error)
    errors = []
    def call(name, fn, *args):
        try:
            fn(*args)
        except OSError as e:
            errors.append([name, e.errno, str(e)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(n):
            call("add", w.add_scalar, "x", float(i), i)
        if do_flush:
            call("flush", w.flush)
        stats = w.stats()
        call("close", w.close)
    print(json.dumps({"errors": errors, "warnings": [str(c.message) for c in caught],
                      "categories": [c.category.__name__ for c in caught], "stats": stats}))
    """
)


def _run_fsize_child(logdir: str, on_error: str, flush: bool, n: int = 20000) -> dict[str, Any]:
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _FSIZE_CHILD,
            logdir,
            on_error,
            "65536",
            str(n),
            "1" if flush else "0",
        ],
        capture_output=True,
        text=True,
        timeout=CHILD_DEADLINE_S,
    )
    assert res.returncode == 0, res.stderr
    out: dict[str, Any] = json.loads(res.stdout)
    out["n"] = n
    return out


def _check_exact_accounting(logdir: str, messages: list[str], n: int) -> None:
    (path,) = event_files(logdir)
    assert os.path.getsize(path) <= 65536
    in_file = _file_scalars(path)
    assert in_file == sorted(set(in_file))  # in order, no duplicates
    lost = _lost_in(messages)
    assert lost > 0
    assert len(in_file) + lost == n  # every logged event is either in the file or counted lost


@pytest.mark.parametrize("flush", [True, False], ids=["flush_then_close", "close_only"])
def test_file_size_limit_raises_with_lost_count(logdir: str, flush: bool) -> None:
    out = _run_fsize_child(logdir, "raise", flush)
    assert out["warnings"] == []
    assert out["errors"], "no error reported"
    assert all(errno == 27 for _, errno, _ in out["errors"])  # EFBIG
    calls = {name for name, _, _ in out["errors"]}
    assert calls <= {"add", "flush", "close"}
    if not flush:
        assert "flush" not in calls
    _check_exact_accounting(logdir, [m for _, _, m in out["errors"]], out["n"])
    # TensorBoard reads what is there (possibly nothing: a batch that fails part-way is cut
    # back to the last whole batch, and the first batch may hold every event).
    acc = load_run(logdir)
    in_file = _file_scalars(event_files(logdir)[0])
    assert (
        [e.step for e in acc.Scalars("x")] == in_file
        if in_file
        else "x" not in acc.Tags()["scalars"]
    )


def test_file_size_limit_warns_when_asked(logdir: str) -> None:
    out = _run_fsize_child(logdir, "warn", True)
    assert out["errors"] == []  # training goes on
    assert out["warnings"] and set(out["categories"]) == {"RuntimeWarning"}
    assert all("File too large" in m for m in out["warnings"])
    _check_exact_accounting(logdir, out["warnings"], out["n"])


def _writer_fd(path: str) -> int:
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == os.path.realpath(path):
                return int(name)
        except OSError:
            continue
    raise AssertionError(f"no descriptor open on {path}")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("bad", ["/dev/full", "readonly", "broken_pipe"])
def test_bad_descriptor_then_recovery(logdir: str, bad: str) -> None:
    # The writer's descriptor is swapped (dup2) for one whose writes fail: /dev/full gives
    # ENOSPC, a read-only descriptor EBADF, a pipe without reader EPIPE (Python ignores
    # SIGPIPE). A real EIO needs device-mapper's error target, absent here. Then the good
    # descriptor is put back: the writer goes on.
    w = xfast.SummaryWriter(logdir)
    for i in range(100):
        w.add_scalar("x", float(i), i)
    w.flush()
    path = event_files(logdir)[0]
    fd = _writer_fd(path)
    saved = os.dup(fd)
    if bad == "/dev/full":
        broken = os.open("/dev/full", os.O_WRONLY)
    elif bad == "readonly":
        broken = os.open(path, os.O_RDONLY)
    else:
        reader, broken = os.pipe()
        os.close(reader)
    os.dup2(broken, fd)
    os.close(broken)
    for i in range(100, 300):
        w.add_scalar("x", float(i), i)
    with pytest.raises(OSError) as info:
        w.flush()
    assert _lost_in([str(info.value)]) == 200
    assert info.value.errno in (28, 9, 32)  # ENOSPC, EBADF, EPIPE
    os.dup2(saved, fd)
    os.close(saved)
    for i in range(300, 400):
        w.add_scalar("x", float(i), i)
    w.flush()  # no error left to report
    w.close()
    assert _file_scalars(path) == list(range(100)) + list(range(300, 400))
    assert w.stats()["lost"] == 200


def _mount(*args: str) -> None:
    res = subprocess.run(["mount", *args], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"mount refused: {res.stderr.strip()}")


@pytest.fixture
def mount_point(tmp_path: Any) -> Iterator[str]:
    mp = str(tmp_path / "mnt")
    os.makedirs(mp)
    yield mp
    subprocess.run(["umount", "-l", mp], capture_output=True)


def test_small_tmpfs_fills_up_then_recovers(mount_point: str) -> None:
    _mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", mount_point)
    ballast = os.path.join(mount_point, "ballast")
    with open(ballast, "wb") as f:
        f.write(b"\0" * (200 * 1024))  # leaves ~56 KiB for the log
    logdir = os.path.join(mount_point, "run")
    w = xfast.SummaryWriter(logdir)
    messages = []
    n = 5000
    for i in range(n):
        try:
            w.add_scalar("x", float(i), i)
        except OSError as e:
            messages.append(str(e))
            assert e.errno == 28  # ENOSPC
    try:
        w.flush()
    except OSError as e:
        messages.append(str(e))
    assert messages, "a full disk went unreported"
    os.unlink(ballast)  # space again: the writer keeps going
    for i in range(n, n + 100):
        w.add_scalar("x", float(i), i)
    w.close()
    in_file = _file_scalars(event_files(logdir)[0])
    assert in_file[-100:] == list(range(n, n + 100))
    assert len(in_file) + _lost_in(messages) == n + 100


def test_read_only_log_directory(mount_point: str) -> None:
    # Creating the writer in a read-only directory raises at once; a writer that must open a new
    # file there (after close) raises at the call that needs it.
    logdir = os.path.join(mount_point, "run")
    os.makedirs(logdir)
    w = xfast.SummaryWriter(logdir)
    w.add_scalar("x", 1.0, 0)
    w.close()
    _mount("--bind", mount_point, mount_point)
    _mount("-o", "remount,bind,ro", mount_point)
    with pytest.raises(OSError) as info:
        xfast.SummaryWriter(logdir)
    assert info.value.errno == 30  # EROFS
    with pytest.raises(OSError):
        w.add_scalar("x", 2.0, 1)  # would open a new file
    assert _file_scalars(event_files(logdir)[0]) == [0]


@pytest.mark.parametrize("on_error", ["raise", "warn"])
def test_deleted_log_directory_is_reported_and_recreated(logdir: str, on_error: str) -> None:
    # Linux lets writes to an unlinked file succeed: without detection, every later event would
    # vanish. The next flush reports the events the deleted file held and a new file is created.
    w = xfast.SummaryWriter(logdir, on_error=on_error)
    for i in range(50):
        w.add_scalar("x", float(i), i)
    w.flush()
    shutil.rmtree(logdir)
    for i in range(50, 80):
        w.add_scalar("x", float(i), i)
    if on_error == "raise":
        with pytest.raises(OSError) as info:
            w.flush()
        message = str(info.value)
        assert info.value.errno == 2  # ENOENT
    else:
        with pytest.warns(RuntimeWarning) as caught:
            w.flush()
        (message,) = [str(c.message) for c in caught]
    assert "deleted" in message
    assert _lost_in([message]) == 1 + 80  # the first record and every scalar the file held
    for i in range(80, 100):
        w.add_scalar("x", float(i), i)
    w.close()
    (path,) = event_files(logdir)
    assert _file_scalars(path) == list(range(80, 100))
    assert [e.step for e in load_run(logdir).Scalars("x")] == list(range(80, 100))


def test_deleted_file_noticed_without_flush(logdir: str) -> None:
    # No flush at all: the writer thread's once-a-second check finds the deletion while events
    # flow, and the loss surfaces at a later add_* call.
    w = xfast.SummaryWriter(logdir)
    w.add_scalar("x", 0.0, 0)
    w.flush()
    os.unlink(event_files(logdir)[0])
    raised = None
    for i in range(1, 200_000):  # ~4 s of logging at most; the check runs every second
        try:
            w.add_scalar("x", float(i), i)
        except OSError as e:
            raised = e
            break
        if i % 1000 == 0:
            time.sleep(0.02)
    assert raised is not None and raised.errno == 2
    w.close()
    assert len(event_files(logdir)) == 1

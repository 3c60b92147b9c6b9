# SPDX-License-Identifier: Apache-2.0
"""add_histogram over the value distributions models log (fresh and trained weights, ReLU-masked
gradients, denormals, constants, values on the edges; float32, bfloat16, float16, float64),
through the in-place fast path and the numpy path, against torch's SummaryWriter read back with
TensorBoard's loader; and add_histograms over a mapping or a Module against add_histogram."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from conftest import load_run
from torch.utils.tensorboard import SummaryWriter as TorchWriter

from xfast import SummaryWriter, _core

EDGES32 = torch.from_numpy(np.asarray(_core.default_edges(), dtype=np.float32))


def _distributions(n: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(n)
    normal = torch.randn(n, generator=g)
    mask = torch.rand(n, generator=g) < 0.5
    return {
        "normal": normal,
        "fresh_linear": (torch.rand(n, generator=g) * 2 - 1) / 32,
        "trained": torch.distributions.StudentT(3.0).sample((n,)) * 0.02,
        "gradient": normal * 1e-6 * mask,
        "denormal": normal * 1e-40,
        "zeros": torch.zeros(n),
        "ones": torch.ones(n),
        "on_edges": EDGES32[torch.randint(0, EDGES32.numel(), (n,), generator=g)],
    }


def _events(logdir: str, tags: list[str]) -> dict[str, Any]:
    acc = load_run(logdir)
    return {tag: [(e.step, e.histogram_value) for e in acc.Histograms(tag)] for tag in tags}


def _assert_same(got: Any, want: Any) -> None:
    assert got.keys() == want.keys()
    for tag in want:
        assert len(got[tag]) == len(want[tag]), tag
        for (gs, g), (ws, w) in zip(got[tag], want[tag]):
            assert gs == ws, tag
            assert list(g.bucket_limit) == list(w.bucket_limit), tag
            assert list(g.bucket) == list(w.bucket), tag
            assert (g.min, g.max, g.num) == (w.min, w.max, w.num), tag
            assert g.sum == pytest.approx(w.sum, rel=1e-9, abs=1e-300), tag
            assert g.sum_squares == pytest.approx(w.sum_squares, rel=1e-9, abs=1e-300), tag


@pytest.mark.parametrize("n", [1, 17, 2048 + 5, 40_000])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
def test_distributions_match_torch(tmp_path: Any, n: int, dtype: torch.dtype) -> None:
    tensors = {name: t.to(dtype) for name, t in _distributions(n).items()}
    # float16 turns the largest edges into inf, which torch would bin as NaN/inf: keep them finite.
    tensors = {k: v for k, v in tensors.items() if bool(v.isfinite().all())}
    xw, tw = SummaryWriter(str(tmp_path / "x")), TorchWriter(str(tmp_path / "t"))
    for step in range(2):
        for name, t in tensors.items():
            # torch's writer cannot read bfloat16; widened to float32 it is the same values.
            tw.add_histogram(name, t.float() if dtype == torch.bfloat16 else t, step)
            # A leaf that requires grad (the fast path reads it in place), and a strided view
            # of the same values (the numpy path copies it).
            xw.add_histogram(name, t.clone().requires_grad_(dtype.is_floating_point), step)
            xw.add_histogram(name + "/view", torch.stack([t, t], 1)[:, 0], step)
    xw.close()
    tw.close()
    got = _events(str(tmp_path / "x"), [k + s for k in tensors for s in ("", "/view")])
    want = _events(str(tmp_path / "t"), list(tensors))
    _assert_same({k: v for k, v in got.items() if not k.endswith("/view")}, want)
    _assert_same({k[: -len("/view")]: v for k, v in got.items() if k.endswith("/view")}, want)


def test_fast_path_reports_nonfinite_and_leaves_negated_views_alone(tmp_path: Any) -> None:
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0, float("nan")]))
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.warns(RuntimeWarning, match="1 NaN"):
            w.add_histogram("p", p, 0)
        # A negative-bit view's storage holds the other sign: never read in place; numpy()
        # refuses it as torch's writer does.
        with pytest.raises(RuntimeError, match="negative bit"):
            w.add_histogram("neg", torch._neg_view(p.detach()), 0)
    (ev,) = load_run(str(tmp_path)).Histograms("p")
    h = ev.histogram_value
    assert (h.min, h.max, h.num, h.sum) == (-2.0, 3.0, 3, 2.0)
    assert w.stats()["nonfinite_values"] == 1


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.LayerNorm(8),
                                torch.nn.Linear(8, 2, dtype=torch.float64))
    hidden = model[1](model[0](torch.randn(4, 16)))
    model[2](hidden.double()).sum().backward()
    return model


@pytest.mark.parametrize("form", ["dict", "state_dict", "module", "pairs"])
def test_add_histograms_takes_mappings_and_modules(tmp_path: Any, form: str) -> None:
    model = _model()
    arg: Any = {
        "dict": dict(model.named_parameters()),
        "state_dict": model.state_dict(),
        "module": model,
        "pairs": model.named_parameters(),
    }[form]
    with SummaryWriter(str(tmp_path / "batch")) as w:
        w.add_histograms(arg, 3, grads=form != "state_dict")
    with SummaryWriter(str(tmp_path / "loop")) as w:
        for name, p in model.named_parameters():
            w.add_histogram("parameters/" + name, p, 3)
            if form != "state_dict":  # state_dict() holds detached tensors: no .grad
                w.add_histogram("gradients/" + name, p.grad, 3)
    tags = load_run(str(tmp_path / "loop")).Tags()["histograms"]
    assert len(tags) == (6 if form == "state_dict" else 12)
    _assert_same(_events(str(tmp_path / "batch"), tags), _events(str(tmp_path / "loop"), tags))


def test_add_histograms_still_rejects_other_values(tmp_path: Any) -> None:
    with SummaryWriter(str(tmp_path)) as w, pytest.raises(TypeError, match="pairs"):
        w.add_histograms({"a": [1.0, 2.0]}, 0)

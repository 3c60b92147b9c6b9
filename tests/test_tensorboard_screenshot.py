# SPDX-License-Identifier: Apache-2.0
"""End to end, as a person would look: the real TensorBoard server and headless Chromium show
what xfast wrote (scripts/screenshot_tensorboard.py). Slow (about a minute): run with -m slow."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from typing import Any

import numpy as np
import pytest
from PIL import Image

SCRIPT = os.path.join(os.path.dirname(__file__), os.pardir, "scripts", "screenshot_tensorboard.py")


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("screenshot_tensorboard", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="needs chromium (apt-get install chromium)"
)
def test_dashboards_show_the_data(tmp_path: Any, request: pytest.FixtureRequest) -> None:
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: select with -m slow")
    script = _load_script()
    logdir = str(tmp_path / "logs")
    script.log_everything(os.path.join(logdir, "xfast_run"))
    paths = script.screenshots(logdir, str(tmp_path))
    assert [os.path.basename(p) for p in paths] == [f"{name}.png" for name, _ in script.DASHBOARDS]
    shots = {os.path.basename(p)[:-4]: np.asarray(Image.open(p).convert("RGB")) for p in paths}
    for name, shot in shots.items():
        assert shot.shape == (1100, 1400, 3), name
        assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 500, f"{name} looks empty"
    # The boxes image (pure red outline and label band) is drawn on the images dashboard.
    assert (shots["images"] == [255, 0, 0]).all(axis=2).sum() > 1000

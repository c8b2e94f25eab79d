"""Imported by the fork server of job processes only (never by the server itself): loads once what every
job would otherwise import on its own, so a forked job starts training at once.

* :mod:`qgm.serve.worker` and every registry (:func:`qgm.train.run.load_plugins`);
* torch's optimizer machinery (the first ``torch.optim`` optimizer imports ``torch._dynamo``: seconds);
* matplotlib with the Agg backend (end-of-run plots), when installed.
"""
from __future__ import annotations

import importlib.util

import torch

import qgm.serve.worker  # noqa: F401  (the job bodies)
from qgm.train.run import load_plugins

load_plugins()

torch.optim.Adam([torch.zeros(1, requires_grad=True)])
if importlib.util.find_spec("matplotlib") is not None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

"""Optimizers with the ``torch.optim.Optimizer`` API: quantum natural gradient
(:class:`QNG`, metric from the circuit) and QN-SPSA (:class:`QNSPSA`, stochastic
fidelity-based metric for shot-based runs). Importing this package registers
``"qng"`` and ``"qnspsa"`` in :data:`qgm.registry.OPTIMIZERS`."""
from qgm.optim.factory import SCHEDULES, build_optimizer, build_scheduler
from qgm.optim.qng import QNG, SOLVERS, precondition
from qgm.optim.qnspsa import QNSPSA, qnspsa_metric_sample

__all__ = ["build_optimizer", "build_scheduler", "SCHEDULES", "QNG", "QNSPSA", "SOLVERS", "precondition", "qnspsa_metric_sample"]

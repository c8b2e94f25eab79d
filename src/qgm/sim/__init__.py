"""How it runs here: the batched, differentiable state-vector engine."""
from qgm.sim.density import density_matrix, noisy_probs, noisy_sample
from qgm.sim.diff import DIFF_METHODS, resolve_diff_method
from qgm.sim.engine import expval, marginal, probs, sample, state
from qgm.sim.noise import AmplitudeDamping, BitFlip, Channel, Depolarizing, NoiseModel, PhaseDamping, PhaseFlip, ReadoutError
from qgm.sim.program import Program, compile_circuit
from qgm.sim.validate import check_shots
from qgm.sim.workspace import clear_workspaces

__all__ = ["state", "probs", "expval", "sample", "marginal", "compile_circuit", "Program"]
__all__ += ["DIFF_METHODS", "resolve_diff_method", "check_shots", "clear_workspaces"]
__all__ += [
    "density_matrix", "noisy_probs", "noisy_sample", "NoiseModel", "Channel",
    "Depolarizing", "AmplitudeDamping", "PhaseDamping", "BitFlip", "PhaseFlip", "ReadoutError",
]

from qgm.sim.amplify import (  # noqa: E402  (after the engine it builds on)
    SCHEDULES,
    AmplifiedState,
    Amplifier,
    ConditionalSamples,
    Schedule,
    amplified_state,
    sample_conditional,
    sample_exact_conditional,
)

__all__ += [
    "amplified_state", "sample_conditional", "sample_exact_conditional", "Amplifier", "AmplifiedState",
    "ConditionalSamples", "Schedule", "SCHEDULES",
]

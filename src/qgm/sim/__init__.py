"""How it runs here: the batched, differentiable state-vector engine."""
from qgm.sim.engine import DIFF_METHODS, expval, marginal, probs, sample, state
from qgm.sim.program import Program, compile_circuit

__all__ = ["state", "probs", "expval", "sample", "marginal", "compile_circuit", "Program", "DIFF_METHODS"]

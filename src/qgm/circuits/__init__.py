"""What to run: the gate catalogue, the immutable Circuit, ansatz builders (one registry),
initial-angle strategies and OpenQASM."""
from qgm.circuits.ansatz import (
    brickwork,
    chow_liu_tree,
    entangler_pairs,
    hardware_efficient,
    identity_block_ansatz,
    iqp,
    liu_wang,
)
from qgm.circuits.circuit import Circuit, In, Op, P, Param
from qgm.circuits.conditions import Condition, as_condition
from qgm.circuits.gates import GATES, GateDef, gate_matrix
from qgm.circuits.init import INITIALIZERS, initialize, layerwise_phases, param_layers, register_init
from qgm.circuits.oracles import amplified_circuit, mcphase, mcx, mcz, phase_oracle, zero_reflection
from qgm.circuits.registry import ANSATZE, AnsatzBuilder, ansatz_at_depth, build_ansatz
from qgm.circuits.sim_catalogue import SIM_INDICES, sim_circuit

__all__ = [
    "Circuit", "Op", "Param", "P", "In", "GATES", "GateDef", "gate_matrix",
    "hardware_efficient", "brickwork", "iqp", "liu_wang", "chow_liu_tree", "entangler_pairs",
    "sim_circuit", "SIM_INDICES", "identity_block_ansatz", "ANSATZE", "AnsatzBuilder", "build_ansatz",
    "ansatz_at_depth", "Condition", "as_condition", "amplified_circuit", "mcphase", "mcx", "mcz", "phase_oracle",
    "zero_reflection", "INITIALIZERS", "register_init", "initialize", "param_layers", "layerwise_phases",
]

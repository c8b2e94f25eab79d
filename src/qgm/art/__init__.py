"""Quantum art: images as states, interference and decoherence as brushes, quantum latent seeds.

* :mod:`~qgm.art.encodings`: QuantumBlur height maps (probability, linear, log; Gray grid),
  FRQI, NEQR, colour per channel or on channel qubits, tiles;
* :mod:`~qgm.art.brushes`: rotations and QuantumBlur's blur, partial swap, interference blend, gate collages,
  shot grain;
* :mod:`~qgm.art.decoherence`: NoiseModel channels on image states (exact branches or trajectories);
* :mod:`~qgm.art.animate` and :mod:`~qgm.art.render`: frames, PNG files, contact sheets;
* :mod:`~qgm.art.seeds` and :mod:`~qgm.art.study`: Born-machine / noisy-circuit / Gaussian latents
  for a classical digit generator, and the study that measures them.
"""
from qgm.art.animate import frame_paths, save_frames, stack_frames, sweep
from qgm.art.brushes import blur, blur_rates, check_wires, collage, grain, interfere, partial_swap, rotate, run
from qgm.art.decoherence import apply_channel, decohere, run_noisy
from qgm.art.encodings import FRQI, MAX_QUBITS, NEQR, Encoded, Encoding, Grid, HeightMap, gray_line
from qgm.art.render import BUILTINS, load_image, save_image, tile_grid, to_pixels

__all__ = [
    "Encoding", "Encoded", "HeightMap", "FRQI", "NEQR", "Grid", "gray_line", "MAX_QUBITS",
    "run", "rotate", "blur", "blur_rates", "collage", "partial_swap", "interfere", "grain", "check_wires",
    "apply_channel", "run_noisy", "decohere",
    "sweep", "stack_frames", "frame_paths", "save_frames",
    "BUILTINS", "load_image", "save_image", "tile_grid", "to_pixels",
]

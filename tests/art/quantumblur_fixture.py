"""Regenerate ``quantumblur_reference.json``: QuantumBlur's own outputs on small images.

Run with QuantumBlur importable (qiskit-community/QuantumBlur, ``quantumblur/quantumblur.py``
at commit bc7634a, with Qiskit 2 and Qiskit Aer), e.g.::

    PYTHONPATH=/path/to/QuantumBlur/quantumblur python tests/art/quantumblur_fixture.py

The test suite only reads the JSON (QuantumBlur is not a dependency).
"""
import json
from pathlib import Path

import numpy as np
import quantumblur as qb

OUT = Path(__file__).with_name("quantumblur_reference.json")


def heights(image: np.ndarray) -> dict:
    """Row-major image ``(h, w)`` -> QuantumBlur height dict keyed ``(x, y)``."""
    return {(x, y): float(image[y, x]) for y in range(image.shape[0]) for x in range(image.shape[1])}


def grid(height: dict, shape: tuple[int, int]) -> list:
    return [[float(height[x, y]) for x in range(shape[1])] for y in range(shape[0])]


def state(qc) -> list:
    return [float(np.real(a)) for a in qc.data[0].operation.params]


def main() -> None:
    rng = np.random.default_rng(7)
    cases = []
    for shape in [(3, 3), (4, 4), (2, 4), (5, 3), (4, 8)]:
        # the log map spans (1/m)**(1/m) for the smallest height m > eps: keep m >= 0.35 so every
        # probability stays far above double-precision rounding of the brightest one
        image = 0.35 + 0.65 * rng.random(shape)
        image[0, 0] = 0.0
        h = heights(image)
        case = {"image": image.tolist(), "linear_state": state(qb.height2circuit(h)),
                "log_state": state(qb.height2circuit(h, log=True)), "blur": []}
        for xi in (0.03, 0.12):
            for axis in ("x", "y"):
                for log in (False, True):
                    out = qb.circuit2height(qb.blur_height(h, xi, axis=axis, log=log), log=log)
                    case["blur"].append({"xi": xi, "axis": axis, "log": log, "height": grid(out, shape)})
        other = 0.05 + 0.95 * rng.random(shape)
        case["other"] = other.tolist()
        case["swap"] = []
        for fraction in (0.3, 0.75):
            h0, h1 = qb.swap_heights(h, heights(other), fraction)
            case["swap"].append({"fraction": fraction, "height0": grid(h0, shape), "height1": grid(h1, shape)})
        cases.append(case)
    lines = {str(n): [int(s, 2) for s in qb.make_line(n)] for n in range(1, 10)}
    OUT.write_text(json.dumps({"source": "qiskit-community/QuantumBlur bc7634a", "make_line": lines,
                               "cases": cases}) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

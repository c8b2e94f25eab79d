"""Writes the real-world-style OpenQASM corpus of this folder (run from the repository root).

    /work/main/.venv/bin/python tests/corpus/qasm/real/generate.py

Two kinds of files, all seeded (the output is the same on every run):

* written by Qiskit's exporters (``qiskit.qasm2.dumps`` / ``qiskit.qasm3.dumps``)
  from circuits built with Qiskit: QFT, QAOA, Grover, W state and random
  circuits transpiled to IBM's basis (``rz sx x cx``) and to ``u cx``; this is
  the text users feed qgm;
* written here in the style of benchmark suites such as QASMBench (comments,
  ``gate`` definitions, barriers, registers, measurements at the end): a
  ripple-carry adder, Bernstein-Vazirani, Deutsch-Jozsa, GHZ, phase
  estimation, teleportation with deferred measurement, a variational ansatz
  with ``input`` angles, Trotterised Ising dynamics, a swap test and an IQP
  circuit. None is copied from a suite; the algorithms are textbook ones.

tests/circuits/test_qasm_corpus.py checks every file against Qiskit's
Statevector (Qiskit's own loader) and, where the algorithm has a known answer
(adder sum, hidden string, phase), that answer.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
Q2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
Q3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def qiskit_files() -> dict[str, str]:
    """Files written by Qiskit's exporters."""
    import qiskit.qasm2
    import qiskit.qasm3
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit.random import random_circuit
    from qiskit.synthesis import synth_qft_full

    out: dict[str, str] = {}

    qft = QuantumCircuit(8)
    for q in (0, 3, 4, 6):
        qft.x(q)
    qft.compose(synth_qft_full(8), inplace=True)
    out["qft_8_qiskit.qasm"] = qiskit.qasm3.dumps(qft)

    ibm = transpile(random_circuit(6, 8, seed=7, measure=True), basis_gates=["rz", "sx", "x", "cx"],
                    optimization_level=1, seed_transpiler=1)
    out["random_ibm_basis_6_qiskit.qasm"] = qiskit.qasm2.dumps(ibm)

    ucx = transpile(random_circuit(5, 10, seed=11), basis_gates=["u", "cx"], optimization_level=0,
                    seed_transpiler=1)
    out["random_u_cx_5_qiskit.qasm"] = qiskit.qasm2.dumps(ucx)

    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3)]
    qaoa = QuantumCircuit(6)
    qaoa.h(range(6))
    for gamma, beta in ((0.41, 0.73), (0.88, 0.29)):
        for a, b in edges:
            qaoa.rzz(2 * gamma, a, b)
        qaoa.rx(2 * beta, range(6))
    out["qaoa_maxcut_6_qiskit.qasm"] = qiskit.qasm3.dumps(qaoa)

    grover = QuantumCircuit(3, 3)
    grover.h(range(3))
    for _ in range(2):
        grover.x(1)  # oracle: phase flip of |101> (qubit 0 = least significant in Qiskit)
        grover.h(2)
        grover.ccx(0, 1, 2)
        grover.h(2)
        grover.x(1)
        grover.h(range(3))  # diffusion
        grover.x(range(3))
        grover.h(2)
        grover.ccx(0, 1, 2)
        grover.h(2)
        grover.x(range(3))
        grover.h(range(3))
    grover.measure(range(3), range(3))
    out["grover_3_qiskit.qasm"] = qiskit.qasm2.dumps(grover)

    w = QuantumCircuit(4)  # |1000> -> W: at step k, qubit k keeps amplitude 1/2 and passes the rest on
    w.x(0)
    for k in range(3):
        w.cry(2 * math.acos(math.sqrt(1 / (4 - k))), k, k + 1)
        w.cx(k + 1, k)
    out["w_state_4_qiskit.qasm"] = qiskit.qasm2.dumps(w)
    return out


def adder(n: int = 4, a: int = 11, b: int = 6) -> str:
    """Cuccaro ripple-carry adder: b <- a + b with carry out; a, b little-endian in their registers."""
    lines = [
        f"// ripple-carry adder (Cuccaro et al.), {n}-bit: a = {a}, b = {b}; b <- a + b, cout <- carry",
        Q2.strip(),
        "gate majority a, b, c { cx c, b; cx c, a; ccx a, b, c; }",
        "gate unmaj a, b, c { ccx a, b, c; cx c, a; cx a, b; }",
        "qreg cin[1];",
        f"qreg a[{n}];",
        f"qreg b[{n}];",
        "qreg cout[1];",
        f"creg ans[{n + 1}];",
        "// inputs",
    ]
    lines += [f"x a[{i}];" for i in range(n) if a >> i & 1]
    lines += [f"x b[{i}];" for i in range(n) if b >> i & 1]
    lines.append("majority cin[0], b[0], a[0];")
    lines += [f"majority a[{i - 1}], b[{i}], a[{i}];" for i in range(1, n)]
    lines.append(f"cx a[{n - 1}], cout[0];")
    lines += [f"unmaj a[{i - 1}], b[{i}], a[{i}];" for i in range(n - 1, 0, -1)]
    lines.append("unmaj cin[0], b[0], a[0];")
    lines.append("barrier a, b, cout;")
    lines += [f"measure b[{i}] -> ans[{i}];" for i in range(n)]
    lines.append(f"measure cout[0] -> ans[{n}];")
    return "\n".join(lines) + "\n"


def bernstein_vazirani(secret: str = "1011011") -> str:
    n = len(secret)
    lines = [f"// Bernstein-Vazirani, hidden string {secret} (q[0] = first character)", Q2.strip(),
             f"qreg q[{n}];", "qreg anc[1];", f"creg c[{n}];", "x anc[0];", "h anc[0];"]
    lines += [f"h q[{i}];" for i in range(n)]
    lines.append("barrier q, anc;")
    lines += [f"cx q[{i}], anc[0];" for i, s in enumerate(secret) if s == "1"]
    lines.append("barrier q, anc;")
    lines += [f"h q[{i}];" for i in range(n)]
    lines.append("measure q -> c;")
    return "\n".join(lines) + "\n"


def deutsch_jozsa(n: int = 5) -> str:
    """Balanced oracle f(x) = x0 xor x2 xor x4, with x1, x3 wrapped in X gates."""
    lines = ["// Deutsch-Jozsa with a balanced oracle", Q2.strip(), f"qreg q[{n + 1}];", f"creg c[{n}];",
             f"x q[{n}];", "h q;", "barrier q;", "x q[1];", "x q[3];"]
    lines += [f"cx q[{i}],q[{n}];" for i in range(0, n, 2)]
    lines += ["x q[1];", "x q[3];", "barrier q;"]
    lines += [f"h q[{i}];" for i in range(n)]
    lines += [f"measure q[{i}] -> c[{i}];" for i in range(n)]
    return "\n".join(lines) + "\n"


def ghz(n: int = 10) -> str:
    lines = [Q3.strip(), f"// GHZ state on {n} qubits, log-depth fan-out", f"qubit[{n}] q;", f"bit[{n}] c;", "h q[0];"]
    have = 1
    while have < n:
        lines += [f"cx q[{i}], q[{i + have}];" for i in range(min(have, n - have))]
        have *= 2
    lines.append("c = measure q;")
    return "\n".join(lines) + "\n"


def phase_estimation(m: int = 4, k: int = 5) -> str:
    """QPE of the phase gate p(2 pi k / 2**m) on |1>: the counting register reads k exactly."""
    phi = f"2*pi*{k}/{2 ** m}"
    lines = [f"// phase estimation of p({phi}) with {m} counting qubits; expected outcome {k}", Q2.strip(),
             f"qreg c[{m}];", "qreg tgt[1];", f"creg r[{m}];", "x tgt[0];", "h c;"]
    for j in range(m):  # counting qubit j controls U^(2^(m-1-j)): c[0] is the most significant bit
        lines.append(f"cu1({2 ** (m - 1 - j)}*{phi}) c[{j}], tgt[0];")
    lines.append("// inverse QFT: reverse the register, then the inverse of the swap-free QFT")
    lines += [f"swap c[{j}], c[{m - 1 - j}];" for j in range(m // 2)]
    for j in range(m - 1, -1, -1):
        for i in range(m - 1, j, -1):
            lines.append(f"cu1(-pi/{2 ** (i - j)}) c[{i}], c[{j}];")
        lines.append(f"h c[{j}];")
    lines.append("measure c -> r;")
    return "\n".join(lines) + "\n"


def teleport() -> str:
    return """// teleportation of u3(0.9, 0.4, -1.3)|0> from q[0] to q[2], measurements deferred
OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg m[3];
u3(0.9,0.4,-1.3) q[0];
barrier q;
h q[1];
cx q[1],q[2];
barrier q;
cx q[0],q[1];
h q[0];
// classical corrections as controlled gates (deferred measurement)
cx q[1],q[2];
cz q[0],q[2];
measure q -> m;
"""


def variational(n: int = 6, layers: int = 2) -> str:
    """A hardware-efficient ansatz with ``input`` angles (bound by the test)."""
    names = [f"theta_{i}" for i in range(2 * n * (layers + 1))]
    lines = [Q3.strip(), f"// RY-RZ layers with CZ rings, {len(names)} input angles"]
    lines += [f"input float[64] {t};" for t in names]
    lines.append(f"qubit[{n}] q;")
    k = 0
    for layer in range(layers + 1):
        for q in range(n):
            lines += [f"ry({names[k]}) q[{q}];", f"rz({names[k + 1]}) q[{q}];"]
            k += 2
        if layer < layers:
            lines += [f"cz q[{q}], q[{(q + 1) % n}];" for q in range(n)]
    return "\n".join(lines) + "\n"


def ising(n: int = 6, steps: int = 4) -> str:
    lines = [Q3.strip(), "// transverse-field Ising chain (J = 1, h = 0.7), first-order Trotter steps dt = 0.15",
             "gate zz(t) a, b { cx a, b; rz(2*t) b; cx a, b; }", f"qubit[{n}] q;", "h q;"]
    for _ in range(steps):
        lines += [f"zz(1.0*0.15) q[{i}], q[{i + 1}];" for i in range(n - 1)]
        lines.append("rx(2*0.7*0.15) q;")
    return "\n".join(lines) + "\n"


def swap_test() -> str:
    return """// swap test between two 2-qubit states, with standard gates outside a minimal basis
OPENQASM 2.0;
include "qelib1.inc";
qreg anc[1];
qreg a[2];
qreg b[2];
creg c[1];
u2(0.3,-0.7) a[0];
cu3(0.5,0.1,-0.2) a[0],a[1];
u1(0.25) a[1];
ch b[0],b[1];
u3(1.1,0.2,0.3) b[0];
cp(0.8) b[0],b[1];
h anc[0];
cswap anc[0],a[0],b[0];
cswap anc[0],a[1],b[1];
h anc[0];
measure anc[0] -> c[0];
"""


def iqp(n: int = 6, seed: int = 5) -> str:
    rng = np.random.default_rng(seed)
    lines = [Q3.strip(), "// an IQP circuit: H, diagonal phases (t, cp, cz), H", f"qubit[{n}] q;", "h q;"]
    for i in range(n):
        lines.append(f"p({int(rng.integers(1, 8))}*pi/4) q[{i}];")
        for j in range(i + 1, n):
            if rng.random() < 0.5:
                lines.append(f"cp({rng.uniform(-math.pi, math.pi)!r}) q[{i}], q[{j}];")
    lines += ["cz q[0], q[5];", "t q[2];", "h q;"]
    return "\n".join(lines) + "\n"


def main() -> None:
    files = qiskit_files()
    files.update({
        "adder_cuccaro_4.qasm": adder(),
        "bernstein_vazirani_7.qasm": bernstein_vazirani(),
        "deutsch_jozsa_5.qasm": deutsch_jozsa(),
        "ghz_10.qasm": ghz(),
        "phase_estimation_4.qasm": phase_estimation(),
        "teleport_deferred_3.qasm": teleport(),
        "variational_6.qasm": variational(),
        "ising_trotter_6.qasm": ising(),
        "swap_test_5.qasm": swap_test(),
        "iqp_6.qasm": iqp(),
    })
    for name, text in sorted(files.items()):
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"{name}: {text.count(chr(10))} lines")


if __name__ == "__main__":
    main()

"""Gate tables of the OpenQASM boundary: what the writers emit and what the reader knows.

* :data:`QASM3_DEFINITIONS` / :data:`QASM2_DEFINITIONS`: ``gate`` definitions the
  writers add for catalogue gates missing from ``stdgates.inc`` / the original
  ``qelib1.inc`` (each body equals the catalogue matrix; checked in
  tests/circuits/test_qasm.py).
* :data:`QASM3_NAMES` / :data:`QASM2_NATIVE`: the name each catalogue gate is
  written under.
* :data:`LIBRARY_SOURCE`: standard gates that are not in the catalogue
  (``u1``, ``cp``, ``cswap``, ``cu3`` ...), defined in catalogue gates; the
  reader parses it once and expands calls of these gates inline.
"""
from __future__ import annotations

import re

from qgm.circuits.gates import GATES

__all__ = [
    "QASM3_DEFINITIONS",
    "QASM2_DEFINITIONS",
    "QASM3_NAMES",
    "QASM2_NATIVE",
    "LIBRARY_SOURCE",
    "LIBRARY_GATES",
]

#: Exporter definitions of catalogue gates missing from ``stdgates.inc`` (OpenQASM 3).
#: Each body equals the catalogue matrix exactly (checked in tests/circuits/test_qasm.py).
QASM3_DEFINITIONS: dict[str, str] = {
    "rxx": "gate rxx(theta) a, b { h a; h b; cx a, b; rz(theta) b; cx a, b; h a; h b; }",
    "ryy": (
        "gate ryy(theta) a, b { sdg a; sdg b; h a; h b; cx a, b; rz(theta) b; cx a, b; "
        "h a; h b; s a; s b; }"
    ),
    "rzz": "gate rzz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }",
    "iswap": "gate iswap a, b { s a; s b; h a; cx a, b; cx b, a; h b; }",
}

#: Exporter definitions for OpenQASM 2 (bodies use only the original ``qelib1.inc``).
#: Exact except ``sx`` (equal up to the global phase e^{iπ/4}; OpenQASM 2 has no phase).
QASM2_DEFINITIONS: dict[str, str] = {
    "sx": "gate sx a { sdg a; h a; sdg a; }",
    "swap": "gate swap a, b { cx a, b; cx b, a; cx a, b; }",
    "crx": "gate crx(theta) a, b { h b; crz(theta) a, b; h b; }",
    "cry": "gate cry(theta) a, b { ry(theta/2) b; cx a, b; ry(-theta/2) b; cx a, b; }",
    **QASM3_DEFINITIONS,
}

#: Catalogue gate -> name written in OpenQASM 3 (stdgates.inc or a definition above).
QASM3_NAMES: dict[str, str] = {g: g for g in GATES}
QASM3_NAMES["u3"] = "U"

#: Catalogue gates written natively in OpenQASM 2 (original qelib1.inc), with their names.
QASM2_NATIVE: dict[str, str] = {
    g: g
    for g in "id x y z h s sdg t tdg rx ry rz u3 cx cy cz ccx crz".split()
}
QASM2_NATIVE["p"] = "u1"

#: Standard gates that are not in the catalogue, defined in catalogue gates for import.
LIBRARY_SOURCE = """
gate u1(lambda) q { p(lambda) q; }
gate u2(phi, lambda) q { U(pi/2, phi, lambda) q; }
gate u0(gamma) q { id q; }
gate cp(lambda) a, b { p(lambda/2) a; cx a, b; p(-lambda/2) b; cx a, b; p(lambda/2) b; }
gate cphase(lambda) a, b { cp(lambda) a, b; }
gate cu1(lambda) a, b { cp(lambda) a, b; }
gate ch a, b { s b; h b; t b; cx a, b; tdg b; h b; sdg b; }
gate cswap a, b, c { cx c, b; ccx a, b, c; cx c, b; }
gate cu3(theta, phi, lambda) c, t {
  p((lambda+phi)/2) c; p((lambda-phi)/2) t; cx c, t;
  U(-theta/2, 0, -(phi+lambda)/2) t; cx c, t; U(theta/2, phi, 0) t;
}
gate cu(theta, phi, lambda, gamma) c, t { p(gamma) c; cu3(theta, phi, lambda) c, t; }
gate sxdg a { sx a; x a; }
gate csx a, b { h b; cp(pi/2) a, b; h b; }
"""

#: Names of the gates defined in :data:`LIBRARY_SOURCE`, in definition order.
LIBRARY_GATES: tuple[str, ...] = tuple(re.findall(r"^gate (\w+)", LIBRARY_SOURCE, re.MULTILINE))

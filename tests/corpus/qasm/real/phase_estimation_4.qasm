// phase estimation of p(2*pi*5/16) with 4 counting qubits; expected outcome 5
OPENQASM 2.0;
include "qelib1.inc";
qreg c[4];
qreg tgt[1];
creg r[4];
x tgt[0];
h c;
cu1(8*2*pi*5/16) c[0], tgt[0];
cu1(4*2*pi*5/16) c[1], tgt[0];
cu1(2*2*pi*5/16) c[2], tgt[0];
cu1(1*2*pi*5/16) c[3], tgt[0];
// inverse QFT: reverse the register, then the inverse of the swap-free QFT
swap c[0], c[3];
swap c[1], c[2];
h c[3];
cu1(-pi/2) c[3], c[2];
h c[2];
cu1(-pi/4) c[3], c[1];
cu1(-pi/2) c[2], c[1];
h c[1];
cu1(-pi/8) c[3], c[0];
cu1(-pi/4) c[2], c[0];
cu1(-pi/2) c[1], c[0];
h c[0];
measure c -> r;

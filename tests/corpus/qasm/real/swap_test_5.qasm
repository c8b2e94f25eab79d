// swap test between two 2-qubit states, with standard gates outside a minimal basis
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

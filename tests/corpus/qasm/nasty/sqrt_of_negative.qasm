OPENQASM 3.0;
include "stdgates.inc";
qubit[1] q;
rx(sqrt(-1)) q[0];

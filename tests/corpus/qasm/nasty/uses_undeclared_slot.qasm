OPENQASM 3.0;
include "stdgates.inc";
qubit[1] q;
rx(2*theta + 1) q[0];

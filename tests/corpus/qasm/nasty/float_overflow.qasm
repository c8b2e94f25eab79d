OPENQASM 3.0;
include "stdgates.inc";
qubit[1] q;
rx(1e999) q[0];

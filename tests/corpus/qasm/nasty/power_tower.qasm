OPENQASM 3.0;
include "stdgates.inc";
qubit[1] q;
rx(9**9**9**9) q[0];

OPENQASM 3.0;
include "stdgates.inc";
include "stdgates.inc";
qubit[1] q;
sx q[0];

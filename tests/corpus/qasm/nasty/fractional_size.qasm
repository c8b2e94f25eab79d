OPENQASM 3.0;
include "stdgates.inc";
qubit[1.5] q;

OPENQASM 3.0;
include "stdgates.inc";
qubit[99999999999999999999] q;
h q;

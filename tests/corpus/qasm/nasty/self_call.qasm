OPENQASM 3.0;
include "stdgates.inc";
gate g a { h a; g a; }
qubit[1] q;
g q[0];

OPENQASM 3.0;
include "stdgates.inc";
gate g a, b { cx a; }
qubit[2] q;

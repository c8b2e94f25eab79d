OPENQASM 3.0;
include "stdgates.inc";
gate g a { h a;
qubit[1] q;

OPENQASM 4.0;
qubit[1] q;

OPENQASM 3.0;
include "stdgates.inc";
// GHZ state on 10 qubits, log-depth fan-out
qubit[10] q;
bit[10] c;
h q[0];
cx q[0], q[1];
cx q[0], q[2];
cx q[1], q[3];
cx q[0], q[4];
cx q[1], q[5];
cx q[2], q[6];
cx q[3], q[7];
cx q[0], q[8];
cx q[1], q[9];
c = measure q;

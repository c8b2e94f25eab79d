// teleportation of u3(0.9, 0.4, -1.3)|0> from q[0] to q[2], measurements deferred
OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg m[3];
u3(0.9,0.4,-1.3) q[0];
barrier q;
h q[1];
cx q[1],q[2];
barrier q;
cx q[0],q[1];
h q[0];
// classical corrections as controlled gates (deferred measurement)
cx q[1],q[2];
cz q[0],q[2];
measure q -> m;

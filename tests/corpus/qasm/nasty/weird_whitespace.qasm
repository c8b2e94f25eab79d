OPENQASM 3.0;
include "stdgates.inc";
qubit[3]	q ;
h q [ 0 ] ;cx q[0],
   q[1]; rz ( pi / 3 )
q[2]
;

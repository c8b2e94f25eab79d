OPENQASM 3.0;
include "stdgates.inc";
const float a = 1;
input float[64] a;

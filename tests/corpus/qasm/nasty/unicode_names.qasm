OPENQASM 3.0;
include "stdgates.inc";
input float[64] θ;
qubit[2] ψ;
h ψ[0];
rx(π/2 + θ) ψ[1];
cx ψ[0], ψ[1];

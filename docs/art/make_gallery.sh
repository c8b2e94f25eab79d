#!/usr/bin/env bash
# Regenerates every PNG in docs/art/ (run from the repository root; about a minute of one core).
set -euo pipefail
qgm() { PYTHONPATH=src python -m qgm.cli "$@"; }
out=docs/art
qgm art blur builtin:china --size 96x128 --theta 0 --out $out/china.png
qgm art blur builtin:china --size 96x128 --theta 1.2 --out $out/china_blur.png
qgm art blur builtin:flower --size 64 --grey --theta 1.5 --frames 4 --scale 2 --out $out/flower_blur.png
qgm art mix builtin:china builtin:flower --size 64 --t 0.5 --scale 2 --out $out/mix_half.png --out2 $out/mix_half_b.png
qgm art mix builtin:china builtin:flower --size 64 --t 1 --frames 5 --scale 2 --out $out/mix.png
qgm art mix builtin:china builtin:flower --size 64 --t 1 --frames 5 --method interfere --scale 2 --out $out/interfere.png
qgm art collage builtin:china --size 96x128 --gates h:x6,cx:y0\>x6 --out $out/china_collage.png
qgm art decohere builtin:flower --size 64 --grey --scale 2 --channel dephasing --gamma 1 --wires y2,y3,x2,x3 --out $out/flower_decohere.png
qgm art blur builtin:digit3 --theta 0.8 --shots 300 --scale 8 --out $out/digit3_grain.png
qgm art train-seeds /tmp/qgm_art_kit --seed 0
for s in qcbm noise gauss; do qgm art seeds /tmp/qgm_art_kit --source $s --n 64 --out $out/seeds_$s.png; done

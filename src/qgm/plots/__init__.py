"""Plots of model families beyond the end-of-run plots of :mod:`qgm.train.plots`
(matplotlib, Agg backend): :mod:`qgm.plots.diffusion` for QuDDPM trajectories."""

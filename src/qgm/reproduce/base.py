"""Reproductions as code: one :class:`Claim` per published number, run over seeds, stored as JSON.

A claim declares the paper's setting and number, the convention ours is measured
in (kernel normalisation, discretisation, shots vs exact), the pass rule and the
seeds, and a ``measure(seed, quick) -> {metric: value, ...}`` function that runs
one seed through the normal library (Trainer, configs, metrics). :func:`run_claim`
runs every seed and writes a :class:`ClaimResult` (per-seed values, median, min,
max, seeds passing, wall time, versions) to ``<out>/<name>[.quick].json``
atomically. A claim passes only when the **median** passes; the result says how
many seeds pass too.

Register a claim in a module of :mod:`qgm.reproduce` (listed in
``qgm.reproduce.CLAIM_MODULES``)::

    CLAIMS.register("liu_wang_bas_exact")(Claim(
        name="liu_wang_bas_exact", title="Liu & Wang BAS 3x3 exact MMD", paper="arXiv:1804.04168",
        metric="mmd_paper", paper_value=2.4e-7, threshold=1e-6, direction="below",
        setting="9 qubits, depth 10, Chow-Liu CNOTs, L-BFGS-B", convention="kernel summed over 4 bandwidths",
        measure=measure_bas_exact))
"""
from __future__ import annotations

import math
import platform
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from qgm.atomic import atomic_json
from qgm.errors import ConfigError
from qgm.registry import Registry

__all__ = ["Claim", "ClaimResult", "CLAIMS", "run_claim", "run_claims", "summarise", "result_path", "DIRECTIONS", "versions"]

#: Pass rules: the median must lie below (or above) the threshold.
DIRECTIONS = ("below", "above")
#: Registered claims by name.
CLAIMS: Registry[Any] = Registry("claim")

Measure = Callable[[int, bool], Mapping[str, float]]


@dataclass(frozen=True)
class Claim:
    """A published number and how we measure it (see the module docstring).

    Attributes:
        name: registry name (also the result file's stem).
        title: one line for tables.
        paper: citation (authors, venue or arXiv id).
        metric: the key of ``measure``'s output the pass rule reads.
        paper_value: the paper's number in the paper's convention (None if the paper gives none).
        threshold: pass threshold on the median of ``metric``.
        direction: ``"below"`` or ``"above"``.
        setting: the experiment (data, model, size, optimiser, steps) in one line.
        convention: how ``metric`` is normalised / discretised / estimated, matching the paper's.
        measure: ``measure(seed, quick) -> {metric: value, ...}`` for one seed.
        seeds: seeds of a full run (>= 5 unless ``why_fewer`` says why).
        quick_seeds: seeds of a quick run (``--quick``). Quick runs measure the full per-seed setting
            on these seeds wherever the budget allows (``qgm reproduce --all --quick`` within 15 minutes
            on 2 cores), so their verdict checks the full one; borderline claims take several seeds.
        why_fewer: the reason when fewer than 5 seeds are run.
        baseline: the classical baseline measured beside it, in one line ("" if none).
        command: the command that regenerates it (default ``qgm reproduce <name>``).
    """

    name: str
    title: str
    paper: str
    metric: str
    paper_value: Optional[float]
    threshold: float
    direction: str
    setting: str
    convention: str
    measure: Measure
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    quick_seeds: tuple[int, ...] = (0,)
    why_fewer: str = ""
    baseline: str = ""
    command: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"claim {self.name}: direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if len(self.seeds) < 5 and not self.why_fewer:
            raise ConfigError(f"claim {self.name}: {len(self.seeds)} seeds; use >= 5 or say why in why_fewer")
        if not self.seeds or not self.quick_seeds:
            raise ConfigError(f"claim {self.name}: seeds and quick_seeds must be non-empty")

    def passes(self, value: float) -> bool:
        """Does one value meet the threshold?"""
        if not math.isfinite(value):
            return False
        return value < self.threshold if self.direction == "below" else value > self.threshold

    @property
    def regenerate(self) -> str:
        """The command that regenerates this claim's result."""
        return self.command or f"qgm reproduce {self.name}"


@dataclass
class ClaimResult:
    """What :func:`run_claim` stores: the claim's declaration, per-seed values and their summary."""

    name: str
    title: str
    paper: str
    metric: str
    paper_value: Optional[float]
    threshold: float
    direction: str
    setting: str
    convention: str
    baseline: str
    command: str
    quick: bool
    seeds: list[int]
    values: dict[str, dict[str, float]]
    median: float
    min: float
    max: float
    n_pass: int
    passed: bool
    wall_time_s: float
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def versions() -> dict[str, str]:
    """Python, platform and the versions of the packages that shape the numbers."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("qgm", "torch", "numpy", "scipy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def summarise(claim: Claim, per_seed: Mapping[int, Mapping[str, float]], quick: bool, wall: float) -> ClaimResult:
    """The :class:`ClaimResult` of ``per_seed`` measurements (median, range, seeds passing)."""
    missing = [s for s, v in per_seed.items() if claim.metric not in v]
    if missing:
        raise ConfigError(f"claim {claim.name}: measure() gave no {claim.metric!r} for seeds {missing}")
    values = [float(v[claim.metric]) for v in per_seed.values()]
    median = float(statistics.median(values))
    return ClaimResult(
        name=claim.name, title=claim.title, paper=claim.paper, metric=claim.metric, paper_value=claim.paper_value,
        threshold=claim.threshold, direction=claim.direction, setting=claim.setting, convention=claim.convention,
        baseline=claim.baseline, command=claim.regenerate + (" --quick" if quick else ""), quick=quick,
        seeds=[int(s) for s in per_seed],
        values={str(s): {k: float(x) for k, x in v.items()} for s, v in per_seed.items()},
        median=median, min=min(values), max=max(values), n_pass=sum(claim.passes(v) for v in values),
        passed=claim.passes(median), wall_time_s=round(wall, 3), versions=versions(),
    )


def result_path(out: Union[str, Path], name: str, quick: bool) -> Path:
    """``<out>/<name>.json`` (``<name>.quick.json`` for quick runs)."""
    return Path(out) / f"{name}{'.quick' if quick else ''}.json"


def _groups(claims: Sequence[Claim]) -> list[list[Claim]]:
    """Claims grouped by their ``measure`` function (claims reading one experiment share one run per seed)."""
    groups: dict[int, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(id(claim.measure), []).append(claim)
    return list(groups.values())


def _chosen_seeds(claim: Claim, quick: bool, seeds: Optional[Sequence[int]]) -> tuple[int, ...]:
    return tuple(int(s) for s in seeds) if seeds is not None else (claim.quick_seeds if quick else claim.seeds)


def _direct(claim: Claim) -> Callable[[Any, Path], Mapping[str, float]]:
    """A sweep runner that measures ``claim`` itself (no registry lookup)."""
    return lambda trial, folder: claim.measure(trial.seed, bool(trial.config["quick"]))


def run_claims(claims: Sequence[Claim], out: Union[str, Path], quick: bool = False,
               seeds: Optional[Sequence[int]] = None, executor: str = "local", workers: Optional[int] = 1,
               address: Optional[str] = None, progress: bool = False) -> tuple[list[ClaimResult], dict[str, str]]:
    """Measure ``claims`` on their seeds, fanned out as one task per (experiment, seed) over the sweep executors.

    Claims with the same ``measure`` function share one measurement per seed. Each task runs
    with one torch thread (``workers`` processes locally, or Ray tasks); every claim whose
    seeds all succeeded is written to ``<out>/<name>[.quick].json``. Returns the results and
    ``{name: error}`` for the claims with a failed seed (the others are unaffected)."""
    from tqdm.auto import tqdm

    from qgm.sweep import Trial, check_executor, execute, run_trial

    plan = [(group, sorted({s for c in group for s in _chosen_seeds(c, quick, seeds)})) for group in _groups(claims)]
    trials = [Trial("reproduce", {"quick": bool(quick)}, seed, (), claim=group[0].name)
              for group, group_seeds in plan for seed in group_seeds]
    done: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="qgm-reproduce-") as work, \
            tqdm(total=len(trials), desc="claim seeds", disable=not progress) as bar:
        workers = check_executor(executor, min(workers or len(trials), len(trials)) or 1)
        if executor == "local" and workers == 1:  # in this process: claims need not be registered
            owner = {group[0].name: group[0] for group, _ in plan}
            stream: Iterable[dict[str, Any]] = (run_trial(t, work, runner=_direct(owner[t.claim])) for t in trials)
        else:  # workers look claims up by name in CLAIMS
            stream = execute(trials, work, executor, workers, address)
        for result in stream:
            done[(result["claim"], result["seed"])] = result
            bar.update(1)
    results, failures = [], {}
    for group, _ in plan:
        for claim in group:
            mine = [done[(group[0].name, s)] for s in _chosen_seeds(claim, quick, seeds)]
            errors: dict[str, list[str]] = {}
            for r in mine:
                if r["status"] != "ok":
                    errors.setdefault(r["error"], []).append(str(r["seed"]))
            if errors:
                failures[claim.name] = "; ".join(f"seed{'s' if len(s) > 1 else ''} {', '.join(s)}: {e}"
                                                 for e, s in errors.items())
                continue
            wall = sum(r["wall_time_s"] for r in mine)
            result = summarise(claim, {r["seed"]: r["numbers"] for r in mine}, quick, wall)
            atomic_json(result_path(out, claim.name, quick), result.to_dict())
            results.append(result)
    return results, failures


def run_claim(claim: Claim, out: Union[str, Path], quick: bool = False,
              seeds: Optional[Sequence[int]] = None) -> ClaimResult:
    """Measure ``claim`` on its seeds (or ``seeds``) in this process, write its result JSON into ``out``, return it."""
    results, failures = run_claims([claim], out, quick=quick, seeds=seeds)
    if failures:
        raise ConfigError(f"claim {claim.name} failed: {failures[claim.name]}")
    return results[0]

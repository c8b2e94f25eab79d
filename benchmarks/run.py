"""Speed benchmarks T1-T4 and T6 of ``shared/bench/TASKS.md``: qgm against PennyLane, Qiskit Aer and
qulacs, one process (T2's peak-memory probes run in subprocesses).

Usage::

    .venv/bin/python benchmarks/run.py [--tasks T1,T2,T3,T4,T6] [--quick] [--write BENCHMARKS.md]

Every task times qgm and its peers in turn (interleaved repetitions), checks
first that all of them compute the same loss or gradient, and reports medians
and the ratio peer/qgm (> 1: qgm is faster). ``--quick`` runs fewer
repetitions and sizes (a smoke run, under 3 minutes); a full run takes about
15 minutes on 2 cores. ``--write FILE`` replaces the results block of FILE
(between the ``<!-- results:begin -->`` / ``<!-- results:end -->`` markers;
the text around it is kept) or creates FILE.

Threads: ``--threads N`` (default: all cores) sets torch's threads and
``OMP_NUM_THREADS`` and ``QULACS_NUM_THREADS`` (read by lightning.qubit, Aer and
qulacs at start-up) for T2-T6; Aer is also given ``max_parallel_threads``. T1 runs every
torch-based framework with one torch thread: at 512 amplitudes threads only add
synchronisation, and on a loaded machine an OpenMP barrier waits for a
descheduled thread (milliseconds per operation).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import Row  # noqa: E402

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
TASKS = ("T1", "T2", "T3", "T4", "T6")


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("qgm", "torch", "numpy", "pennylane", "pennylane_lightning", "qiskit", "qiskit-aer", "qulacs"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}"


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} µs"


def table(rows: list[Row]) -> str:
    """Markdown table: one line per (task, case, framework), ratio = framework / qgm."""
    out = ["| task | case | framework | median | reps | peer/qgm | note |", "|---|---|---|---|---|---|---|"]
    ref: dict[tuple[str, str], float] = {}
    for r in rows:
        if r.framework.startswith("qgm") and (r.task, r.case) not in ref:
            ref[(r.task, r.case)] = r.median_s
    for r in rows:
        base = ref.get((r.task, r.case))
        ratio = "—" if r.framework.startswith("qgm") and r.median_s == base else f"{r.median_s / base:.1f}×"
        out.append(f"| {r.task} | {r.case} | {r.framework} | {fmt_time(r.median_s)} | {r.reps} | {ratio} | {r.note} |")
    return "\n".join(out)


def bound_table(info: dict) -> str:
    bw = info["bandwidth_Bps"]
    out = [
        f"Copy bandwidth (torch copy of a 256 MiB buffer): {bw / 1e9:.2f} GB/s.",
        "",
        "| n | state | passes | bound |",
        "|---|---|---|---|",
    ]
    for n, b in info["bounds"].items():
        out.append(f"| {n} | {b['bytes'] / 2**20:.3g} MiB | {b['passes']} | {fmt_time(b['bound_s'])} |")
    return "\n".join(out)


def memory_table(mem: dict) -> str:
    out = ["| n | framework | peak RSS | increase during the call |", "|---|---|---|---|"]
    for n, per in mem.items():
        for name, m in per.items():
            if "error" in m:
                out.append(f"| {n} | {name} | {m['error'].replace('|', '/')} | — |")
                continue
            grew = (m["peak_mib"] - m["before_mib"]) / 1024
            out.append(f"| {n} | {name} | {m['peak_mib'] / 1024:.2f} GiB | {grew:.2f} GiB |")
    return "\n".join(out)


def large_table(large: dict) -> str:
    out = ["| n | dtype | forward ⟨Σ Z⟩ | 1,000 samples | peak RSS | increase |", "|---|---|---|---|---|---|"]
    for (n, dt), r in large.items():
        if "error" in r:  # refused (or failed): its one-line message instead of numbers
            out.append(f"| {n} | {dt} | {r['error'].replace('|', '/')} | — | — | — |")
            continue
        out.append(f"| {n} | {dt} | {fmt_time(r['forward_s'])} | {fmt_time(r['sample_s'])} | "
                   f"{r['peak_mib'] / 1024:.2f} GiB | {(r['peak_mib'] - r['before_mib']) / 1024:.2f} GiB |")
    return "\n".join(out)


def report(rows: list[Row], extra: dict, command: str, started: str, seconds: float, threads: int) -> str:
    lines = [
        BEGIN,
        f"Command: `{command}`  ",
        f"Started {started} UTC, {seconds / 60:.1f} min; machine: {machine()}; "
        f"threads: {threads} (T1: 1); load average (1, 5, 15 min) at end: {load()}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".",
        "",
        table(rows),
    ]
    if "T2" in extra:
        lines += ["", "T2 memory-bandwidth bound (qgm route: state bytes × passes ÷ copy bandwidth):", "",
                  bound_table(extra["T2"])]
        lines += ["", "T2 peak memory, one forward + gradient in a fresh process:", "",
                  memory_table(extra["T2"]["memory"])]
        if extra["T2"]["large"]:
            lines += ["", "Large n, qgm only (one call each in a fresh process; compilation not timed):", "",
                      large_table(extra["T2"]["large"])]
    lines.append(END)
    return "\n".join(lines)


def write(path: Path, block: str) -> None:
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(head + block + tail)
            return
        path.write_text(text.rstrip() + "\n\n" + block + "\n")
        return
    path.write_text("# Benchmarks\n\n" + block + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of T1,T2,T3,T4,T6")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and sizes (smoke run)")
    ap.add_argument("--write", metavar="FILE", help="write the results block into FILE (markdown)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads for T2-T4")
    args = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "QULACS_NUM_THREADS"):  # before the peers start their OpenMP runtimes
        os.environ[var] = str(args.threads)
    tasks = [t.strip().upper() for t in args.tasks.split(",") if t.strip()]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        ap.error(f"--tasks: unknown {unknown}; choose from {','.join(TASKS)}")

    import bench_t1
    import bench_t2
    import bench_t3
    import bench_t4
    import bench_t6

    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    t_start = time.perf_counter()
    rows: list[Row] = []
    extra: dict = {}
    trained = None
    for task in tasks:
        t0 = time.perf_counter()
        torch.set_num_threads(1 if task == "T1" else args.threads)
        if task == "T1":
            got, info = bench_t1.run(args.quick)
            trained = info["theta"]
        elif task == "T2":
            got, extra["T2"] = bench_t2.run(args.quick)
        elif task == "T3":
            got = bench_t3.run(args.quick, trained)
        elif task == "T4":
            got = bench_t4.run(args.quick)
        else:
            got = bench_t6.run(args.quick)
        rows += got
        print(f"{task} done in {time.perf_counter() - t0:.0f} s (load {load()})", file=sys.stderr, flush=True)
        print(table(got), flush=True)
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    block = report(rows, extra, command.strip(), started, time.perf_counter() - t_start, args.threads)
    print(block)
    if args.write:
        write(Path(args.write), block)
    return 0


if __name__ == "__main__":
    sys.exit(main())

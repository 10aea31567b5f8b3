#!/usr/bin/python3
"""Turns the benchmark suite's raw samples into results.

    report.py build [--no-plots] RAW.jsonl OUTDIR
        Reads RAW.jsonl (one JSON object a line: "op", "load" and "meta"
        records) and writes OUTDIR/results.json, OUTDIR/results.md and,
        unless --no-plots, OUTDIR/overhead.png and OUTDIR/load.png; prints
        results.md. A malformed line or an unknown kind is an error (exit 1):
        a benchmark report must not drop data silently.

    report.py compare [--tolerance PCT] [--time-resolution-ms MS] A.json B.json
        Compares the medians (and the policy load times and memory) of two
        results.json files. Exit 0 if every relative difference is within
        PCT percent (default 1.0), 1 if one is not or if the files do not
        hold the same cells, 2 if a file cannot be read.

Only the standard library is needed, plus matplotlib for the plots (imported
only when plotting).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Sequence

# Display order and human labels; configurations and workloads not listed
# here follow in the order the raw file first mentions them.
CONFIG_LABELS: dict[str, str] = {
    "none": "no module",
    "floor": "attach floor",
    "empty": "empty policy",
    "rules10": "10 rules",
    "rules1k": "1,000 rules",
    "rules100k": "100,000 rules",
    "paths100k": "100,000 path rules",
    "permissive": "permissive",
    "bpf": "BPF-LSM",
}
WORKLOAD_LABELS: dict[str, str] = {
    "mmap_file": "mmap+munmap (file)",
    "mprotect_file": "mprotect R↔RW (file)",
    "mmap_anon": "mmap+munmap (anonymous)",
    "qp_rxe": "QP setup (rxe)",
    "qp_mock": "QP setup (mock HCA)",
    "umad_agent": "QP0 agent register (umad)",
}
BASELINE = "none"
MAP_WORKLOADS = ("mmap_file", "mprotect_file", "mmap_anon")
IB_WORKLOADS = ("qp_rxe", "qp_mock", "umad_agent")
FILE_WORKLOADS = ("mmap_file", "mprotect_file")
QP_WORKLOADS = ("qp_rxe", "qp_mock")
MIB = 1024 * 1024
FIGSIZE = (10.0, 5.0)
DPI = 100

Json = dict[str, Any]


class ReportError(Exception):
    """An error the user has to fix; the message says what and where."""


# --- reading the raw samples ------------------------------------------------

@dataclass
class LoadGroup:
    """The policy load samples for one number of rules per class."""

    rules: int
    line: int
    load_ns: list[float] = field(default_factory=list)
    # the kernel's part of each load; older raw files do not have it
    kernel_ns: list[float] = field(default_factory=list)
    memory: list[float] = field(default_factory=list)


@dataclass
class RawData:
    meta: Json = field(default_factory=dict)
    # (workload, config) -> ns_per_op samples, in file order
    ops: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    workloads_seen: list[str] = field(default_factory=list)
    configs_seen: list[str] = field(default_factory=list)
    loads: dict[int, LoadGroup] = field(default_factory=dict)
    # sample identity -> line number, to reject a sample recorded twice
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)


def reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def parse_line(text: str) -> Json:
    try:
        record = json.loads(text, parse_constant=reject_constant)
    except ValueError as err:
        raise ReportError(f"malformed JSON: {err}") from None
    if not isinstance(record, dict):
        raise ReportError("not a JSON object")
    return record


def field_value(record: Json, name: str) -> Any:
    if name not in record:
        raise ReportError(f"'{name}' is missing")
    return record[name]


def get_str(record: Json, name: str) -> str:
    value = field_value(record, name)
    if not isinstance(value, str) or not value:
        raise ReportError(f"'{name}' must be a non-empty string")
    return value


def get_int(record: Json, name: str, minimum: int) -> int:
    value = field_value(record, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReportError(f"'{name}' must be an integer")
    if value < minimum:
        raise ReportError(f"'{name}' must be at least {minimum}")
    return value


def get_number(record: Json, name: str, positive: bool) -> float:
    value = field_value(record, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportError(f"'{name}' must be a number")
    if value < 0 or (positive and value == 0):
        raise ReportError(
            f"'{name}' must be {'positive' if positive else 'non-negative'}")
    return value


def note_once(raw: RawData, key: tuple[Any, ...], line: int,
              what: str) -> None:
    if key in raw.lines:
        raise ReportError(f"{what} already recorded on line {raw.lines[key]}")
    raw.lines[key] = line


def add_op(raw: RawData, record: Json, line: int) -> None:
    rnd = get_int(record, "round", 0)
    config = get_str(record, "config")
    workload = get_str(record, "workload")
    ns_per_op = get_number(record, "ns_per_op", positive=True)
    get_int(record, "iterations", 1)
    note_once(raw, ("op", rnd, config, workload), line,
              f"round {rnd}, {workload} under {config}:")
    if workload not in raw.workloads_seen:
        raw.workloads_seen.append(workload)
    if config not in raw.configs_seen:
        raw.configs_seen.append(config)
    raw.ops.setdefault((workload, config), []).append(ns_per_op)


def add_load(raw: RawData, record: Json, line: int) -> None:
    rnd = get_int(record, "round", 0)
    per_class = get_int(record, "rules_per_class", 0)
    rules = get_int(record, "rules", 0)
    load_ns = get_number(record, "load_ns", positive=True)
    kernel_ns = (get_number(record, "kernel_ns", positive=True)
                 if "kernel_ns" in record else None)
    if kernel_ns is not None and kernel_ns > load_ns:
        raise ReportError(f"'kernel_ns' ({kernel_ns}) exceeds 'load_ns' "
                          f"({load_ns}), of which it is a part")
    memory = get_number(record, "memory", positive=False)
    note_once(raw, ("load", rnd, per_class), line,
              f"round {rnd}, load of {per_class} rules per class:")
    group = raw.loads.setdefault(per_class, LoadGroup(rules, line))
    if group.rules != rules:
        raise ReportError(
            f"{rules} rules in total for {per_class} rules per class, but "
            f"{group.rules} on line {group.line}")
    if group.load_ns and (kernel_ns is not None) != bool(group.kernel_ns):
        raise ReportError(
            f"load samples of {per_class} rules per class with and without "
            f"'kernel_ns' (line {group.line})")
    group.load_ns.append(load_ns)
    if kernel_ns is not None:
        group.kernel_ns.append(kernel_ns)
    group.memory.append(memory)


def add_meta(raw: RawData, record: Json, line: int) -> None:
    raw.meta.update((k, v) for k, v in record.items() if k != "kind")


RECORD_KINDS: dict[str, Callable[[RawData, Json, int], None]] = {
    "op": add_op,
    "load": add_load,
    "meta": add_meta,
}


def add_record(raw: RawData, record: Json, line: int) -> None:
    kind = record.get("kind")
    if not isinstance(kind, str) or kind not in RECORD_KINDS:
        raise ReportError(f"unknown kind {json.dumps(kind)}")
    RECORD_KINDS[kind](raw, record, line)


def read_raw(path: Path) -> RawData:
    try:
        blob = path.read_bytes()
    except OSError as err:
        raise ReportError(f"{path}: {err.strerror}") from None
    raw = RawData()
    for number, line in enumerate(blob.splitlines(), 1):
        try:
            text = line.decode("utf-8")
            if text.strip():
                add_record(raw, parse_line(text), number)
        except UnicodeDecodeError:
            raise ReportError(f"{path}:{number}: not UTF-8") from None
        except ReportError as err:
            raise ReportError(f"{path}:{number}: {err}") from None
    return raw


# --- computing the results --------------------------------------------------

def display_order(seen: Iterable[str],
                  known: Collection[str]) -> list[str]:
    """Known names in their fixed order, then the others as first seen."""
    seen = list(seen)
    return ([n for n in known if n in seen]
            + [n for n in seen if n not in known])


def spread_pct(samples: Sequence[float]) -> float:
    return (max(samples) - min(samples)) / statistics.median(samples) * 100


def summarize(samples: list[float], baseline: float | None) -> Json:
    median = statistics.median(samples)
    ratio = median / baseline if baseline else None
    return {
        "median": median,
        "min": min(samples),
        "max": max(samples),
        "spread_pct": spread_pct(samples),
        "samples": samples,
        "ratio": ratio,
        "overhead_pct": (ratio - 1) * 100 if ratio is not None else None,
    }


def workload_results(raw: RawData, workloads: list[str],
                     configs: list[str]) -> Json:
    out: Json = {}
    for workload in workloads:
        base = raw.ops.get((workload, BASELINE))
        base_median = statistics.median(base) if base else None
        out[workload] = {
            config: summarize(raw.ops[(workload, config)], base_median)
            for config in configs if (workload, config) in raw.ops}
    return out


def load_results(raw: RawData) -> list[Json]:
    rows = []
    for per_class in sorted(raw.loads):
        group = raw.loads[per_class]
        memory = statistics.median(group.memory)
        rows.append({
            "rules_per_class": per_class,
            "rules": group.rules,
            "median_ns": statistics.median(group.load_ns),
            "spread_pct": spread_pct(group.load_ns),
            "kernel_median_ns": (statistics.median(group.kernel_ns)
                                 if group.kernel_ns else None),
            "memory": memory,
            "bytes_per_rule":
                round_half_up(memory / group.rules) if group.rules else None,
        })
    return rows


# --- targets ----------------------------------------------------------------

@dataclass
class Target:
    name: str
    value: float
    limit: float
    passed: bool
    unit: str  # "%" or "×", for display

    def as_json(self) -> Json:
        return {"name": self.name, "value": self.value, "limit": self.limit,
                "pass": self.passed, "unit": self.unit}


def median_of(workloads: Json, workload: str, config: str) -> float | None:
    cell = workloads.get(workload, {}).get(config)
    return cell["median"] if cell else None


def median_ratio(workloads: Json, workload: str, config: str,
                 reference: str) -> float | None:
    value = median_of(workloads, workload, config)
    base = median_of(workloads, workload, reference)
    return value / base if value is not None and base else None


def empty_targets(workloads: Json) -> list[Target]:
    """(a) a class with no rules is indistinguishable from no module."""
    targets = []
    for workload in MAP_WORKLOADS + IB_WORKLOADS:
        ratio = median_ratio(workloads, workload, "empty", BASELINE)
        if ratio is not None:
            deviation = abs(ratio - 1) * 100
            targets.append(Target(
                f"empty policy within 0.5% of no module: {workload}",
                deviation, 0.5, deviation <= 0.5, "%"))
    return targets


def scaling_targets(workloads: Json) -> list[Target]:
    """(b) 100,000 rules cost at most 10% more than 10 rules."""
    targets = []
    for workload in FILE_WORKLOADS:
        ratio = median_ratio(workloads, workload, "rules100k", "rules10")
        if ratio is not None:
            targets.append(Target(
                f"100,000 rules ≤ 1.10 × 10 rules: {workload}",
                ratio, 1.10, ratio <= 1.10, "×"))
    return targets


def bpf_targets(workloads: Json) -> list[Target]:
    """(c) 100,000 rules cost no more than the BPF-LSM comparator: with the
    slow-case rule set, and with path rules only (the decision the BPF
    program makes)."""
    targets = []
    for config, label in (("rules100k", "100,000 rules"),
                          ("paths100k", "100,000 path rules")):
        for workload in FILE_WORKLOADS:
            ratio = median_ratio(workloads, workload, config, "bpf")
            if ratio is not None:
                targets.append(Target(
                    f"{label} ≤ BPF-LSM: {workload}",
                    ratio, 1.0, ratio <= 1.0, "×"))
    return targets


def qp_targets(workloads: Json) -> list[Target]:
    """(d) 100,000 rules add less than 1% to QP setup."""
    targets = []
    for workload in QP_WORKLOADS:
        ratio = median_ratio(workloads, workload, "rules100k", BASELINE)
        if ratio is not None:
            overhead = (ratio - 1) * 100
            targets.append(Target(
                f"100,000 rules overhead < 1% over no module: {workload}",
                overhead, 1.0, overhead < 1.0, "%"))
    return targets


def anon_target(workloads: Json) -> list[Target]:
    """(e) anonymous mappings are not affected by any configuration."""
    ratios = [median_ratio(workloads, "mmap_anon", config, BASELINE)
              for config in workloads.get("mmap_anon", {})
              if config != BASELINE]
    deviations = [abs(r - 1) * 100 for r in ratios if r is not None]
    if not deviations:
        return []
    worst = max(deviations)
    return [Target("every configuration within 0.5% of no module: "
                   "mmap_anon", worst, 0.5, worst <= 0.5, "%")]


TARGET_RULES: tuple[Callable[[Json], list[Target]], ...] = (
    empty_targets, scaling_targets, bpf_targets, qp_targets, anon_target)


def evaluate_targets(workloads: Json) -> list[Target]:
    return [t for rule in TARGET_RULES for t in rule(workloads)]


# --- Markdown ---------------------------------------------------------------

def round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def config_label(config: str) -> str:
    return CONFIG_LABELS.get(config, config)


def workload_label(workload: str) -> str:
    return WORKLOAD_LABELS.get(workload, workload)


def table(header: Sequence[str], rows: Iterable[Sequence[str]],
          align: str) -> list[str]:
    """A Markdown table; align has an 'l' or 'r' per column."""
    rule = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(cells) + " |"
            for cells in [header, rule, *rows]]


def describe_meta(meta: Json) -> str:
    head = (f"Kernel {meta.get('kernel', 'unknown')}, "
            f"{meta.get('rounds', '?')} rounds, "
            f"icount {meta.get('icount', 'not recorded')}")
    rest = [f"{key}: {value}" for key, value in meta.items()
            if key not in ("kernel", "rounds", "icount")]
    return head + (f" ({', '.join(rest)})." if rest else ".")


def overhead_cell(cell: Json | None) -> str:
    if cell is None:
        return "—"
    text = f"{round_half_up(cell['median']):,} ns"
    if cell["ratio"] is not None:
        text += f" ({cell['ratio']:.3f}×)"
    return text


def overhead_section(workloads: Json, configs: list[str]) -> list[str]:
    lines = ["## Cost per operation",
             "",
             "Median over rounds; in brackets, the ratio to no module.",
             ""]
    rows = [[workload_label(w)]
            + [overhead_cell(cells.get(c)) for c in configs]
            for w, cells in workloads.items()]
    lines += table(["Workload"] + [config_label(c) for c in configs], rows,
                   "l" + "r" * len(configs))
    spreads = [(cell["spread_pct"], w, c)
               for w, cells in workloads.items() for c, cell in cells.items()]
    if spreads:
        worst, w, c = max(spreads)
        lines += ["",
                  f"Spread: at most {worst:.2f}% ((max − min) / median over "
                  f"rounds, {workload_label(w)} with {config_label(c)})."]
    return lines


def load_section(load: list[Json]) -> list[str]:
    lines = ["## Policy load", ""]
    if not load:
        return lines + ["No policy load samples."]
    rows = [[f"{row['rules_per_class']:,}",
             f"{row['rules']:,}",
             f"{row['median_ns'] / 1e6:,.1f}",
             "—" if row.get("kernel_median_ns") is None
             else f"{row['kernel_median_ns'] / 1e6:,.1f}",
             f"{row['memory'] / MIB:,.2f}",
             "—" if row["bytes_per_rule"] is None
             else f"{row['bytes_per_rule']:,}"]
            for row in load]
    return lines + table(
        ["Rules per class", "Total rules", "Load time (ms)",
         "of which in the kernel (ms)", "Memory (MiB)", "Bytes per rule"],
        rows, "rrrrrr")


def format_target_value(value: float, unit: str) -> str:
    return f"{value:.2f}%" if unit == "%" else f"{value:.3f}×"


def targets_section(targets: list[Json]) -> list[str]:
    lines = ["## Targets", ""]
    if not targets:
        return lines + ["No target could be evaluated."]
    rows = [["✅" if t["pass"] else "❌", t["name"],
             format_target_value(t["value"], t["unit"]),
             format_target_value(t["limit"], t["unit"])]
            for t in targets]
    return lines + table(["Result", "Target", "Value", "Limit"], rows,
                         "llrr")


def render_markdown(results: Json, configs: list[str]) -> str:
    lines = ["# ibguard overhead benchmark", "",
             describe_meta(results["meta"]), ""]
    lines += overhead_section(results["workloads"], configs)
    lines += [""] + load_section(results["load"])
    lines += [""] + targets_section(results["targets"])
    return "\n".join(lines) + "\n"


# --- plots ------------------------------------------------------------------

def import_pyplot() -> Any:
    try:
        import matplotlib  # type: ignore[import]
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import]
    except ImportError as err:
        raise ReportError(
            f"matplotlib is needed for the plots ({err}); install "
            "python3-matplotlib or pass --no-plots") from None
    return plt


def plot_overhead(plt: Any, workloads: Json, configs: list[str],
                  path: Path) -> None:
    shown = [c for c in configs if c != BASELINE]
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    width = 0.8 / max(len(shown), 1)
    ratios: list[float] = []
    for i, config in enumerate(shown):
        xs, heights = [], []
        for x, cells in enumerate(workloads.values()):
            ratio = cells.get(config, {}).get("ratio")
            if ratio is not None:
                xs.append(x - 0.4 + width * (i + 0.5))
                heights.append(ratio - 1)
                ratios.append(ratio)
        ax.bar(xs, heights, width, bottom=1.0, label=config_label(config))
    ax.axhline(1.0, color="black", linewidth=1,
               label=config_label(BASELINE))
    low, high = min(ratios + [1.0]), max(ratios + [1.0])
    pad = max(high - low, 0.01)
    # Room at the top for the legend.
    ax.set_ylim(low - pad * 0.1, high + pad * 0.35)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels([textwrap.fill(workload_label(w), 16)
                        for w in workloads], fontsize=9)
    ax.set_ylabel("median cost relative to no module")
    ax.set_title("Cost per operation relative to no module")
    if not ratios:
        ax.text(0.5, 0.5, "no 'no module' baseline to compare with",
                transform=ax.transAxes, ha="center")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_load(plt: Any, load: list[Json], path: Path) -> None:
    rows = [row for row in load if row["rules"] > 0]
    rules = [row["rules"] for row in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=FIGSIZE, dpi=DPI)
    panels = ((left, [r["median_ns"] / 1e6 for r in rows],
               "Policy load time", "load time (ms)"),
              (right, [r["memory"] / MIB for r in rows],
               "Kernel memory of the active policy", "memory (MiB)"))
    for ax, values, title, ylabel in panels:
        ax.set_title(title)
        ax.set_xlabel("rules in total")
        ax.set_ylabel(ylabel)
        if any(v > 0 for v in values):
            ax.loglog(rules, values, marker="o")
            ax.grid(which="both", alpha=0.3)
        else:
            ax.text(0.5, 0.5, "no samples", transform=ax.transAxes,
                    ha="center")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


# --- subcommands ------------------------------------------------------------

def build_results(raw: RawData) -> tuple[Json, list[str]]:
    """results.json's content, and the configurations in display order."""
    workloads = display_order(raw.workloads_seen, WORKLOAD_LABELS)
    configs = display_order(raw.configs_seen, CONFIG_LABELS)
    per_workload = workload_results(raw, workloads, configs)
    results = {
        "meta": raw.meta,
        "workloads": per_workload,
        "load": load_results(raw),
        "targets": [t.as_json() for t in evaluate_targets(per_workload)],
    }
    return results, configs


def cmd_build(args: argparse.Namespace) -> int:
    raw = read_raw(args.raw)
    plt = None if args.no_plots else import_pyplot()
    results, configs = build_results(raw)
    markdown = render_markdown(results, configs)
    out: Path = args.outdir
    try:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "results.json").open("w", encoding="utf-8") as f:
            json.dump(results, f, indent=2, ensure_ascii=False,
                      allow_nan=False)
            f.write("\n")
        (out / "results.md").write_text(markdown, encoding="utf-8")
        if plt is not None:
            plot_overhead(plt, results["workloads"], configs,
                          out / "overhead.png")
            plot_load(plt, results["load"], out / "load.png")
    except OSError as err:
        raise ReportError(f"{err.filename}: {err.strerror}") from None
    sys.stdout.write(markdown)
    return 0


class CompareError(ReportError):
    """A results file that cannot be compared (exit 2)."""


def comparable_values(results: Json) -> dict[str, float]:
    """Every compared number of a results.json, by a readable name."""
    values: dict[str, float] = {}
    for workload, cells in results["workloads"].items():
        for config, cell in cells.items():
            values[f"{workload}/{config} median"] = float(cell["median"])
    for row in results["load"]:
        name = f"load {row['rules_per_class']} rules per class"
        values[f"{name}: time"] = float(row["median_ns"])
        if row.get("kernel_median_ns") is not None:
            values[f"{name}: kernel time"] = float(row["kernel_median_ns"])
        values[f"{name}: memory"] = float(row["memory"])
    return values


def judged(name: str, common: list[str]) -> bool:
    """Is a difference in this value a failure? A load's total time is not
    when its kernel time is known: the rest is compiling, whose waits for the
    host's file system icount cannot make repeatable."""
    return not (name.endswith(": time") and
                f"{name[:-len(': time')]}: kernel time" in common)


def read_results(path: Path) -> dict[str, float]:
    try:
        return comparable_values(json.loads(path.read_text(encoding="utf-8")))
    except OSError as err:
        raise CompareError(f"{path}: {err.strerror}") from None
    except ValueError as err:
        raise CompareError(f"{path}: malformed JSON: {err}") from None
    except (KeyError, TypeError, AttributeError) as err:
        raise CompareError(
            f"{path}: not a results.json ({type(err).__name__}: {err})"
        ) from None


def relative_diff_pct(a: float, b: float) -> float:
    if a == 0:
        return 0.0 if b == 0 else math.inf
    return (b - a) / a * 100


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = read_results(args.a), read_results(args.b)
    common = [name for name in a if name in b]
    diffs = {name: relative_diff_pct(a[name], b[name]) for name in common}
    print(f"{args.a} → {args.b}")
    width = max((len(n) for n in common), default=0)
    for name in common:
        print(f"{name:<{width}}  {a[name]:>14.1f} → {b[name]:>14.1f}  "
              f"{diffs[name]:+8.3f}%")
    status = 0
    for path, only in ((args.a, [n for n in a if n not in b]),
                       (args.b, [n for n in b if n not in a])):
        if only:
            print(f"only in {path}: {', '.join(only)}")
            status = 1
    if not diffs:
        print("no values in common")
        return 1
    worst = max(diffs, key=lambda n: abs(diffs[n]))
    print(f"maximum difference: {abs(diffs[worst]):.3f}% ({worst}), "
          f"tolerance {args.tolerance}%")
    # A load waits (for RCU grace periods, for I/O) in whole timer ticks of
    # guest time: a difference within the resolution is not a difference.
    resolution_ns = args.time_resolution_ms * 1e6
    offenders = [n for n in common
                 if judged(n, common) and abs(diffs[n]) > args.tolerance and
                 not (n.endswith("time") and
                      abs(b[n] - a[n]) <= resolution_ns)]
    if offenders:
        print("over the tolerance:")
        for name in offenders:
            print(f"  {name}: {diffs[name]:+.3f}%")
        status = 1
    return status


def tolerance(text: str) -> float:
    value = float(text)
    if not value >= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"not a tolerance: {text}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="report.py", description="Benchmark samples to results.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="raw samples to results")
    build.add_argument("raw", type=Path, metavar="RAW.jsonl")
    build.add_argument("outdir", type=Path, metavar="OUTDIR")
    build.add_argument("--no-plots", action="store_true",
                       help="write no PNG (and need no matplotlib)")
    build.set_defaults(func=cmd_build)
    compare = sub.add_parser("compare", help="compare two results.json")
    compare.add_argument("a", type=Path, metavar="A.json")
    compare.add_argument("b", type=Path, metavar="B.json")
    compare.add_argument("--tolerance", type=tolerance, default=1.0,
                         metavar="PCT",
                         help="largest relative difference, %% (default 1)")
    compare.add_argument("--time-resolution-ms", type=tolerance, default=8.0,
                         metavar="MS",
                         help="load times differing by at most MS pass "
                         "(default 8: two 4 ms timer ticks)")
    compare.set_defaults(func=cmd_compare)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        status: int = args.func(args)
    except CompareError as err:
        print(f"report.py: {err}", file=sys.stderr)
        return 2
    except ReportError as err:
        print(f"report.py: {err}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Tests of bench/report.py.

Run: /usr/bin/python3 -m unittest bench/report_test.py
  or /usr/bin/python3 bench/report_test.py
The plot test is skipped when matplotlib is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPORT = HERE / "report.py"
sys.path.insert(0, str(HERE))

import report  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def op(rnd: int, config: str, workload: str, ns: float) -> dict[str, Any]:
    return {"kind": "op", "round": rnd, "config": config,
            "workload": workload, "ns_per_op": ns, "iterations": 1000}


def load(rnd: int, per_class: int, load_ns: int, memory: int,
         kernel_ns: int | None = None) -> dict[str, Any]:
    record = {"kind": "load", "round": rnd, "rules_per_class": per_class,
              "rules": 3 * per_class, "load_ns": load_ns, "memory": memory}
    if kernel_ns is not None:
        record["kernel_ns"] = kernel_ns
    return record


def ops(config: str, workload: str, *samples: float) -> list[dict[str, Any]]:
    """One sample per round, rounds numbered from 1."""
    return [op(r, config, workload, ns) for r, ns in enumerate(samples, 1)]


META = {"kind": "meta", "kernel": "6.6.0-test", "rounds": 3,
        "icount": "shift=0,sleep=off", "run": "unit"}

# A small raw file whose numbers are easy to check by hand.
SMALL = [
    META,
    *ops("none", "mmap_file", 1000, 1010, 990),
    *ops("empty", "mmap_file", 1004, 1002, 1003),
    *ops("bpf", "mmap_file", 1200, 1250, 1150),
    *ops("none", "qp_mock", 12000.5, 12000.5, 12000.5),
    *ops("floor", "qp_mock", 12100, 12300, 12200, 12400),
    load(1, 10, 2_000_000, 30720), load(2, 10, 3_000_000, 30720),
    load(3, 10, 2_500_000, 31744),
    # with the kernel's part, as run-guest.sh records it since e9c807e
    load(1, 1000, 8_000_000, 3_145_728, 1_000_000),
    load(2, 1000, 6_000_000, 3_145_728, 2_000_000),
]


def jsonl(records: list[Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


class ReportCase(unittest.TestCase):
    """Runs report.py as the benchmark scripts do, in a scratch directory."""

    def setUp(self) -> None:
        scratch = tempfile.TemporaryDirectory(prefix="report_test.")
        self.addCleanup(scratch.cleanup)
        self.dir = Path(scratch.name)
        self.out = self.dir / "out"

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def run_report(self, *args: str | Path,
                   env: dict[str, str] | None = None
                   ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPORT), *map(str, args)],
            capture_output=True, text=True, env=env, timeout=120)

    def build(self, records: list[Any], *options: str) -> dict[str, Any]:
        raw = self.write("raw.jsonl", jsonl(records))
        done = self.run_report("build", *options, raw, self.out)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.stdout = done.stdout
        results: dict[str, Any] = json.loads(
            (self.out / "results.json").read_text(encoding="utf-8"))
        return results

    def expect_failure(self, text: str, line: int) -> None:
        raw = self.write("raw.jsonl", text)
        done = self.run_report("build", "--no-plots", raw, self.out)
        self.assertEqual(done.returncode, 1, done.stdout)
        self.assertIn(f"raw.jsonl:{line}:", done.stderr)
        self.assertFalse((self.out / "results.json").exists())


class BuildNumbers(ReportCase):

    def setUp(self) -> None:
        super().setUp()
        self.results = self.build(SMALL, "--no-plots")

    def test_meta_is_copied(self) -> None:
        self.assertEqual(self.results["meta"],
                         {k: v for k, v in META.items() if k != "kind"})

    def test_cell_statistics(self) -> None:
        cell = self.results["workloads"]["mmap_file"]["empty"]
        self.assertEqual(cell["median"], 1003)
        self.assertEqual(cell["min"], 1002)
        self.assertEqual(cell["max"], 1004)
        self.assertAlmostEqual(cell["spread_pct"], 2 / 1003 * 100, places=12)
        self.assertEqual(cell["samples"], [1004, 1002, 1003])
        self.assertAlmostEqual(cell["ratio"], 1.003, places=12)
        self.assertAlmostEqual(cell["overhead_pct"], 0.3, places=9)

    def test_baseline_cell(self) -> None:
        cell = self.results["workloads"]["mmap_file"]["none"]
        self.assertEqual((cell["median"], cell["min"], cell["max"]),
                         (1000, 990, 1010))
        self.assertAlmostEqual(cell["spread_pct"], 2.0, places=12)
        self.assertEqual(cell["ratio"], 1.0)
        self.assertEqual(cell["overhead_pct"], 0.0)

    def test_even_sample_count_median(self) -> None:
        cell = self.results["workloads"]["qp_mock"]["floor"]
        self.assertEqual(cell["median"], 12250)
        self.assertAlmostEqual(cell["spread_pct"], 300 / 12250 * 100,
                               places=12)
        self.assertAlmostEqual(cell["ratio"], 12250 / 12000.5, places=12)

    def test_no_baseline_means_no_ratio(self) -> None:
        results = self.build([*ops("floor", "mmap_file", 5, 6, 7)],
                             "--no-plots")
        cell = results["workloads"]["mmap_file"]["floor"]
        self.assertEqual(cell["median"], 6)
        self.assertIsNone(cell["ratio"])
        self.assertIsNone(cell["overhead_pct"])
        self.assertIn("| 6 ns |", self.stdout)

    def test_load_rows(self) -> None:
        first, second = self.results["load"]
        self.assertEqual(first, {
            "rules_per_class": 10, "rules": 30, "median_ns": 2_500_000,
            "spread_pct": 40.0, "kernel_median_ns": None, "memory": 30720,
            "bytes_per_rule": 1024})
        self.assertEqual(second["rules"], 3000)
        self.assertEqual(second["median_ns"], 7_000_000)
        self.assertEqual(second["kernel_median_ns"], 1_500_000)
        self.assertEqual(second["bytes_per_rule"], 1049)  # 1048.576

    def test_markdown(self) -> None:
        md = (self.out / "results.md").read_text(encoding="utf-8")
        self.assertEqual(md, self.stdout)
        lines = md.splitlines()
        self.assertTrue(lines[0].startswith("# "))
        self.assertIn("Kernel 6.6.0-test, 3 rounds, "
                      "icount shift=0,sleep=off", md)
        self.assertIn("| Workload | no module | attach floor | empty policy "
                      "| BPF-LSM |", md)
        self.assertIn("| mmap+munmap (file) | 1,000 ns (1.000×) | — "
                      "| 1,003 ns (1.003×) | 1,200 ns (1.200×) |", md)
        # 12000.5 rounds half up
        self.assertIn("| QP setup (mock HCA) | 12,001 ns (1.000×) "
                      "| 12,250 ns (1.021×) | — | — |", md)
        self.assertIn("Spread: at most 8.33%", md)  # bpf: 100 / 1200
        self.assertIn("| Rules per class | Total rules | Load time (ms) "
                      "| of which in the kernel (ms) | Memory (MiB) "
                      "| Bytes per rule |", md)
        self.assertIn("| 10 | 30 | 2.5 | — | 0.03 | 1,024 |", md)
        self.assertIn("| 1,000 | 3,000 | 7.0 | 1.5 | 3.00 | 1,049 |", md)
        self.assertIn("| ✅ | empty policy within 0.5% of no module: "
                      "mmap_file | 0.30% | 0.50% |", md)

    def test_one_table_row_per_workload(self) -> None:
        # What selftests/ibguard/bench_test.sh counts.
        md = (self.out / "results.md").read_text(encoding="utf-8")
        rows = [line for line in md.splitlines()
                if line.startswith(("| mmap", "| mprotect", "| QP"))]
        self.assertEqual(len(rows), 2)


class Targets(ReportCase):

    def targets(self, records: list[Any]) -> dict[str, tuple[float, bool]]:
        results = self.build(records, "--no-plots")
        return {t["name"]: (t["value"], t["pass"])
                for t in results["targets"]}

    def samples(self, empty_file: float, r100k_file: float, r100k_qp: float,
                floor_anon: float) -> list[dict[str, Any]]:
        return [
            *ops("none", "mmap_file", 1000), *ops("empty", "mmap_file",
                                                  empty_file),
            *ops("rules10", "mmap_file", 1000),
            *ops("rules100k", "mmap_file", r100k_file),
            *ops("bpf", "mmap_file", 1100),
            *ops("none", "qp_rxe", 10000), *ops("empty", "qp_rxe", 10040),
            *ops("rules100k", "qp_rxe", r100k_qp),
            *ops("none", "mmap_anon", 500), *ops("empty", "mmap_anon", 501),
            *ops("floor", "mmap_anon", floor_anon),
        ]

    def test_pass(self) -> None:
        got = self.targets(self.samples(1004, 1090, 10090, 502))
        expected = {
            "empty policy within 0.5% of no module: mmap_file": 0.4,
            "empty policy within 0.5% of no module: mmap_anon": 0.2,
            "empty policy within 0.5% of no module: qp_rxe": 0.4,
            "100,000 rules ≤ 1.10 × 10 rules: mmap_file": 1.09,
            "100,000 rules ≤ BPF-LSM: mmap_file": 1090 / 1100,
            "100,000 rules overhead < 1% over no module: qp_rxe": 0.9,
            "every configuration within 0.5% of no module: mmap_anon": 0.4,
        }
        self.assertEqual(list(got), list(expected))
        for name, value in expected.items():
            self.assertAlmostEqual(got[name][0], value, places=9, msg=name)
            self.assertTrue(got[name][1], name)
        self.assertNotIn("❌", self.stdout)

    def test_fail(self) -> None:
        got = self.targets(self.samples(1006, 1120, 10150, 497))
        failed = sorted(name for name, (_, ok) in got.items() if not ok)
        self.assertEqual(failed, sorted([
            "empty policy within 0.5% of no module: mmap_file",
            "100,000 rules ≤ 1.10 × 10 rules: mmap_file",
            "100,000 rules ≤ BPF-LSM: mmap_file",
            "100,000 rules overhead < 1% over no module: qp_rxe",
            "every configuration within 0.5% of no module: mmap_anon",
        ]))
        name = "every configuration within 0.5% of no module: mmap_anon"
        self.assertAlmostEqual(got[name][0], 0.6, places=9)  # |497/500 - 1|
        self.assertIn("| ❌ | 100,000 rules ≤ BPF-LSM: mmap_file "
                      "| 1.018× | 1.000× |", self.stdout)

    def test_path_rules_compared_with_bpf_too(self) -> None:
        got = self.targets([*ops("bpf", "mmap_file", 1100),
                            *ops("rules100k", "mmap_file", 1200),
                            *ops("paths100k", "mmap_file", 1000)])
        self.assertEqual(got, {
            "100,000 rules ≤ BPF-LSM: mmap_file": (1200 / 1100, False),
            "100,000 path rules ≤ BPF-LSM: mmap_file": (1000 / 1100, True),
        })

    def test_missing_data_skips_targets(self) -> None:
        got = self.targets([*ops("rules100k", "mmap_file", 1000),
                            *ops("none", "umad_agent", 10)])
        self.assertEqual(got, {})
        self.assertIn("No target could be evaluated.", self.stdout)


class Malformed(ReportCase):

    def test_bad_json(self) -> None:
        good = jsonl(SMALL[:2])
        self.expect_failure(good + '{"kind": "op", "round": \n', 3)

    def test_unknown_kind(self) -> None:
        self.expect_failure(jsonl([META, {"kind": "opp"}]), 2)

    def test_missing_field(self) -> None:
        record = op(1, "none", "mmap_file", 10)
        del record["ns_per_op"]
        self.expect_failure(jsonl([META, META, record]), 3)

    def test_not_a_number(self) -> None:
        self.expect_failure('{"kind": "op", "round": 1, "config": "none", '
                            '"workload": "w", "ns_per_op": NaN, '
                            '"iterations": 1}\n', 1)

    def test_not_an_object(self) -> None:
        self.expect_failure(jsonl([META]) + "[1, 2]\n", 2)

    def test_duplicate_sample(self) -> None:
        self.expect_failure(jsonl([*ops("none", "w", 1, 2),
                                   op(2, "none", "w", 3)]), 3)

    def test_inconsistent_rule_total(self) -> None:
        other = load(2, 10, 5, 5)
        other["rules"] = 31
        self.expect_failure(jsonl([load(1, 10, 5, 5), other]), 2)

    def test_kernel_part_larger_than_the_load(self) -> None:
        self.expect_failure(jsonl([load(1, 10, 5, 5, 6)]), 1)

    def test_kernel_part_in_some_samples_only(self) -> None:
        self.expect_failure(jsonl([load(1, 10, 5, 5, 4), load(2, 10, 5, 5)]), 2)
        self.expect_failure(jsonl([load(1, 10, 5, 5), load(2, 10, 5, 5, 4)]), 2)

    def test_blank_lines_are_not_data(self) -> None:
        raw = self.write("raw.jsonl", "\n" + jsonl(SMALL) + "\n\n")
        done = self.run_report("build", "--no-plots", raw, self.out)
        self.assertEqual(done.returncode, 0, done.stderr)


class Ordering(ReportCase):

    def test_unknown_configs_and_workloads_follow_known_ones(self) -> None:
        records = [op(1, c, w, 100)
                   for w in ("custom_w", "qp_mock", "mmap_file")
                   for c in ("zeta", "rules100k", "none", "alpha", "floor")]
        results = self.build(records, "--no-plots")
        workloads = results["workloads"]
        self.assertEqual(list(workloads), ["mmap_file", "qp_mock",
                                           "custom_w"])
        for cells in workloads.values():
            self.assertEqual(list(cells), ["none", "floor", "rules100k",
                                           "zeta", "alpha"])
        self.assertIn("| Workload | no module | attach floor | 100,000 rules "
                      "| zeta | alpha |", self.stdout)
        self.assertIn("| custom_w |", self.stdout)

    def test_display_order(self) -> None:
        self.assertEqual(report.display_order(["b", "x", "a"], ["a", "b"]),
                         ["a", "b", "x"])


class Compare(ReportCase):

    def results_file(self, name: str, scale: float,
                     extra: list[Any] | None = None) -> Path:
        records = [
            *ops("none", "mmap_file", 1000 * scale),
            *ops("empty", "mmap_file", 1010),
            load(1, 10, 2_000_000, 30720),
            *(extra or []),
        ]
        self.build(records, "--no-plots")
        return self.write(name, (self.out / "results.json").read_text())

    def test_within_tolerance(self) -> None:
        a = self.results_file("a.json", 1.0)
        b = self.results_file("b.json", 1.005)
        done = self.run_report("compare", a, b)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("maximum difference: 0.500%", done.stdout)

    def test_outside_tolerance(self) -> None:
        a = self.results_file("a.json", 1.0)
        b = self.results_file("b.json", 1.02)
        done = self.run_report("compare", a, b)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn("over the tolerance:\n  mmap_file/none median: "
                      "+2.000%", done.stdout)
        done = self.run_report("compare", "--tolerance", "2.5", a, b)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_load_times_within_the_tick_resolution(self) -> None:
        self.build([*ops("none", "mmap_file", 1000), load(1, 10, 100_000_000, 30720)],
                   "--no-plots")
        a = self.write("a.json", (self.out / "results.json").read_text())
        self.build([*ops("none", "mmap_file", 1000), load(1, 10, 108_000_000, 30720)],
                   "--no-plots")
        b = self.write("b.json", (self.out / "results.json").read_text())
        done = self.run_report("compare", a, b)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        done = self.run_report("compare", "--time-resolution-ms", "4", a, b)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn("load 10 rules per class: time: +8.000%", done.stdout)

    def test_load_total_not_judged_when_the_kernel_part_is_known(self) -> None:
        def results(name: str, total: int, kernel: int) -> Path:
            self.build([*ops("none", "mmap_file", 1000),
                        load(1, 10, total, 30720, kernel)], "--no-plots")
            return self.write(name, (self.out / "results.json").read_text())

        a = results("a.json", 100_000_000, 12_000_000)
        # The compile's waits for the host: 50 ms more, not a difference.
        b = results("b.json", 150_000_000, 12_000_000)
        done = self.run_report("compare", a, b)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("load 10 rules per class: kernel time", done.stdout)
        # The kernel's part 20 ms (5 ticks) longer is.
        c = results("c.json", 100_000_000, 32_000_000)
        done = self.run_report("compare", a, c)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn("over the tolerance:\n  load 10 rules per class: "
                      "kernel time: +166.667%", done.stdout)

    def test_different_cells(self) -> None:
        a = self.results_file("a.json", 1.0)
        b = self.results_file("b.json", 1.0,
                              [*ops("floor", "mmap_file", 1000)])
        done = self.run_report("compare", a, b)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn("only in", done.stdout)
        self.assertIn("mmap_file/floor median", done.stdout)

    def test_unreadable_file(self) -> None:
        a = self.results_file("a.json", 1.0)
        bad = self.write("bad.json", '{"workloads": 1}')
        done = self.run_report("compare", a, bad)
        self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
        self.assertIn("bad.json", done.stderr)


class Plots(ReportCase):

    def pngs(self) -> list[str]:
        return sorted(p.name for p in self.out.glob("*.png"))

    def test_no_plots_writes_no_png(self) -> None:
        self.build(SMALL, "--no-plots")
        self.assertEqual(self.pngs(), [])

    def test_no_plots_needs_no_matplotlib(self) -> None:
        fake = self.dir / "fake" / "matplotlib"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text("raise ImportError('hidden')\n")
        env = dict(os.environ, PYTHONPATH=str(fake.parent))
        raw = self.write("raw.jsonl", jsonl(SMALL))
        done = self.run_report("build", "--no-plots", raw, self.out, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        done = self.run_report("build", raw, self.dir / "out2", env=env)
        self.assertEqual(done.returncode, 1)
        self.assertIn("--no-plots", done.stderr)

    @unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed")
    def test_plots(self) -> None:
        self.build(SMALL)
        self.assertEqual(self.pngs(), ["load.png", "overhead.png"])
        for name in self.pngs():
            head = (self.out / name).read_bytes()[:24]
            self.assertEqual(head[:8], PNG_SIGNATURE, name)
            size = (int.from_bytes(head[16:20], "big"),
                    int.from_bytes(head[20:24], "big"))
            self.assertEqual(size, (1000, 500), name)


if __name__ == "__main__":
    unittest.main()

"""How the strong regime's overlaps change with training length, per width: data/overlap-probe.json.

The course sweep found the mean square overlap falling faster than 1/m after
12,000 steps (slopes -1.22 to -1.43 over m = 10..100) than after 3,000 (about
-1.0), and it keeps row norms, not weights. This probe trains one model per
(width, steps) at the sweep's settings (n = 1000, power law alpha = 1,
gamma = -1, batch 2048, warm-up a tenth of the steps, seed 0;
`utils.results.probe_crowding`) and records `utils.metrics.crowding` of each:
m times the mean square overlap of all rows (as cosines, and as raw dot
products), of the m most frequent rows and of the rows ranked 300 and below,
and the effective dimension of those rarer rows' directions. Chapter 5 reads
the file; tests/test_sweep_science.py re-trains the smallest entry and compares.

    python scripts/overlap_vs_training.py        # about 15 minutes on one idle core; resumable

Each model is written as soon as it is trained; run the same command again to finish an interrupted probe.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils import results, runfiles  # noqa: E402
from utils.sweep import SweepError  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[10, 25, 100])
    ap.add_argument("--steps", type=int, nargs="+", default=[3000, 12000, 24000])
    ap.add_argument("--out", type=Path, default=results.PROBE)
    ap.add_argument("--allow-dirty", action="store_true", help="write into data/ from a modified utils/ "
                    "(refused otherwise; recorded in the provenance)")
    args = ap.parse_args(argv)
    run_info = runfiles.provenance(["scripts/overlap_vs_training.py"] + sys.argv[1:], program="python",
                                   out=args.out, allow_dirty=args.allow_dirty, error=SweepError)
    runfiles.output_dir(args.out.parent, SweepError)
    doc = runfiles.resume(args.out, results.PROBE_SETTINGS, results.PROBE_FORMAT, results.PROBE_VERSION,
                          results.load_probe, SweepError, "a probe")
    doc["runs"].append(run_info)
    done = {(r["m"], r["steps"]) for r in doc["records"]}
    print(f"{'m':>4} {'steps':>6} {'m*msq all':>10} {'raw dots':>9} {'top m':>7} {'rank>=300':>10} {'rare dims':>10}")
    for m in args.widths:
        for steps in args.steps:
            if (m, steps) not in done:
                doc["records"].append(results.probe_crowding(m, steps))
                runfiles.write_atomic(args.out, doc)
            r = next(r for r in doc["records"] if (r["m"], r["steps"]) == (m, steps))
            print(f"{m:>4} {steps:>6} {r['all']:>10.2f} {r['raw']:>9.2f} {r['top']:>7.2f} {r['rare']:>10.2f} "
                  f"{r['rare_dims']:>7.1f}/{m}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except SweepError as e:
        raise SystemExit(f"error: {e}") from None

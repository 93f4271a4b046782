"""How the strong regime's overlaps change with training length, per width: data/overlap-probe.json.

The course sweep found the mean square overlap falling faster than 1/m after
12,000 steps (slopes -1.22 to -1.44 over m = 10..100) than after 3,000 (about
-1.0). This probe trains one model per (width, steps) at the sweep's settings
(n = 1000, power law alpha = 1, gamma = -1, batch 2048, warm-up a tenth of the
steps, seed 0) and records `utils.metrics.crowding` of each: m times the mean
square overlap of all rows, of the m most frequent rows and of the rows ranked
300 and below, and the effective dimension of those rarer rows' directions.
Chapter 5 reads the file; tests/test_sweep_science.py re-trains the smallest
entry and compares.

    python scripts/overlap_vs_training.py                 # about 15 minutes on one core; resumable

Each model is written as soon as it is trained; run the same command again to finish an interrupted probe.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils import data, geometry, metrics, runfiles, train  # noqa: E402
from utils.paths import DATA  # noqa: E402

FORMAT, VERSION = "superposition-course overlap probe", 1
SETTINGS = dict(n=1000, alpha=1.0, gamma=-1.0, batch=2048, warmup_fraction=0.1, seed=0, rare_from=300)
OUT = DATA / "overlap-probe.json"


class ProbeError(Exception):
    pass


def probe(m: int, steps: int, settings: dict = SETTINGS) -> dict:
    """Train one strong model of width m for `steps` steps and measure its crowding."""
    s = settings
    p = data.power_law(s["n"], s["alpha"])
    cfg = train.TrainConfig(n=s["n"], m=m, steps=steps, batch=s["batch"], warmup=int(s["warmup_fraction"] * steps),
                            log_every=steps, progress=False)
    t = time.time()
    with geometry.single_thread():
        W = train.train(p, s["gamma"], cfg, seeds=[s["seed"]]).W[0]
    return dict(m=m, steps=steps, **metrics.crowding(W, top=m, rare_from=s["rare_from"]),
                wall_s=round(time.time() - t, 1))


def load(path: Path = OUT) -> dict:
    return runfiles.read(path, path.name, FORMAT, VERSION, ProbeError, "an overlap probe",
                         "python scripts/overlap_vs_training.py")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[10, 25, 100])
    ap.add_argument("--steps", type=int, nargs="+", default=[3000, 12000, 24000])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    runfiles.output_dir(args.out.parent, ProbeError)
    doc = load(args.out) if args.out.exists() else dict(format=FORMAT, version=VERSION, settings=SETTINGS,
                                                         runs=[], records=[])
    if doc["settings"] != SETTINGS:
        raise ProbeError(f"{args.out} holds a probe with other settings; it was left untouched")
    doc["runs"].append(runfiles.provenance(["scripts/overlap_vs_training.py"] + sys.argv[1:], program="python"))
    done = {(r["m"], r["steps"]) for r in doc["records"]}
    print(f"{'m':>4} {'steps':>6} {'m*msq all':>10} {'top m':>7} {'rank>=300':>10} {'rare dims':>10}")
    for m in args.widths:
        for steps in args.steps:
            if (m, steps) not in done:
                doc["records"].append(probe(m, steps))
                runfiles.write_atomic(args.out, doc)
            r = next(r for r in doc["records"] if (r["m"], r["steps"]) == (m, steps))
            print(f"{m:>4} {steps:>6} {r['all']:>10.2f} {r['top']:>7.2f} {r['rare']:>10.2f} "
                  f"{r['rare_dims']:>7.1f}/{m}", flush=True)


if __name__ == "__main__":
    main()

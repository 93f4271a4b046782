"""The course's command line: `python -m utils <command> --help`."""

from __future__ import annotations

import argparse
import sys


def _bench(args) -> int:
    from . import bench

    result = bench.run(args.preset, progress=not args.quiet)
    print(bench.report(result))
    return 0


def _exercises(args) -> int:
    from . import exercises

    written = exercises.generate_all(check=args.check)
    if args.check:
        if written:
            print("exercises/ is stale for: " + ", ".join(written) + ". Run `make exercises`.", file=sys.stderr)
            return 1
        print("exercises/ is up to date")
    else:
        print(f"wrote {len(written)} exercise notebook(s) to exercises/")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="time the batched trainer against the paper-style loop",
                       description="Train the same models (n=1000, batch 2048, the paper's six widths, "
                       "ten gammas) one at a time the paper's way and with the batched trainer, in one "
                       "run; print per-width times, the speed-up over all models and the fraction of "
                       "this machine's measured fp32 matmul FLOP/s reached at the widest m.")
    b.add_argument("--preset", choices=["quick", "full"], default="full",
                   help="full: 6 widths x 10 gammas (about 2 minutes on 2 cores); quick: 2 widths x 2 gammas")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_bench)
    e = sub.add_parser("exercises", help="write exercises/ from solutions/ (nbgrader's ClearSolutions)")
    e.add_argument("--check", action="store_true", help="only report whether exercises/ is stale")
    e.set_defaults(func=_exercises)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

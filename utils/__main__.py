"""The course's command line: `python -m utils <command> --help`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def _sweep(args) -> int:
    from . import sweep

    path = sweep.run(args.preset, args.out, device=args.device, shard=args.shard,
                     progress=False if args.quiet else None, argv=args.argv, allow_dirty=args.allow_dirty)
    print(f"{path}: {sweep.summary(sweep.load(path))}")
    return 0


def _sweep_merge(args) -> int:
    from . import sweep

    path = sweep.merge(args.out, args.dirs, argv=args.argv, allow_dirty=args.allow_dirty)
    print(f"{path}: {sweep.summary(sweep.load(path))}")
    return 0


def _figures(args) -> int:
    import warnings

    from . import figures
    from .paths import ROOT
    from .sweep import default_dir, load

    src = Path(args.dir) if args.dir else default_dir("course")
    doc = load(src)
    out = Path(args.out) if args.out else ROOT / "_build" / "figures" / doc["settings"]["preset"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = figures.draw_all(doc, out)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    print(f"wrote {len(written)} figure(s) to {out}: " + ", ".join(p.name for p in written))
    return 0 if written else 1


def _sweep_report(args) -> int:
    from . import results

    text = results.report(args.dir)
    if args.write:
        (Path(args.dir) / "REPORT.md").write_text(text)
    print(text, end="")
    return 0


def _lm_family(args) -> int:
    from . import lm

    path = lm.run_family(args.preset, args.out, progress=False if args.quiet else None, argv=args.argv,
                         allow_dirty=args.allow_dirty)
    doc = lm.load_family(path)
    for r in doc["records"]:
        print(f"width {r['width']:4d} seed {r['seed']}: val_loss {r['val_loss']:.3f} "
              f"(init {r['val_loss_init']:.3f}), m x mean square overlap {r['trained']['m_msq']:.2f} "
              f"(init {r['init']['m_msq']:.2f}), {r['wall_s']:.0f} s")
    print(f"{path}: {len(doc['records'])} model(s)")
    return 0


#: the help of --allow-dirty, shared by every command that writes cached data
ALLOW_DIRTY_HELP = ("write into data/ even when utils/ differs from the checked-out commit (refused "
                    "otherwise, since the recorded commit would not reproduce the data); the provenance "
                    "records utils_modified, the differing files and allow_dirty")


def _lm_parser(sub):
    from .lm import LM_PRESETS

    lines = [f"  {p.name}: widths {', '.join(map(str, p.widths))}"
             + (f" (and seed 1 at {', '.join(map(str, p.second_seed))})" if p.second_seed else "")
             + f"; {p.layers} layers, BPE vocabulary {p.vocab_size}, context {p.context}, "
             f"{p.steps} steps of {p.batch} windows ({p.tokens / 1e6:.1f} M tokens per model)"
             for p in LM_PRESETS.values()]
    s = sub.add_parser(
        "lm-family", help="train the tiny language models of chapter 7 (resumable)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a family of tiny GPT-2 models of growing width on Shakespeare's plays (a "
        "byte-level BPE vocabulary is learnt first) and write one record per model to DIR/lm.json: "
        "validation loss, and the overlap statistics of the token matrix trained and at "
        "initialisation; the trained token matrices go to DIR/unembeddings.npz. Stop it at any time "
        "and run the same command again: finished models are kept (a model in progress starts over)."
        "\n\npresets (full: under 30 minutes on 2 CPU cores; quick: under 3):\n" + "\n".join(lines))
    s.add_argument("--preset", required=True, choices=list(LM_PRESETS), help="which family (see above)")
    s.add_argument("--out", help="output directory (default: data/lm-PRESET)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--allow-dirty", action="store_true", help=ALLOW_DIRTY_HELP)
    s.set_defaults(func=_lm_family)


def _sweep_parser(sub):
    from .sweep import PRESETS, preset

    lines = [f"  {name}: {preset(name).about}" for name in PRESETS]
    s = sub.add_parser(
        "sweep", help="train a grid of toy models (resumable); `sweep merge` combines shards",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train every model of a preset with the batched trainer and write one record per "
        "model to DIR/sweep.json. Stop it at any time and run the same command again: finished "
        "models are kept and never trained twice.\n\npresets:\n" + "\n".join(lines) +
        "\n\nTo combine shards: python -m utils sweep merge OUT DIR [DIR ...]"
        "\nTo print the fits and checks of a sweep: python -m utils sweep report DIR [--write]")
    s.add_argument("--preset", required=True, choices=list(PRESETS), help="which grid (see above)")
    s.add_argument("--out", help="output directory (default: data/sweep-PRESET)")
    s.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    s.add_argument("--shard", metavar="K/N", help="run only the K-th of N disjoint slices (K = 1..N), "
                   "e.g. one task of a Slurm job array; combine the slices with `sweep merge`")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--allow-dirty", action="store_true", help=ALLOW_DIRTY_HELP)
    s.set_defaults(func=_sweep)


def _merge_parser():
    m = argparse.ArgumentParser(prog="python -m utils sweep merge",
                                description="Combine the sweep.json files of shards of one preset.")
    m.add_argument("out", help="output directory for the merged sweep.json")
    m.add_argument("dirs", nargs="+", help="shard output directories")
    m.add_argument("--allow-dirty", action="store_true", help=ALLOW_DIRTY_HELP)
    m.set_defaults(func=_sweep_merge)
    return m


def _report_parser():
    r = argparse.ArgumentParser(prog="python -m utils sweep report",
                                description="Print every curve's fitted exponents, the weak-regime "
                                "prediction and the science checks of a sweep.")
    r.add_argument("dir", help="a sweep directory (e.g. data/sweep-course)")
    r.add_argument("--write", action="store_true", help="also write DIR/REPORT.md")
    r.set_defaults(func=_sweep_report)
    return r


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from .lm import LMError
    from .sweep import SweepError

    try:
        if argv[:2] == ["sweep", "merge"]:
            args = _merge_parser().parse_args(argv[2:])
        elif argv[:2] == ["sweep", "report"]:
            args = _report_parser().parse_args(argv[2:])
        else:
            args = _parser().parse_args(argv)
        args.argv = argv
        return args.func(args)
    except (SweepError, LMError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # bad settings, e.g. --device cuda without a GPU
        print(f"error: {e}", file=sys.stderr)
        return 2


def _parser():
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
    _sweep_parser(sub)
    _lm_parser(sub)
    f = sub.add_parser("figures", help="draw the sweep figures of chapter 6 from a sweep directory",
                       description="Redraw every sweep figure (loss against width for three data shapes, "
                       "the phi_1/2 phase map, fitted exponents and their R^2, the density sweep) from "
                       "DIR/sweep.json; figures the sweep has no data for are skipped with a warning.")
    f.add_argument("dir", nargs="?", help="sweep directory (default: data/sweep-course)")
    f.add_argument("--out", help="where to write the PNG files (default: _build/figures/PRESET)")
    f.set_defaults(func=_figures)
    return parser


if __name__ == "__main__":
    sys.exit(main())

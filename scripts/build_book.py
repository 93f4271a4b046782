"""Build the website with warnings as errors; on failure, show the notebook execution reports.

Used by `make book` (and `make book SOLUTIONS=0`) and by the book test.
Options: --out DIR (default: the repository), --no-solutions (leave the worked
solutions out of the site: the "Worked solutions" part of _toc.yml is dropped).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def toc_without_solutions(target: Path) -> Path:
    """A copy of _toc.yml without the part whose files live in solutions/."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    toc["parts"] = [part for part in toc["parts"]
                    if not all(ch["file"].startswith("solutions/") for ch in part["chapters"])]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(toc, sort_keys=False))
    return target


def build(out: Path, solutions: bool = True) -> int:
    """Run jupyter-book on the repository root into `out`; return its exit code."""
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", str(ROOT), "--path-output", str(out), "-n", "-W", "--keep-going"]
    if not solutions:
        cmd += ["--toc", str(toc_without_solutions(ROOT / "_build" / "toc_no_solutions.yml"))]
    code = subprocess.call(cmd)
    if code != 0:
        for report in sorted((out / "_build" / "html" / "reports").glob("**/*.err.log")):
            print(f"\n===== execution report: {report} =====", file=sys.stderr)
            print(report.read_text()[-6000:], file=sys.stderr)
        print("\nThe book did not build (warnings count as errors); see the messages above.", file=sys.stderr)
    return code


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT, help="folder that receives _build/ (default: the repository)")
    parser.add_argument("--no-solutions", action="store_true", help="build the site without the worked solutions")
    args = parser.parse_args()
    sys.exit(build(args.out, solutions=not args.no_solutions))

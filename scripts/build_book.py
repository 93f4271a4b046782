"""Build the website with warnings as errors; on failure, show the notebook execution reports.

Used by `make book` and by the book test. Options: --out DIR (default _build).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path) -> int:
    """Run jupyter-book on the repository root into `out`; return its exit code."""
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", str(ROOT), "--path-output", str(out), "-n", "-W", "--keep-going"]
    code = subprocess.call(cmd)
    if code != 0:
        reports = sorted((out / "_build" / "html" / "reports").glob("**/*.err.log")) if out != ROOT else []
        reports += sorted((ROOT / "_build" / "html" / "reports").glob("**/*.err.log"))
        for report in reports:
            print(f"\n===== execution report: {report} =====", file=sys.stderr)
            print(report.read_text()[-6000:], file=sys.stderr)
        print("\nThe book did not build (warnings count as errors); see the messages above.", file=sys.stderr)
    return code


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT, help="folder that receives _build/ (default: the repository)")
    sys.exit(build(parser.parse_args().out))

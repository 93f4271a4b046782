"""The files of long, resumable runs (`sweep`, `lm-family`, the overlap probe).

Checked reading, resuming, atomic writing, provenance and the progress bar.

A run keeps its results in one JSON document with a format name and a
version; `read` refuses anything else with a one-line error and never
touches the file, and `write_atomic` replaces it in one rename, so a run
killed at any moment leaves the old document or the new one, never half of
one.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from .paths import ROOT


def read(path: str | Path, name: str, fmt: str, version: int, error: type[Exception], what: str,
         command: str) -> dict:
    """The document `name` in the directory `path` (or `path` itself if it is a file), refused with
    `error` unless it is a JSON object of format `fmt` and version `version` (`what`: how to call it)."""
    path = Path(path)
    if path.is_dir():
        path = path / name
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{path} does not exist; run `{command}` first") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise error(f"{path} is not valid JSON (a corrupt file?); it was left untouched") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt or not isinstance(doc.get("records"), list):
        raise error(f"{path} is not {what} file of this course; it was left untouched")
    if doc.get("version") != version:
        raise error(f"{path} has {what} format version {doc.get('version')}, this code reads {version}; "
                    f"it was left untouched")
    return doc


def resume(path: Path, settings: dict, fmt: str, version: int, load, error: type[Exception], what: str,
           detail=lambda doc: "") -> dict:
    """The document at `path` (read by `load`) if it was made with these settings, else a new empty one;
    one made with other settings is refused with `error` (`what`: how to call it; `detail(doc)`: what
    to add about its settings) and left untouched."""
    if not path.exists():
        return dict(format=fmt, version=version, settings=settings, runs=[], records=[])
    doc = load(path)
    if doc.get("settings") != settings:
        raise error(f"{path} holds {what} with other settings{detail(doc)}; it was left untouched: "
                    f"use another --out")
    return doc


def output_dir(out: str | Path, error: type[Exception]) -> Path:
    """Create the output directory if needed; refuse one that cannot be written."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise error(f"cannot create the output directory {out}: {e.strerror}") from None
    if not os.access(out, os.W_OK):
        raise error(f"the output directory {out} is not writable")
    return out


def write_atomic(path: Path, doc: dict) -> None:
    """Replace the JSON document at `path` in one rename (a crash leaves the old or the new one)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def utils_state() -> tuple[str, list[str] | None]:
    """The commit of the checkout and the files under utils/ that differ from it (modified, staged,
    deleted or untracked), as git reports them; ("unknown", None) where git cannot tell."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "utils"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    if head.returncode != 0 or status.returncode != 0:
        return "unknown", None
    return head.stdout.strip(), [line[3:] for line in status.stdout.splitlines() if line.strip()]


def _writes_cached_data(out) -> bool:
    """Is `out` inside data/, the cached results the book reads?"""
    from .paths import DATA

    return out is not None and Path(out).resolve().is_relative_to(DATA.resolve())


def provenance(argv=None, program: str = "python -m utils", out=None, allow_dirty: bool = False,
               error: type[Exception] = RuntimeError) -> dict:
    """How this run was made: command (program and argv), commit, whether utils/ differs from it,
    versions, machine.

    A run that writes into data/ (`out`) from a utils/ that differs from its commit (or where git
    cannot tell) is refused with `error` unless allow_dirty is set, since its recorded commit would not
    reproduce it; allow_dirty is recorded, and so are the differing files.
    """
    commit, changes = utils_state()
    dirty = None if changes is None else bool(changes)
    if dirty is not False and not allow_dirty and _writes_cached_data(out):
        what = (f"utils/ differs from commit {commit[:10]} ({_listing(changes)})" if dirty else
                "git cannot tell whether utils/ differs from its commit (not a git checkout?)")
        raise error(f"refusing to write cached data to {out}: {what}, so the commit recorded in its provenance "
                    f"would not reproduce it. Commit the changes to utils/ and run the same command again, "
                    f"or write elsewhere with --out DIR, or pass --allow-dirty to write it anyway (the "
                    f"provenance then records utils_modified: true and allow_dirty: true)")
    import numpy

    argv = sys.argv if argv is None else argv
    return dict(command=f"{program} " + " ".join(argv), commit=commit, utils_modified=dirty,
                utils_changes=changes or [], allow_dirty=bool(allow_dirty),
                python=platform.python_version(), torch=torch.__version__, numpy=numpy.__version__,
                machine=platform.machine(), threads=torch.get_num_threads(),
                started=time.strftime("%Y-%m-%dT%H:%M:%S%z"))


def _listing(files: list[str], most: int = 5) -> str:
    more = f" and {len(files) - most} more" if len(files) > most else ""
    return ", ".join(files[:most]) + more


def progress_bar(total: int, progress: bool | None, desc: str, unit: str):
    """A tqdm bar with a time estimate on stderr, or None when progress is off (tests, COURSE_QUIET=1)."""
    from .train import _show_progress

    if not _show_progress(progress):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
                smoothing=0.05, mininterval=1.0)

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


def provenance(argv=None, program: str = "python -m utils") -> dict:
    """How this run was made: command (program and argv), commit, versions, machine."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip() or "unknown"
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "utils"], cwd=ROOT, capture_output=True,
                                    text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "unknown", None
    import numpy

    argv = sys.argv if argv is None else argv
    return dict(command=f"{program} " + " ".join(argv), commit=commit, utils_modified=dirty,
                python=platform.python_version(), torch=torch.__version__, numpy=numpy.__version__,
                machine=platform.machine(), threads=torch.get_num_threads(),
                started=time.strftime("%Y-%m-%dT%H:%M:%S%z"))


def progress_bar(total: int, progress: bool | None, desc: str, unit: str):
    """A tqdm bar with a time estimate on stderr, or None when progress is off (tests, COURSE_QUIET=1)."""
    from .train import _show_progress

    if not _show_progress(progress):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
                smoothing=0.05, mininterval=1.0)

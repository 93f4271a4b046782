"""utils.runfiles.resume: the one way a sweep, an lm family and the overlap probe pick up where they stopped."""

import json

import pytest

from utils import runfiles


class Refused(Exception):
    pass


def _load(path):
    return runfiles.read(path, path.name, "fmt", 1, Refused, "a test run", "make it")


def test_resume_starts_keeps_or_refuses(tmp_path):
    path = tmp_path / "run.json"
    new = runfiles.resume(path, {"a": 1}, "fmt", 1, _load, Refused, "a test run")
    assert new == dict(format="fmt", version=1, settings={"a": 1}, runs=[], records=[]) and not path.exists()
    new["records"].append({"k": 1})
    runfiles.write_atomic(path, new)
    assert runfiles.resume(path, {"a": 1}, "fmt", 1, _load, Refused, "a test run")["records"] == [{"k": 1}]
    before = path.read_text()
    with pytest.raises(Refused, match=r"holds a test run with other settings \(was 1\); it was left untouched"):
        runfiles.resume(path, {"a": 2}, "fmt", 1, _load, Refused, "a test run",
                        detail=lambda doc: f" (was {doc['settings']['a']})")
    assert path.read_text() == before and json.loads(before)["settings"] == {"a": 1}

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


# ---- a long run refuses to write cached data (data/) from a modified utils/ unless --allow-dirty

@pytest.fixture
def dirty(monkeypatch, tmp_path):
    """utils/ reported as modified, and data/ moved to tmp_path/data; returns that data directory."""
    from utils import paths

    monkeypatch.setattr(runfiles, "utils_state", lambda: ("0123456789abcdef", ["utils/train.py", "utils/new.py"]))
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    return tmp_path / "data"


def test_provenance_refuses_cached_data_from_a_modified_utils(dirty, tmp_path):
    with pytest.raises(Refused, match=r"refusing to write cached data to .*utils/ differs from commit 0123456789 "
                                      r"\(utils/train.py, utils/new.py\).*Commit the changes.*--allow-dirty"):
        runfiles.provenance(["sweep"], out=dirty / "sweep-x", error=Refused)
    allowed = runfiles.provenance(["sweep", "--allow-dirty"], out=dirty / "sweep-x", allow_dirty=True, error=Refused)
    assert allowed["utils_modified"] is True and allowed["allow_dirty"] is True
    assert allowed["utils_changes"] == ["utils/train.py", "utils/new.py"]
    assert allowed["command"] == "python -m utils sweep --allow-dirty"
    elsewhere = runfiles.provenance(["sweep"], out=tmp_path / "scratch", error=Refused)  # not cached data
    assert elsewhere["utils_modified"] is True and elsewhere["allow_dirty"] is False


def test_provenance_refuses_when_git_cannot_tell(monkeypatch, dirty):
    monkeypatch.setattr(runfiles, "utils_state", lambda: ("unknown", None))
    with pytest.raises(Refused, match="git cannot tell whether utils/ differs"):
        runfiles.provenance([], out=dirty / "lm-full", error=Refused)
    assert runfiles.provenance([], out=dirty / "lm-full", allow_dirty=True, error=Refused)["utils_modified"] is None


def test_a_clean_utils_writes_cached_data(monkeypatch, dirty):
    monkeypatch.setattr(runfiles, "utils_state", lambda: ("0123456789abcdef", []))
    info = runfiles.provenance([], out=dirty / "sweep-x", error=Refused)
    assert info["utils_modified"] is False and info["utils_changes"] == [] and info["commit"] == "0123456789abcdef"


@pytest.mark.parametrize("argv", [["sweep", "--preset", "quick"], ["lm-family", "--preset", "quick"],
                                  ["sweep", "merge", "OUT", "SHARD"]])
def test_every_long_command_refuses_and_says_what_to_do(dirty, capsys, argv):
    from utils.__main__ import main

    if argv[1] == "merge":  # merge a real (empty) shard into data/
        from utils import sweep
        shard = sweep.run("quick", dirty.parent / "shard", shard="1/40", stop_after=0, argv=["test"])
        argv = ["sweep", "merge", str(dirty / "sweep-quick"), str(shard.parent)]
    else:
        argv = argv + ["--out", str(dirty / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "refusing to write cached data" in err and "--allow-dirty" in err and "Commit the changes" in err
    assert not (dirty / "run").exists() and not (dirty / "sweep-quick").exists()  # nothing written


def test_allow_dirty_is_recorded_in_the_sweep(dirty):
    from utils import sweep

    path = sweep.run("quick", dirty / "sweep-quick", stop_after=0, argv=["sweep", "--allow-dirty"], allow_dirty=True)
    run = sweep.load(path)["runs"][-1]
    assert run["allow_dirty"] is True and run["utils_modified"] is True and "utils/train.py" in run["utils_changes"]


def test_utils_state_reads_a_real_checkout(monkeypatch, tmp_path):
    """Against a temporary git repository: modified, staged and untracked files under utils/ count, others not."""
    import subprocess

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "a.py").write_text("x = 1\n")
    (tmp_path / "notes.md").write_text("hi\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "start")
    monkeypatch.setattr(runfiles, "ROOT", tmp_path)
    commit, changes = runfiles.utils_state()
    assert len(commit) == 40 and changes == []
    (tmp_path / "notes.md").write_text("changed outside utils/\n")
    assert runfiles.utils_state()[1] == []
    (tmp_path / "utils" / "a.py").write_text("x = 2\n")
    (tmp_path / "utils" / "sub").mkdir()
    (tmp_path / "utils" / "sub" / "b.py").write_text("")
    assert sorted(runfiles.utils_state()[1]) == ["utils/a.py", "utils/sub/b.py"]
    monkeypatch.setattr(runfiles, "ROOT", tmp_path / "utils" / "sub" / "nowhere")  # not a directory: git fails
    assert runfiles.utils_state() == ("unknown", None)

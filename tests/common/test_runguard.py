"""Tests for notes_code.common.runguard: the Fig. 7 grid runner's (§4.1.1) argument checks and its
one-writer lock (the CLI's use of both is tested in tests/common/test_runner.py)."""

from __future__ import annotations

import json
import os
import socket

import pytest
import torch

from notes_code.common import runguard as rg


@pytest.mark.parametrize("device", ["cpu", "cpu:0"])
def test_cpu_devices_pass(device) -> None:
    """The CPU always trains."""
    rg.check_device(device)


@pytest.mark.parametrize(("device", "message"), [("tpu", "unknown device"), ("meta", "not meta"),
                                                 ("", "unknown device"), ("mps", "not mps")])
def test_unknown_devices_fail(device, message) -> None:
    """Only cpu and cuda are training devices; the message names the device."""
    with pytest.raises(rg.UsageError, match=message):
        rg.check_device(device)


def test_cuda_needs_a_gpu(monkeypatch) -> None:
    """cuda without a GPU, or an index past the last GPU, is refused."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(rg.UsageError, match="CUDA is not available"):
        rg.check_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    rg.check_device("cuda:1")
    with pytest.raises(rg.UsageError, match="only 2 CUDA device"):
        rg.check_device("cuda:2")


def test_run_args(tmp_path) -> None:
    """Budget, workers, threads below 1 and a directory as `out` are refused, each by name."""
    rg.check_run_args(budget=1, device="cpu", workers=1, threads=None, out=tmp_path / "g.json")
    for kw, message in (({"budget": 0}, "budget"), ({"budget": 5, "workers": 0}, "workers"),
                        ({"budget": 5, "threads": 0}, "threads"),
                        ({"budget": 5, "out": tmp_path}, "directory")):
        with pytest.raises(rg.UsageError, match=message):
            rg.check_run_args(device="cpu", **kw)


def test_lock_names_its_holder_and_cleans_up(tmp_path) -> None:
    """While held, the side file names pid, host and start time and a second lock on the same file
    fails with them; on release both files are gone and the lock can be taken again."""
    out = tmp_path / "sub" / "g.json"
    with rg.results_lock(out, now="2026-01-01T00:00:00+00:00") as path:
        assert path == tmp_path / "sub" / "g.json.lock" and path.exists()
        holder = json.loads(rg.holder_path(out).read_text())
        assert (holder["pid"], holder["host"]) == (os.getpid(), socket.gethostname())
        with pytest.raises(rg.LockedError, match=f"pid {os.getpid()} on host .* started 2026-01-01"):
            with rg.results_lock(out):
                pass
        assert rg.holder_path(out).exists()  # the failed attempt did not remove the holder's files
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == []
    with rg.results_lock(out):
        pass


def test_unreadable_holder_file(tmp_path) -> None:
    """A lock whose side file is unreadable still refuses, saying the holder is unknown."""
    out = tmp_path / "g.json"
    with rg.results_lock(out):
        rg.holder_path(out).write_text("{")
        with pytest.raises(rg.LockedError, match="holder unknown"):
            with rg.results_lock(out):
                pass


def test_lock_files_are_ignored_by_git(tmp_path) -> None:
    """Provenance: a runner's own lock files beside the results file (and a symlinked .venv) are
    ignored by git, so they do not mark the session's tree as dirty (`results.provenance`)."""
    import shutil
    import subprocess

    from notes_code.common.results import ROOT

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for name in ("docs/data/pascanu2013/x.json.lock", "docs/data/hochreiter1997/x.json.lock.holder", ".venv"):
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT).returncode == 0, name
    with rg.results_lock(tmp_path / "r.json") as lock:
        assert lock.name == "r.json.lock" and (tmp_path / "r.json.lock.holder").exists()

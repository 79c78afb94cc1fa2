"""Tests for notes_code.common.cluster: the Fig. 7 grid runner (§4.1.1) on Ray, one task per length.

One local Ray instance (`ray.init(num_cpus=2)`) serves the whole module and is shut down at the end.
"""

from __future__ import annotations

import sys
import types

import pytest
import torch

from notes_code import experiments as cli
from notes_code.common import cluster, results
from notes_code.common.batched import run_batched
from notes_code.common.grid import Grid
from notes_code.common.results import load_results
from notes_code.common.runguard import UsageError
from notes_code.common.runner import GRIDS, GroupsFailed, run_grid
from notes_code.common.train import TrainConfig, TrainResult

TINY = Grid("tiny", "a test grid",
            TrainConfig(n_hidden=6, lr=0.1, max_updates=30, eval_every=10, eval_size=40, screen_size=0,
                        eval_chunk=40, dtype="float64"),
            inits=("sigmoid", "basic_tanh"), methods=("MSGD", "MSGD-C"), lengths=(10, 12), seeds=(0, 1))
# Fields that differ between two runs of the same cells: timing and provenance (copied per session).
TIMING = ("wall_time_s", "git_commit", "device")


def _cells(data: dict) -> dict:
    return {k: {f: v for f, v in c.items() if f not in TIMING} for k, c in data["cells"].items()}


def _run(tmp_path, **kw) -> dict:
    return run_grid(TINY, out=tmp_path / "tiny.json", checkpoint_dir=tmp_path / "ckpt", progress=False,
                    log=kw.pop("log", lambda s: None), threads=1, **kw)


def failing_train(configs, device, *, checkpoint, **kw):
    """Train, but fail at update 13 at length 12 (after the checkpoint of update 10)."""
    def stop(step: int) -> None:
        if configs[0].min_length == 12 and step == 13:
            raise RuntimeError("node lost at update 13")
    return run_batched(configs, device, checkpoint=checkpoint, checkpoint_every=10, callback=stop, **kw)


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_ref(tmp_path_factory) -> dict:
    """The tiny grid through the local engine (one process, one thread)."""
    return _cells(_run(tmp_path_factory.mktemp("local")))


@pytest.mark.slow
def test_ray_results_equal_local_cell_for_cell(ray_local, local_ref, tmp_path) -> None:
    """§4.1.1 grid on Ray: the results file written by the driver from Ray tasks equals the local
    engine's cell for cell (every field but wall time, commit and device); tasks leave no checkpoint."""
    data = _run(tmp_path, engine=cluster.ray_engine())
    assert len(data["cells"]) == 16
    assert _cells(load_results(tmp_path / "tiny.json")) == local_ref
    assert data["provenance"]["sessions"][-1]["engine"] == "ray"
    assert not list((tmp_path / "ckpt").glob("*.pt"))
    assert not (tmp_path / "tiny.json.lock").exists()


@pytest.mark.slow
def test_failed_task_is_reported_and_resumes(ray_local, local_ref, tmp_path) -> None:
    """A Ray task that fails (length 12, after its checkpoint) is reported by length and error, the
    other length's cells are recorded, and running again resumes from the checkpoint to exactly the
    local engine's cells."""
    with pytest.raises(GroupsFailed, match=r"L=12: RuntimeError: node lost at update 13") as info:
        _run(tmp_path, engine=cluster.ray_engine(train=failing_train))
    assert set(info.value.failed) == {12}
    assert {c["length"] for c in load_results(tmp_path / "tiny.json")["cells"].values()} == {10}
    assert (tmp_path / "ckpt" / "L12.pt").exists()
    assert _cells(_run(tmp_path, engine=cluster.ray_engine())) == local_ref


@pytest.mark.slow
def test_interrupted_driver_cancels_and_resumes(ray_local, local_ref, tmp_path) -> None:
    """Ctrl-C in the driver (here: at its first recorded cell) cancels the pending tasks and releases
    the lock; the same command again ends with the local engine's cells."""
    def log(line: str) -> None:
        if line.startswith("  L="):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, engine=cluster.ray_engine(), log=log)
    assert len(load_results(tmp_path / "tiny.json")["cells"]) == 1
    assert not (tmp_path / "tiny.json.lock").exists()
    assert _cells(_run(tmp_path, engine=cluster.ray_engine())) == local_ref


@pytest.mark.slow
def test_cli_engine_ray(ray_local, local_ref, tmp_path, monkeypatch, capsys) -> None:
    """`run GRID --engine ray` through the command line: exit 0, the local engine's cells."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    out = tmp_path / "tiny.json"
    args = ["run", "tiny", "--engine", "ray", "--threads", "1", "--out", str(out), "--no-progress"]
    assert cli.main(args) == 0
    assert _cells(load_results(out)) == local_ref and "| T=10 | T=12 |" in capsys.readouterr().out


def test_missing_ray_gives_install_hint(monkeypatch, tmp_path, capsys) -> None:
    """Without Ray, `--engine ray` stops before anything runs with the extra's install command and
    exit status 2; the local engine does not import Ray."""
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    with pytest.raises(cluster.ClusterUnavailable, match=r"pip install -e '\.\[cluster\]'"):
        cluster.require_ray()
    out = tmp_path / "tiny.json"
    assert cli.main(["run", "tiny", "--engine", "ray", "--out", str(out), "--no-progress"]) == 2
    assert "pip install -e '.[cluster]'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert cli.main(["run", "tiny", "--budget", "2", "--out", str(out), "--no-progress"]) == 0


class _Ref:
    def __init__(self, value) -> None:
        self.value = value


class _FakeRay(types.ModuleType):
    """Records the task options; runs each task at once."""

    class exceptions:  # noqa: N801 - mirrors ray.exceptions
        class RayError(Exception):
            pass

    def __init__(self) -> None:
        super().__init__("ray")
        self.options: list[dict] = []
        self.inits: list[dict] = []
        self.shutdowns = 0

    def is_initialized(self) -> bool:
        return bool(self.inits) and self.shutdowns < len(self.inits)

    def init(self, **kw) -> None:
        self.inits.append(kw)

    def shutdown(self) -> None:
        self.shutdowns += 1

    def remote(self, fn):
        fake = self

        class Task:
            def options(self, **kw):
                fake.options.append(kw)
                return self

            def remote(self, *args):
                return _Ref(fn(*args))

        return Task()

    def wait(self, refs, num_returns=1):
        return refs[:1], refs[1:]

    def get(self, ref):
        return ref.value

    def cancel(self, ref, force=False) -> None:
        pass


def test_task_resources_and_lifecycle(monkeypatch, tmp_path) -> None:
    """Each length is one task with num_cpus = threads and num_gpus = 1 on CUDA (0 on the CPU); the
    engine starts Ray at the given address and shuts it down only if it started it."""
    fake = _FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # the task would set this process's
    seen = []

    def train(configs, device, *, checkpoint):
        seen.append((configs[0].min_length, device, checkpoint.name))
        return [TrainResult(c, "fail", 0, None) for c in configs]

    plans = {L: cfgs[:1] for L, cfgs in TINY.groups().items()}
    out = list(cluster.ray_engine("ray://head:10001", train=train)(plans, "cuda", tmp_path, 3))
    assert [(L, [r.config for r in res]) for L, res in out] == list(plans.items())
    assert seen == [(10, "cuda", "L10.pt"), (12, "cuda", "L12.pt")]
    assert fake.options == [{"num_cpus": 3, "num_gpus": 1, "max_retries": 0}]
    assert fake.inits == [{"address": "ray://head:10001"}] and fake.shutdowns == 1
    list(cluster.ray_engine(train=train)(plans, "cpu", tmp_path, 1))  # uses the running instance
    assert fake.options[-1]["num_gpus"] == 0 and fake.shutdowns == 2


def test_unreachable_cluster_is_a_clear_error(monkeypatch, tmp_path, capsys) -> None:
    """A cluster that cannot be reached is reported with its address (exit status 2), not a traceback."""
    fake = _FakeRay()

    def init(**kw):
        raise ConnectionError("no GCS at 10.9.9.9:6379")

    fake.init = init
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    with pytest.raises(cluster.ClusterUnavailable, match="10.9.9.9:6379"):
        list(cluster.ray_engine("10.9.9.9:6379")({}, "cpu", tmp_path, 1))
    out = tmp_path / "tiny.json"
    argv = ["run", "tiny", "--engine", "ray", "--address", "10.9.9.9:6379", "--out", str(out),
            "--no-progress"]
    assert cli.main(argv) == 2
    assert "could not start or reach Ray at 10.9.9.9:6379" in capsys.readouterr().err
    assert not out.exists()


def test_cuda_on_the_workers_needs_no_gpu_on_the_driver(monkeypatch, tmp_path) -> None:
    """With an engine, `cuda` is the workers' device: a driver without CUDA accepts it and records the
    device as the workers' (without an engine it is a usage error)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    def engine(plans, device, ckdir, threads):
        assert device == "cuda"
        for L, cfgs in plans.items():
            yield L, run_batched(cfgs, "cpu")  # stands in for a GPU worker

    engine.name = "ray"
    data = _run(tmp_path, engine=engine, device="cuda")
    assert {c["device"] for c in data["cells"].values()} == {"cuda (on the ray workers)"}
    with pytest.raises(UsageError, match="CUDA is not available"):
        _run(tmp_path, device="cuda")


def test_engine_name_recorded_and_failures_keep_other_groups(tmp_path) -> None:
    """run_grid with an engine records each finished group and raises GroupsFailed naming the failed
    lengths (without Ray: an in-process engine)."""
    def engine(plans, device, ckdir, threads):
        for L, cfgs in plans.items():
            yield (L, ValueError("boom")) if L == 12 else (L, run_batched(cfgs, device))

    engine.name = "inline"
    with pytest.raises(GroupsFailed, match="L=12: ValueError: boom"):
        _run(tmp_path, engine=engine)
    data = results.load_results(tmp_path / "tiny.json")
    assert {c["length"] for c in data["cells"].values()} == {10}
    assert data["provenance"]["sessions"][0]["engine"] == "inline"

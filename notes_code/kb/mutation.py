r"""Mutation strength of the tests behind each claim (records written by ``make mutate``).

A *mutant* is a copy of a module with one small change (``<`` for ``<=``, ``+`` for
``-``, a constant off by one, ...) made by `mutmut <https://mutmut.readthedocs.io>`_.
A test *kills* a mutant when it fails on it. For a set of tests $T$ and the
non-equivalent mutants $M$ of the modules a claim checks, the claim's box shows

$$
\text{killed}(T) = \bigl|\{\, m \in M : \exists\, t \in T \text{ that fails on } m \,\}\bigr|
\quad\text{of}\quad |M| .
$$

``scripts/mutate.py`` runs mutmut (with a pytest plugin that records, per mutant,
*which* tests failed) and writes ``docs/data/<paper>/mutation.json``; this module
reads those records, applies the committed list of equivalent mutants
(``docs/data/<paper>/mutation-equivalent.yaml``, matched by a stable signature:
module, function and the changed lines, never by mutmut's numbering), and
computes the scores of modules and claims. It imports neither mutmut nor pytest.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# The modules whose mutants are recorded ("core" modules that claims check).
CORE_MODULES: dict[str, tuple[str, ...]] = {
    "pascanu2013": ("clipping", "regularizer", "regularized_training", "bptt", "jacobians",
                    "activations", "init", "dynamics"),
    "hochreiter1997": ("lstm", "gradient_flow"),
    "common": ("tasks", "train", "heads", "batched", "fastcpu"),
}
THRESHOLD = 0.90  # minimum share of non-equivalent mutants killed by a module's own tests
RECORD_NAME = "mutation.json"
EQUIVALENT_NAME = "mutation-equivalent.yaml"
KILLED = ("killed", "timeout")  # mutmut counts a timeout as detected


class MutationRecordError(ValueError):
    """A mutation record or an equivalence file that cannot be used."""


def core_modules() -> list[str]:
    """Every recorded module as ``"<paper>.<module>"`` (for example ``"pascanu2013.clipping"``)."""
    return [f"{paper}.{name}" for paper, names in CORE_MODULES.items() for name in names]


def split_module(module: str) -> tuple[str, str]:
    """``"pascanu2013.clipping"`` → ``("pascanu2013", "clipping")``.

    Raises:
        MutationRecordError: if the name is not ``<paper>.<module>``.
    """
    paper, dot, name = module.partition(".")
    if not dot or not paper or not name or "." in name:
        raise MutationRecordError(f"module name must be '<paper>.<module>': {module!r}")
    return paper, name


def module_source(root: Path, module: str) -> Path:
    """The source file of ``module`` (``notes_code/<paper>/<module>.py``)."""
    paper, name = split_module(module)
    return Path(root) / "notes_code" / paper / f"{name}.py"


def module_test_file(module: str) -> str:
    """The test file that mirrors ``module``: its *own* tests (``tests/<paper>/test_<module>.py``)."""
    paper, name = split_module(module)
    return f"tests/{paper}/test_{name}.py"


def content_hash(root: Path, module: str) -> str:
    """SHA-256 of the module's source and its own test file (a record is stale when it changes)."""
    h = hashlib.sha256()
    for rel in (module_source(root, module).relative_to(root).as_posix(), module_test_file(module)):
        path = Path(root) / rel
        h.update(rel.encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"<missing>")
        h.update(b"\0")
    return h.hexdigest()


def changed_lines(diff: str) -> list[str]:
    """The ``-``/``+`` lines of a unified diff, stripped, without the file headers."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith(("-", "+")):
            out.append(line[0] + line[1:].strip())
    return out


def signature(module: str, function: str, diff: str) -> str:
    """A stable id of a mutant: module, function and changed lines (not mutmut's number)."""
    text = "\0".join([module, function, *changed_lines(diff)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def function_of(key: str) -> str:
    r"""The function a mutmut key mutates: ``x_clip__mutmut_3`` → ``clip``; methods ``Class.method``."""
    mangled = key.partition("__mutmut_")[0].rpartition(".")[2]
    if "ǁ" in mangled:
        _, cls, method = mangled.split("ǁ", 2)
        return f"{cls}.{method}"
    return mangled[2:] if mangled.startswith("x_") else mangled


# --- records ---------------------------------------------------------------------------


def record_path(docs_dir: Path, paper: str) -> Path:
    """``docs/data/<paper>/mutation.json``."""
    return Path(docs_dir) / "data" / paper / RECORD_NAME


def equivalent_path(docs_dir: Path, paper: str) -> Path:
    """``docs/data/<paper>/mutation-equivalent.yaml``."""
    return Path(docs_dir) / "data" / paper / EQUIVALENT_NAME


def load_record(path: Path) -> dict:
    """Read one ``mutation.json``; a missing file is an empty record.

    Raises:
        MutationRecordError: for a corrupted file or one without a ``modules`` mapping.
    """
    path = Path(path)
    if not path.exists():
        return {"modules": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MutationRecordError(f"{path}: corrupted mutation record ({exc}); rerun `make mutate`") from exc
    if not isinstance(data, dict) or not isinstance(data.get("modules"), dict):
        raise MutationRecordError(f"{path}: not a mutation record (no 'modules' mapping)")
    return data


def load_equivalents(path: Path) -> dict[str, str]:
    """Read ``mutation-equivalent.yaml``: a list of ``{signature, module, function, diff, reason}``.

    Returns:
        reason by signature.

    Raises:
        MutationRecordError: for an entry without a signature or a one-line reason.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise MutationRecordError(f"{path}: invalid YAML ({exc})") from exc
    if not isinstance(data, list):
        raise MutationRecordError(f"{path}: expected a list of equivalent mutants")
    out: dict[str, str] = {}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("signature"), str):
            raise MutationRecordError(f"{path}: entry {i} has no 'signature'")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
            raise MutationRecordError(f"{path}: entry {i} ({entry['signature']}) needs a one-line 'reason'")
        out[entry["signature"]] = reason.strip()
    return out


@dataclass(frozen=True)
class Score:
    """Counts for one module, or for one claim over its modules."""

    mutants: int
    killed: int
    equivalent: int
    timeout: int = 0
    no_tests: int = 0

    @property
    def checked(self) -> int:
        """Mutants that count: all but the equivalent ones."""
        return self.mutants - self.equivalent

    @property
    def survived(self) -> int:
        """Non-equivalent mutants that no counted test killed."""
        return self.checked - self.killed

    @property
    def ratio(self) -> float:
        """Killed share of the non-equivalent mutants (1.0 when there are none)."""
        return self.killed / self.checked if self.checked else 1.0


def _matches(test_id: str, nodeids: set[str]) -> bool:
    return test_id in nodeids or test_id.partition("[")[0] in nodeids


def killed_by(mutant: dict, tests: list[str], nodeids: set[str] | None) -> bool:
    """Whether the tests ``nodeids`` (all recorded tests when ``None``) kill ``mutant``.

    ``mutant["failed"]`` holds indices into ``tests``. A timeout counts as killed by any
    test set that ran on the mutant (the process was stopped, so no test id is known).
    """
    status = mutant.get("status")
    if status == "timeout":
        ran = [tests[i] for i in mutant.get("ran", [])]
        return nodeids is None or not ran or any(_matches(t, nodeids) for t in ran)
    if status != "killed":
        return False
    failed = [tests[i] for i in mutant.get("failed", [])]
    if nodeids is None:
        return bool(failed)
    return any(_matches(t, nodeids) for t in failed)


def own_test_ids(entry: dict, module: str) -> set[str]:
    """The recorded test ids that belong to the module's own test file."""
    prefix = module_test_file(module) + "::"
    return {t for t in entry.get("tests", []) if t.startswith(prefix)}


def score(entry: dict, equivalents: dict[str, str], nodeids: set[str] | None) -> Score:
    """Score of one recorded module against the tests ``nodeids`` (all tests when ``None``)."""
    tests = entry.get("tests", [])
    mutants = entry.get("mutants", {})
    killed = equivalent = timeout = no_tests = 0
    for m in mutants.values():
        if killed_by(m, tests, nodeids):
            killed += 1
            timeout += m.get("status") == "timeout"
        elif m.get("signature") in equivalents:
            equivalent += 1
        else:
            no_tests += m.get("status") == "no tests"
    return Score(len(mutants), killed, equivalent, timeout, no_tests)


def survivors(entry: dict, equivalents: dict[str, str], module: str) -> list[dict]:
    """Mutants the module's own tests do not kill: key, function, diff and the equivalence reason."""
    own = own_test_ids(entry, module)
    out = []
    for key, m in sorted(entry.get("mutants", {}).items()):
        if killed_by(m, entry.get("tests", []), own):
            continue
        out.append({"key": key, "function": m.get("function", function_of(key)),
                    "status": m.get("status"), "diff": m.get("diff", ""),
                    "signature": m.get("signature"), "reason": equivalents.get(m.get("signature", ""))})
    return out


@dataclass
class Records:
    """Every paper's mutation record and equivalence list under one ``docs`` directory."""

    modules: dict[str, dict]
    equivalents: dict[str, dict[str, str]]
    provenance: dict[str, dict]

    @classmethod
    def load(cls, docs_dir: Path) -> Records:
        """Read ``docs/data/*/mutation.json`` and ``mutation-equivalent.yaml``."""
        modules: dict[str, dict] = {}
        equivalents: dict[str, dict[str, str]] = {}
        provenance: dict[str, dict] = {}
        data_dir = Path(docs_dir) / "data"
        papers = sorted(p.name for p in data_dir.iterdir() if p.is_dir()) if data_dir.is_dir() else []
        for paper in papers:
            rec = load_record(record_path(docs_dir, paper))
            equivalents[paper] = load_equivalents(equivalent_path(docs_dir, paper))
            provenance[paper] = {k: v for k, v in rec.items() if k != "modules"}
            for name, entry in rec["modules"].items():
                modules[f"{paper}.{name}"] = entry
        return cls(modules, equivalents, provenance)

    def equivalents_of(self, module: str) -> dict[str, str]:
        """The equivalence reasons that apply to ``module``'s paper."""
        return self.equivalents.get(split_module(module)[0], {})

    def module_score(self, module: str) -> Score | None:
        """The module's score against its own tests, or ``None`` if it was never recorded."""
        entry = self.modules.get(module)
        if entry is None:
            return None
        return score(entry, self.equivalents_of(module), own_test_ids(entry, module))

    def claim_score(self, modules: list[str], nodeids: list[str]) -> tuple[Score, list[str]]:
        """The mutants of ``modules`` that the tests ``nodeids`` kill.

        Returns:
            ``(score summed over the recorded modules, modules not measured)``: a module
            is not measured when it has no record, or none of the claim's tests ran
            against its mutants.
        """
        ids = set(nodeids)
        total = Score(0, 0, 0)
        missing = []
        for module in modules:
            entry = self.modules.get(module)
            if entry is None or not any(_matches(t, ids) for t in entry.get("tests", [])):
                missing.append(module)
                continue
            s = score(entry, self.equivalents_of(module), ids)
            total = Score(total.mutants + s.mutants, total.killed + s.killed,
                          total.equivalent + s.equivalent, total.timeout + s.timeout,
                          total.no_tests + s.no_tests)
        return total, missing


def claim_line(modules: list[str], nodeids: list[str], records: Records) -> str:
    """The Korean sentence a claim box shows about its tests' mutation strength."""
    if not modules:
        return "돌연변이 검사: 이 주장은 검사하는 모듈을 밝히지 않았습니다 (`modules=`)."
    s, missing = records.claim_score(modules, nodeids)
    measured = [m for m in modules if m not in missing]
    parts = []
    if measured:
        names = ", ".join(f"`{split_module(m)[1]}`" for m in measured)
        line = (f"돌연변이 검사: 이 주장의 테스트가 {names} 모듈의 돌연변이 {s.checked}개 중 "
                f"{s.killed}개를 잡아냄")
        if s.equivalent:
            line += f" (등가 {s.equivalent}개 제외)"
        parts.append(line + ".")
    if missing:
        names = ", ".join(f"`{m}`" for m in missing)
        lead = "" if measured else "돌연변이 검사: "
        parts.append(f"{lead}{names}: 이 주장의 테스트로는 아직 측정하지 않음.")
    return " ".join(parts)


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def compact_diff(diff: str, context: int = 1) -> str:
    """The changed lines of a unified diff with ``context`` lines around them, for display.

    The file headers and hunk markers are dropped (the module is named above the diff) and
    runs of unchanged lines between changes are cut to ``context`` on each side, marked
    with ``…``: the claims index lists every survivor, and mutmut's diffs carry the whole
    function around a one-token change.
    """
    body = [ln for ln in diff.split("\n") if not ln.startswith(("---", "+++", "@@"))]
    changed = [i for i, ln in enumerate(body) if ln[:1] in "+-" and ln]
    if not changed:
        return "\n".join(body)
    keep = sorted({j for i in changed for j in range(i - context, i + context + 1)
                   if 0 <= j < len(body)})
    out, last = [], -1
    for j in keep:
        if last >= 0 and j > last + 1:
            out.append(" …")
        out.append(body[j])
        last = j
    return "\n".join(out)


def survivors_markdown(records: Records, modules: list[str] | None = None) -> str:
    """The claims index section: per module its score, then every surviving mutant.

    Each survivor shows its key, function, diff (in a fenced block, so Markdown
    escapes it) and either its equivalence reason or that it is still open.
    """
    import html

    modules = modules or core_modules()
    out = ["## 돌연변이 검사\n",
           "`make mutate`가 [mutmut](https://mutmut.readthedocs.io)로 핵심 모듈마다 돌연변이를 만들고, "
           "그 모듈의 테스트 파일(과 그 모듈을 밝힌 주장의 테스트)로 잡아내는지 기록합니다. "
           f"목표는 모듈마다 등가가 아닌 돌연변이의 {100 * THRESHOLD:.0f}% 이상을 모듈 자신의 테스트가 "
           "잡아내는 것입니다. 등가 돌연변이는 `docs/data/<paper>/mutation-equivalent.yaml`에 "
           "한 줄 이유와 함께 적습니다.\n",
           "| 모듈 | 돌연변이 | 잡음 | 등가 | 살아남음 | 점수 | 기록 |", "|---|---|---|---|---|---|---|"]
    for module in modules:
        s = records.module_score(module)
        if s is None:
            out.append(f"| `{module}` | — | — | — | — | 기록 없음 | — |")
            continue
        entry = records.modules[module]
        when = html.escape(str(entry.get("time", "?")))
        commit = html.escape(str(entry.get("commit", "?"))[:10])
        mark = "✓" if s.ratio >= THRESHOLD else "✗"
        out.append(f"| `{module}` | {s.mutants} | {s.killed} | {s.equivalent} | {s.survived} | "
                   f"{mark} {100 * s.ratio:.1f}% | {when} `{commit}` |")
    out.append("")
    for module in modules:
        entry = records.modules.get(module)
        if entry is None:
            continue
        left = survivors(entry, records.equivalents_of(module), module)
        if not left:
            continue
        open_ = sum(1 for x in left if x["reason"] is None)
        out.append(f'??? note "`{module}`: 살아남은 돌연변이 {len(left)}개 (미해결 {open_}개)"')
        for x in left:
            reason = (f"등가: {html.escape(x['reason'])}" if x["reason"] is not None
                      else "미해결: 이 모듈의 테스트가 잡지 못함"
                      + (" (이 함수를 실행하는 테스트 없음)" if x["status"] == "no tests" else ""))
            out.append("")
            out.append(f"    **`{html.escape(x['key'])}`** (`{html.escape(x['function'])}`) — {reason}")
            out.append("")
            diff = compact_diff(x["diff"])
            fence = _fence(diff)
            out.append(f"    {fence}diff")
            out.extend(f"    {line}" for line in diff.split("\n"))
            out.append(f"    {fence}")
        out.append("")
    return "\n".join(out)


__all__ = [
    "CORE_MODULES", "THRESHOLD", "MutationRecordError", "Records", "Score", "changed_lines",
    "claim_line", "compact_diff", "content_hash", "core_modules", "function_of", "killed_by",
    "load_equivalents",
    "load_record", "module_source", "module_test_file", "own_test_ids", "record_path", "score",
    "signature", "split_module", "survivors", "survivors_markdown",
]

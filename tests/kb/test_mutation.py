"""Tests of the mutation records (`notes_code.kb.mutation`), the recorder plugin and `modules=`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from notes_code.kb import claims, mutation
from notes_code.kb.claims import ClaimIndex
from notes_code.kb.render import render_claims

DIFF = """--- notes_code/pascanu2013/clipping.py
+++ notes_code/pascanu2013/clipping.py
@@ -1,3 +1,3 @@
 def clip(g, t):
-    if norm >= t:
+    if norm > t:
         return g"""
OWN = "tests/pascanu2013/test_clipping.py"


def _entry() -> dict:
    tests = [f"{OWN}::test_a", f"{OWN}::test_b[1]", "tests/common/test_train.py::test_c"]
    sig = mutation.signature("pascanu2013.clipping", "clip", DIFF)
    return {"tests": tests, "mutants": {
        "x_clip__mutmut_1": {"status": "killed", "failed": [0, 1]},
        "x_clip__mutmut_2": {"status": "killed", "failed": [1]},
        "x_clip__mutmut_3": {"status": "killed", "failed": [2]},  # only another module's test
        "x_clip__mutmut_4": {"status": "timeout", "ran": [0]},
        "x_clip__mutmut_5": {"status": "survived", "function": "clip", "diff": DIFF, "signature": sig},
        "x_clip__mutmut_6": {"status": "no tests", "function": "clip", "diff": DIFF.replace(">", "!="),
                             "signature": "other"},
    }}


def test_signature_ignores_numbering_and_line_numbers() -> None:
    """Equivalent mutants are matched by module, function and changed lines, not by mutmut's ids."""
    moved = DIFF.replace("@@ -1,3 +1,3 @@", "@@ -40,3 +40,3 @@")
    sig = mutation.signature("pascanu2013.clipping", "clip", DIFF)
    assert mutation.signature("pascanu2013.clipping", "clip", moved) == sig
    assert mutation.changed_lines(DIFF) == ["-if norm >= t:", "+if norm > t:"]
    assert mutation.signature("pascanu2013.clipping", "clip", DIFF.replace("> t", "< t")) != sig
    assert mutation.signature("common.train", "clip", DIFF) != sig
    assert mutation.signature("pascanu2013.clipping", "other", DIFF) != sig


def test_function_of_keys() -> None:
    """mutmut's mangled keys name the mutated function (methods as Class.method)."""
    key = "notes_code.pascanu2013.clipping.x_clip_grad_norm___mutmut_12"
    assert mutation.function_of(key) == "clip_grad_norm_"
    assert mutation.function_of("notes_code.hochreiter1997.lstm.xǁLSTMǁforward__mutmut_3") == "LSTM.forward"


def test_module_score_counts_own_tests_only() -> None:
    """A module's score counts mutants killed by its own test file; equivalents are excluded."""
    entry = _entry()
    equivalents = {mutation.signature("pascanu2013.clipping", "clip", DIFF): "same result"}
    own = mutation.own_test_ids(entry, "pascanu2013.clipping")
    s = mutation.score(entry, equivalents, own)
    assert (s.mutants, s.killed, s.equivalent, s.timeout, s.no_tests) == (6, 3, 1, 1, 1)
    assert (s.checked, s.survived) == (5, 2) and s.ratio == pytest.approx(0.6)
    everyone = mutation.score(entry, {}, None)
    assert (everyone.killed, everyone.survived) == (4, 2)
    left = mutation.survivors(entry, equivalents, "pascanu2013.clipping")
    assert [x["key"] for x in left] == ["x_clip__mutmut_3", "x_clip__mutmut_5", "x_clip__mutmut_6"]
    assert [x["reason"] for x in left] == [None, "same result", None]


def test_claim_score_and_line(tmp_path: Path) -> None:
    """A claim's box counts the mutants its own tests kill, over the modules it declares."""
    data = tmp_path / "data" / "pascanu2013"
    data.mkdir(parents=True)
    (data / "mutation.json").write_text(json.dumps({"modules": {"clipping": _entry()}}))
    (data / "mutation-equivalent.yaml").write_text(
        f"- signature: {mutation.signature('pascanu2013.clipping', 'clip', DIFF)}\n"
        "  reason: '> and >= agree: the norm never equals the threshold here'\n")
    rec = mutation.Records.load(tmp_path)
    s, missing = rec.claim_score(["pascanu2013.clipping"], [f"{OWN}::test_b"])
    assert (s.killed, s.checked, missing) == (2, 5, [])  # mutmut_1 and mutmut_2; test_b is parametrized
    line = mutation.claim_line(["pascanu2013.clipping"], [f"{OWN}::test_b"], rec)
    assert line == ("돌연변이 검사: 이 주장의 테스트가 `clipping` 모듈의 돌연변이 5개 중 2개를 잡아냄 "
                    "(등가 1개 제외).")
    both = mutation.claim_line(["pascanu2013.clipping", "common.train"], [f"{OWN}::test_a"], rec)
    assert both.endswith("`common.train`: 이 주장의 테스트로는 아직 측정하지 않음.")
    assert "5개 중 2개" in both  # test_a kills mutmut_1 and ran on the timed-out mutmut_4
    assert "밝히지 않았습니다" in mutation.claim_line([], [], rec)
    assert rec.module_score("pascanu2013.clipping").killed == 3
    assert rec.module_score("common.train") is None


def test_bad_records_are_clear_errors(tmp_path: Path) -> None:
    """A corrupted record or an equivalence without a one-line reason is an error naming the file."""
    bad = tmp_path / "mutation.json"
    bad.write_text("{not json")
    with pytest.raises(mutation.MutationRecordError, match="corrupted mutation record"):
        mutation.load_record(bad)
    bad.write_text("[]")
    with pytest.raises(mutation.MutationRecordError, match="no 'modules' mapping"):
        mutation.load_record(bad)
    assert mutation.load_record(tmp_path / "missing.json") == {"modules": {}}
    eq = tmp_path / "eq.yaml"
    eq.write_text("- signature: abc\n")
    with pytest.raises(mutation.MutationRecordError, match="one-line 'reason'"):
        mutation.load_equivalents(eq)
    eq.write_text("- signature: abc\n  reason: |\n    two\n    lines\n")
    with pytest.raises(mutation.MutationRecordError, match="one-line 'reason'"):
        mutation.load_equivalents(eq)
    eq.write_text("- reason: x\n")
    with pytest.raises(mutation.MutationRecordError, match="no 'signature'"):
        mutation.load_equivalents(eq)
    with pytest.raises(mutation.MutationRecordError, match="<paper>.<module>"):
        mutation.split_module("clipping")


def test_content_hash_follows_source_and_own_tests(tmp_path: Path) -> None:
    """A record is stale when the module's source or its own test file changes."""
    src = tmp_path / "notes_code" / "p" / "m.py"
    test = tmp_path / "tests" / "p" / "test_m.py"
    src.parent.mkdir(parents=True)
    test.parent.mkdir(parents=True)
    src.write_text("x = 1\n")
    test.write_text("def test(): pass\n")
    first = mutation.content_hash(tmp_path, "p.m")
    test.write_text("def test(): assert True\n")
    second = mutation.content_hash(tmp_path, "p.m")
    src.write_text("x = 2\n")
    assert len({first, second, mutation.content_hash(tmp_path, "p.m")}) == 3


def test_survivors_section_escapes_text(tmp_path: Path) -> None:
    """The claims index lists survivors with diffs in fences longer than any backtick run, reasons escaped."""
    entry = _entry()
    entry["mutants"]["x_clip__mutmut_5"]["diff"] = DIFF + "\n+    s = '```<script>'"
    sig = entry["mutants"]["x_clip__mutmut_5"]["signature"]
    rec = mutation.Records({"pascanu2013.clipping": entry}, {"pascanu2013": {sig: "a <b> & c"}}, {})
    md = mutation.survivors_markdown(rec, ["pascanu2013.clipping", "common.train"])
    assert "등가: a &lt;b&gt; &amp; c" in md and "<b>" not in md
    assert "    ````diff" in md
    assert "| `pascanu2013.clipping` | 6 | 3 | 1 | 2 | ✗ 60.0% |" in md
    assert "| `common.train` | — | — | — | — | 기록 없음 | — |" in md
    assert "미해결: 이 모듈의 테스트가 잡지 못함 (이 함수를 실행하는 테스트 없음)" in md


def _project(tmp_path: Path, marker: str) -> Path:
    (tmp_path / "notes_code" / "pascanu2013").mkdir(parents=True)
    (tmp_path / "notes_code" / "pascanu2013" / "clipping.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        f"import pytest\n\n\n{marker}\ndef test_x():\n    pass\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "n.md").write_text('!!! claim "n/a"\n    text\n')
    return tmp_path


def test_claim_markers_declare_modules(tmp_path: Path) -> None:
    """The AST scan reads modules= of a claim marker; a claim's modules are its tests' union."""
    root = _project(tmp_path, '@pytest.mark.claim("n/a", modules=["pascanu2013.clipping"])')
    index = claims.build_index(root)
    assert index.problems() == []
    assert index.tests["n/a"][0].modules == ("pascanu2013.clipping",)
    assert index.modules_of("n/a") == ["pascanu2013.clipping"]


@pytest.mark.parametrize("marker, message", [
    ('@pytest.mark.claim("n/a", modules=["pascanu2013.clippin"])', "unknown module 'pascanu2013.clippin'"),
    ('@pytest.mark.claim("n/a", modules=["clipping"])', "unknown module 'clipping'"),
    ('@pytest.mark.claim("n/a", modules=MODS)', "modules= must be a list of string literals"),
])
def test_unknown_modules_are_errors_naming_file_and_line(tmp_path: Path, marker: str, message: str) -> None:
    """Integrity: a module name that is not a file of notes_code is an error at file:line."""
    root = _project(tmp_path, marker)
    problems = claims.build_index(root).problems()
    assert len(problems) == 1
    assert problems[0].startswith(f"{root / 'tests' / 'test_x.py'}:4: ") and message in problems[0]


def test_render_shows_the_mutation_line(tmp_path: Path) -> None:
    """The claim box gets the Korean mutation sentence from the recorded file."""
    data = tmp_path / "data" / "pascanu2013"
    data.mkdir(parents=True)
    (data / "mutation.json").write_text(json.dumps({"modules": {"clipping": _entry()}}))
    ref = claims.TestRef("n/a", f"{OWN}::test_a", Path(OWN), 1, "test_a", ("pascanu2013.clipping",))
    index = ClaimIndex(claims={"n/a": claims.Claim("n/a", tmp_path / "p.md", 1)}, tests={"n/a": [ref]},
                       docs_dir=tmp_path)
    out = render_claims('!!! claim "n/a"\n    text\n', "p.md", index, {"tests": {}})
    assert ('<span class="claim-mutation">돌연변이 검사: 이 주장의 테스트가 `clipping` 모듈의 '
            "돌연변이 6개 중 2개를 잡아냄.</span>") in out


def test_recorder_writes_failed_test_ids(tmp_path: Path) -> None:
    """The mutmut-side plugin records which tests failed on the mutant named by MUTANT_UNDER_TEST."""
    (tmp_path / "test_m.py").write_text(
        "import pytest\n\ndef test_ok():\n    pass\n\ndef test_bad():\n    assert False\n\n"
        "@pytest.mark.parametrize('x', [1, 2])\ndef test_p(x):\n    assert x == 1\n")
    env = dict(os.environ, MUTANT_UNDER_TEST="pkg.mod.x_f__mutmut_1",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    cmd = [sys.executable, "-m", "pytest", "-x", "--maxfail=0", "-q", "-p", "no:cacheprovider",
           "-p", "notes_code.kb.mutation_recorder", "test_m.py"]
    subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=120)
    data = json.loads((tmp_path / ".mutation-failures" / "pkg.mod.x_f__mutmut_1.json").read_text())
    assert data["failed"] == ["test_m.py::test_bad", "test_m.py::test_p[2]"]
    assert len(data["ran"]) == 4 and data["exit"] == 1
    env["MUTANT_UNDER_TEST"] = "stats"
    (tmp_path / ".mutation-failures" / "pkg.mod.x_f__mutmut_1.json").unlink()
    subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=120)
    assert list((tmp_path / ".mutation-failures").iterdir()) == []


def _script():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "mutate.py"
    spec = importlib.util.spec_from_file_location("mutate_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_module_runs_with_its_own_tests_and_its_claims_tests() -> None:
    """make mutate: a module's run selects its own test file plus the (not slow) tests of claims naming it."""
    script = _script()
    sel = script.selection("pascanu2013.clipping")
    assert sel[0] == "tests/pascanu2013/test_clipping.py"
    assert "tests/pascanu2013/test_error_surface.py::test_clipping_stabilizes_descent_at_the_wall" in sel
    assert not any(s.startswith(script.SLOW_TEST_FILES) for s in sel)
    got = script.resolve(["clipping", "hochreiter1997.lstm"])
    assert got == ["pascanu2013.clipping", "hochreiter1997.lstm"]
    with pytest.raises(SystemExit, match="unknown or ambiguous module 'nope'"):
        script.resolve(["nope"])


def test_mutmut_section_is_replaced_in_the_copy() -> None:
    """The per-module copy's pyproject mutates only that module; other sections are kept."""
    script = _script()
    text = '[tool.a]\nx = 1\n\n[tool.mutmut]\nonly_mutate = ["all"]\n\n[tool.b]\ny = 2\n'
    section = script._mutmut_section("pascanu2013.init", ["tests/pascanu2013/test_init.py"])
    out = script._with_section(text, section)
    import tomllib

    data = tomllib.loads(out)
    assert data["tool"]["a"] == {"x": 1} and data["tool"]["b"] == {"y": 2}
    assert data["tool"]["mutmut"]["only_mutate"] == ["notes_code/pascanu2013/init.py"]
    assert data["tool"]["mutmut"]["pytest_add_cli_args_test_selection"] == ["tests/pascanu2013/test_init.py"]
    assert "--maxfail=0" in data["tool"]["mutmut"]["pytest_add_cli_args"]


def test_pytest_rejects_an_unknown_module(tmp_path: Path) -> None:
    """Integrity at collection too: modules= naming no file of notes_code fails pytest at file:line."""
    from tests.kb.test_claims import TEST, fixture_project, pytest_in

    test = TEST.replace('claim("fx/doubling")', 'claim("fx/doubling", modules=["fx.nomodule"])')
    fixture_project(tmp_path, test=test)
    proc = pytest_in(tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "unknown module 'fx.nomodule'" in out and "test_fxmod.py:5" in out, out


def test_compact_diff_keeps_changes_and_one_line_around() -> None:
    """Claims index (issue #10): a survivor's diff shows every changed line with its neighbours."""
    diff = ("--- a.py\n+++ a.py\n@@ -1,9 +1,9 @@\n def f():\n     a = 1\n-    b = 2\n+    b = 3\n"
            "     c = 4\n     d = 5\n     e = 6\n-    g = 7\n+    g = 8\n     h = 9")
    assert mutation.compact_diff(diff) == ("     a = 1\n-    b = 2\n+    b = 3\n     c = 4\n …\n"
                                     "     e = 6\n-    g = 7\n+    g = 8\n     h = 9")
    assert mutation.compact_diff(diff, context=0) == "-    b = 2\n+    b = 3\n …\n-    g = 7\n+    g = 8"
    # Adjacent changes are one run; a diff with no change lines passes through.
    assert mutation.compact_diff("--- a\n+++ a\n x\n-y\n+z\n w") == " x\n-y\n+z\n w"
    assert mutation.compact_diff(" x\n y") == " x\n y"

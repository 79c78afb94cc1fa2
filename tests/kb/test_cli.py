"""The ``notes`` command: ``new`` scaffolds a note that checks and builds, refuses bad input
without writing anything, ``check`` flags only the intentional stub, ``list`` tabulates.

Everything runs in temporary projects (see ``tests/kb/test_lint.py::make_project``).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from notes_code.kb import cli, lint
from notes_code.kb import references as kb_refs
from tests.kb.conftest import ROOT, make_fixture_site, run_build
from tests.kb.test_lint import REFERENCES, make_project

SLUG = "hong2024"
NEW = ["new", SLUG, "--title", "순환 신경망 학습의 어려움: 다시 읽기",
       "--authors", "Gildong Hong", "Kim, C.", "--year", "2024", "--arxiv", "1211.5063"]
CREATED = [f"docs/papers/{SLUG}/index.md", f"notes_code/{SLUG}/__init__.py",
           f"tests/{SLUG}/__init__.py", f"tests/{SLUG}/test_{SLUG}.py"]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (``None``) under ``root``."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def run(root: Path, *argv: str) -> int:
    return cli.main([*argv, "--root", str(root)])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project (no notes yet) with one bibliography entry and a comment."""
    return make_project(tmp_path / "proj", note=None, test=None)


def test_new_creates_the_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`new` writes the note, package, test stub and bibliography entry, and prints them."""
    assert run(project, *NEW) == 0
    out = capsys.readouterr().out
    for rel in CREATED:
        assert (project / rel).is_file()
        assert rel in out
    assert "next steps" in out and f"make test-note NOTE={SLUG}" in out

    note = (project / CREATED[0]).read_text(encoding="utf-8")
    meta = yaml.safe_load(note.split("---\n")[1])
    assert meta == {"title": "순환 신경망 학습의 어려움: 다시 읽기", "authors": ["Gildong Hong", "Kim, C."],
                    "year": 2024, "status": "읽는 중", "tags": [], "date_read": dt.date.today(),
                    "arxiv": "1211.5063"}
    headings = [line[3:] for line in note.splitlines() if line.startswith("## ")]
    assert headings == list(lint.REQUIRED_SECTIONS)
    bib_section = note.split("## 서지 정보")[1].split("## 요약")[0]
    assert f"[@{SLUG}]" in bib_section
    refs_section = note.split("## 후속 참고문헌")[1].split("## 학습 회고")[0]
    assert "<!-- bibliography -->" in refs_section.splitlines()
    assert f'!!! claim "{SLUG}/example-claim"' in note and "TODO" in note

    package = (project / CREATED[1]).read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(package))
    assert "Gildong Hong and Kim, C. (2024)" in docstring and "https://arxiv.org/abs/1211.5063" in docstring

    stub = (project / CREATED[3]).read_text(encoding="utf-8")
    assert f'@pytest.mark.claim("{SLUG}/example-claim")' in stub
    assert 'pytest.fail("TODO' in stub and "STUB" in stub

    refs_text = (project / "references.yaml").read_text(encoding="utf-8")
    assert refs_text.startswith(REFERENCES)  # appended: the comment and old entries survive
    entry = kb_refs.load(project / "references.yaml")[SLUG]
    assert (entry.authors, entry.year, entry.status, entry.note, entry.url) == (
        "Hong, G. and Kim, C.", 2024, "읽는 중", SLUG, "https://arxiv.org/abs/1211.5063")
    assert entry.title == "순환 신경망 학습의 어려움: 다시 읽기"


def test_new_stub_fails_under_pytest(project: Path) -> None:
    """The generated claim test fails (pytest.fail) until someone writes it."""
    assert run(project, *NEW) == 0
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", f"tests/{SLUG}/test_{SLUG}.py"],
                          cwd=project, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "TODO: write this test" in proc.stdout


def test_new_then_check_reports_only_the_stub(project: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`new`, then `check`: the one problem is the intentional stub (exit 1, one line)."""
    assert run(project, *NEW) == 0
    capsys.readouterr()
    assert run(project, "check") == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1, out
    assert out[0].startswith(f"tests/{SLUG}/test_{SLUG}.py:")
    assert f"claim '{SLUG}/example-claim' is the intentional stub from `notes new`" in out[0]


def test_new_note_builds_in_a_fixture_site(project: Path, tmp_path: Path) -> None:
    """The scaffolded note, package, stub and bibliography build a strict site (real mkdocs)."""
    assert run(project, *NEW) == 0
    read = lambda rel: (project / rel).read_text(encoding="utf-8")  # noqa: E731
    config = make_fixture_site(
        tmp_path / "site", {"index.md": "# 홈\n", f"papers/{SLUG}/index.md": read(CREATED[0])},
        tests={f"{SLUG}/__init__.py": read(CREATED[2]), f"{SLUG}/test_{SLUG}.py": read(CREATED[3])},
        references=read("references.yaml"))
    (tmp_path / "site" / "notes_code").mkdir(exist_ok=True)
    # the fixture's own notes_code/ shadows this repository's: let it find notes_code.kb here
    (tmp_path / "site" / "notes_code" / "__init__.py").write_text(
        f"__path__.append({str(ROOT / 'notes_code')!r})\n", encoding="utf-8")
    shutil.copytree(project / "notes_code" / SLUG, tmp_path / "site" / "notes_code" / SLUG)
    proc = run_build(config, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr[-4000:]
    html = (tmp_path / "out" / "papers" / SLUG / "index.html").read_text(encoding="utf-8")
    assert "순환 신경망 학습의 어려움" in html and f"ref-{SLUG}" in html
    assert f"{SLUG}/example-claim" in html


def test_generated_python_is_lint_clean(tmp_path: Path) -> None:
    """Even with a 64-character slug, the generated Python passes ruff (project rules, 100 columns)."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    project = make_project(tmp_path / "proj", note=None, test=None)
    slug = "a" * 64
    assert run(project, "new", slug, "--title", "A long title " * 12, "--authors", "A. Author",
               "--year", "2020") == 0
    proc = subprocess.run([ruff, "check", "--no-cache", "--isolated", "--line-length", "100",
                           "--select", "E,F,W,I,B,UP", "--target-version", "py311",
                           "notes_code", "tests"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_console_entry_point(project: Path) -> None:
    """`python -m notes_code.kb.cli` runs main() (the `notes` script points there)."""
    proc = subprocess.run([sys.executable, "-m", "notes_code.kb.cli", "list", "--root", str(project)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "slug" in proc.stdout


# --- hostile input: exit 2, one clear line, nothing written ------------------------------

HOSTILE = {
    "existing slug": ([*NEW], "already exists"),
    "bibliography key with a note": (["new", "withnote"], "already has the note 'elsewhere'"),
    "unknown key without title": (["new", "x", "--authors", "a", "--year", "2020"],
                                  "'x' is not in references.yaml yet, so --title is required"),
    "bad doi": (["new", "x", "--title", "t", "--authors", "a", "--year", "2020", "--doi", "72.279181"],
                "is not a DOI"),
    "bad url": (["new", "x", "--title", "t", "--authors", "a", "--year", "2020", "--url", "ftp://x y"],
                "is not an http(s):// address"),
    "parent path": (["new", "../x", "--title", "t", "--authors", "a", "--year", "2020"],
                    "looks like a path"),
    "absolute path": (["new", "/abs", "--title", "t", "--authors", "a", "--year", "2020"],
                      "looks like a path"),
    "empty": (["new", "", "--title", "t", "--authors", "a", "--year", "2020"], "slug is empty"),
    "200 chars": (["new", "a" * 200, "--title", "t", "--authors", "a", "--year", "2020"],
                  "too long (200 characters; at most 64)"),
    "korean": (["new", "파스카누", "--title", "t", "--authors", "a", "--year", "2020"],
               "must be lowercase ASCII"),
    "subfolder": (["new", "a/b", "--title", "t", "--authors", "a", "--year", "2020"],
                  "looks like a path"),
    "uppercase": (["new", "Pascanu2013", "--title", "t", "--authors", "a", "--year", "2020"],
                  "must be lowercase (try 'pascanu2013')"),
    "hyphen": (["new", "on-rnn", "--title", "t", "--authors", "a", "--year", "2020"],
               "use '_' (try 'on_rnn')"),
    "digit first": (["new", "2013pascanu", "--title", "t", "--authors", "a", "--year", "2020"],
                    "must start with a letter"),
    "keyword": (["new", "class", "--title", "t", "--authors", "a", "--year", "2020"],
                "Python keyword"),
    "reserved": (["new", "kb", "--title", "t", "--authors", "a", "--year", "2020"], "reserved"),
    "bad year": (["new", "x", "--title", "t", "--authors", "a", "--year", "20x"],
                 "--year must be a 4-digit year"),
    "year out of range": (["new", "x", "--title", "t", "--authors", "a", "--year", "1850"],
                          "between 1900 and 2100"),
    "empty title": (["new", "x", "--title", "  ", "--authors", "a", "--year", "2020"],
                    "--title is empty"),
    "multi-line title": (["new", "x", "--title", "a\nb", "--authors", "a", "--year", "2020"],
                         "must be one line"),
    "bad arxiv": (["new", "x", "--title", "t", "--authors", "a", "--year", "2020",
                   "--arxiv", "not-an-id"], "is not an arXiv id"),
    "missing option": (["new", "x", "--title", "t", "--year", "2020"],
                       "so --authors is required"),
}


WITH_NOTE = """withnote:
  authors: Other, O.
  title: Has a note under another slug
  year: 2001
  status: 읽음
  note: elsewhere
"""


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_input_writes_nothing(project: Path, case: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input exits 2 with one clear line on stderr, and the tree is byte-for-byte unchanged."""
    argv, message = HOSTILE[case]
    if case == "existing slug":
        assert run(project, *NEW) == 0
    if case == "bibliography key with a note":
        with open(project / "references.yaml", "a", encoding="utf-8") as f:
            f.write(WITH_NOTE)
    before = snapshot(project)
    capsys.readouterr()
    assert run(project, *argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "error:" in err and message in err, err
    assert snapshot(project) == before


CITED = """# a comment that must survive
pascanu2013:
  authors: Pascanu, R., Mikolov, T. and Bengio, Y.
  title: On the difficulty of training recurrent neural networks
  year: 2013
  status: 읽음
  note: pascanu2013
bengio1994:
  authors: Bengio, Y., Simard, P. and Frasconi, P.
  short: Bengio et al. 1994
  title: Learning long-term dependencies with gradient descent is difficult
  venue: IEEE Transactions on Neural Networks, 5(2), 157–166
  year: 1994
  url: https://doi.org/10.1109/72.279181
  status: 읽을 예정
# a comment after the entry
strogatz1994:
  authors: Strogatz, S.
  title: "Nonlinear Dynamics and Chaos: With Applications"
  year: 1994
  status: 읽을 예정
"""


def test_new_adopts_a_cited_entry_without_a_note(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Issue #12: `notes new bengio1994` (already cited, no note) adopts the entry: its fields,
    position and the file's comments are kept; only `note:` and `status:` change."""
    root = make_project(tmp_path / "p", note=None, test=None, references=CITED)
    before = yaml.safe_load(CITED)
    assert run(root, "new", "bengio1994") == 0
    out = capsys.readouterr().out
    assert "adopted" in out and "docs/papers/bengio1994/index.md" in out
    text = (root / "references.yaml").read_text(encoding="utf-8")
    after = yaml.safe_load(text)
    assert list(after) == list(before)  # same keys, same order
    assert after["bengio1994"] == {**before["bengio1994"], "status": "읽는 중", "note": "bengio1994"}
    assert {k: v for k, v in after.items() if k != "bengio1994"} == \
        {k: v for k, v in before.items() if k != "bengio1994"}
    assert text.startswith("# a comment that must survive\n") and "# a comment after the entry\n" in text
    meta = yaml.safe_load((root / "docs/papers/bengio1994/index.md").read_text().split("---\n")[1])
    assert meta["title"] == "Learning long-term dependencies with gradient descent is difficult"
    assert meta["authors"] == ["Bengio, Y.", "Simard, P.", "Frasconi, P."] and meta["year"] == 1994
    assert kb_refs.load(root / "references.yaml")["bengio1994"].note == "bengio1994"
    # adopted once: now it has a note, and a second `new` is refused
    assert run(root, "new", "bengio1994") == 2


def test_new_adoption_keeps_fields_and_fills_missing_ones(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Flags fill fields the entry lacks (venue, url); they never overwrite the ones it has."""
    root = make_project(tmp_path / "p", note=None, test=None, references=CITED)
    assert run(root, "new", "strogatz1994", "--title", "Other title", "--venue", "Perseus",
               "--doi", "https://doi.org/10.1201/9780429492563") == 0
    assert "title: kept" in capsys.readouterr().out
    entry = yaml.safe_load((root / "references.yaml").read_text(encoding="utf-8"))["strogatz1994"]
    assert entry["title"] == "Nonlinear Dynamics and Chaos: With Applications"
    assert entry["venue"] == "Perseus" and entry["url"] == "https://doi.org/10.1201/9780429492563"


def test_new_entry_has_venue_doi_and_file_style_authors(project: Path) -> None:
    """--venue and --doi reach the new entry; authors are written 'Surname, I.' like the file."""
    assert run(project, "new", "bengio1994", "--title", "Learning long-term dependencies",
               "--authors", "Yoshua Bengio", "Patrice Simard", "Paolo Frasconi", "--year", "1994",
               "--venue", "IEEE Transactions on Neural Networks, 5(2), 157–166",
               "--doi", "10.1109/72.279181") == 0
    entry = kb_refs.load(project / "references.yaml")["bengio1994"]
    assert entry.authors == "Bengio, Y., Simard, P. and Frasconi, P."
    assert entry.short == "Bengio et al. 1994"
    assert entry.venue == "IEEE Transactions on Neural Networks, 5(2), 157–166"
    assert entry.url == "https://doi.org/10.1109/72.279181"
    keys = list(yaml.safe_load((project / "references.yaml").read_text())["bengio1994"])
    assert keys == ["authors", "short", "title", "venue", "year", "url", "status", "note"]


@pytest.mark.parametrize(("given", "written"), [
    ("Yoshua Bengio", "Bengio, Y."), ("Felix A. Gers", "Gers, F. A."), ("Kim, C.", "Kim, C."),
    ("Jean-Pierre Serre", "Serre, J.-P."), ("Laurens van der Maaten", "van der Maaten, L."),
])
def test_bib_name_style(given: str, written: str) -> None:
    """Authors are written in references.yaml's one style, and split back to the same names."""
    from notes_code.kb import template
    assert template.bib_name(given) == written
    names = [template.bib_name(n) for n in ("Yoshua Bengio", given, "Felix A. Gers")]
    assert template.split_bib_authors(template.author_list(names)) == names


def test_existing_folder_alone_blocks_new(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Any one existing target (here only tests/<slug>/) stops `new` before it writes anything."""
    (project / "tests" / SLUG).mkdir()
    before = snapshot(project)
    assert run(project, *NEW) == 2
    assert f"tests/{SLUG}/" in capsys.readouterr().err
    assert snapshot(project) == before


def test_failed_write_midway_is_rolled_back(project: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """If the third file cannot be written, the first two and their folders are removed (exit 1)."""
    before = snapshot(project)
    real = cli._write_new
    calls = []

    def flaky(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(cli, "_write_new", flaky)
    assert run(project, *NEW) == 1
    assert "removed what was created" in capsys.readouterr().err
    assert snapshot(project) == before


def test_failed_bibliography_append_is_rolled_back(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """If writing references.yaml fails after a partial write, the file is restored too."""
    before = snapshot(project)

    class Broken:
        def __init__(self, path, mode, **kw):
            self.f = open(path, mode, **kw)  # noqa: SIM115

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, text):
            self.f.write(text[:10])
            self.f.flush()
            raise OSError(5, "Input/output error", "references.yaml")

    def fake_open(path, mode="r", **kw):
        return Broken(path, mode, **kw) if mode in "aw" else open(path, mode, **kw)

    monkeypatch.setattr(cli, "open", fake_open, raising=False)
    assert run(project, *NEW) == 1
    capsys.readouterr()
    assert snapshot(project) == before


# --- list -----------------------------------------------------------------------------------

def test_list_shows_slug_and_claim_count(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`list` has a row per note: slug, year, status, claim count, and n/a before any run."""
    assert run(project, *NEW) == 0
    capsys.readouterr()
    assert run(project, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["slug", "year", "status", "claims", "pass", "rate"]
    assert lines[1].split() == [SLUG, "2024", "읽는", "중", "1", "n/a"]


def test_list_pass_rate_from_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The pass rate comes from reports/claims.json: passed claims over claims that ran."""
    root = make_project(tmp_path)
    report = {"tests": {"tests/fx/test_fx.py::test_one": {"claims": ["fx/one"], "outcome": "passed"}}}
    (root / "reports").mkdir()
    (root / "reports" / "claims.json").write_text(json.dumps(report), encoding="utf-8")
    assert run(root, "list") == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row == ["fx", "2020", "읽음", "1", "1/1", "(100%)"]


def test_pass_rate() -> None:
    """n/a when no claim passed or failed; skipped and not-run claims are left out."""
    assert cli.pass_rate([]) == "n/a"
    assert cli.pass_rate(["not-run", "skipped"]) == "n/a"
    assert cli.pass_rate(["passed", "failed", "not-run"]) == "1/2 (50%)"


def test_not_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--root pointing at a folder without references.yaml and docs/ is a clear usage error."""
    assert cli.main(["check", "--root", str(tmp_path)]) == 2
    assert "not a notes project" in capsys.readouterr().err

"""`make browser-deps` on a machine without chromium, without removing the real one (issue #12).

The recipe runs with ``CHROMIUM`` pointing at a missing file and fake ``apt-get``, ``sudo``,
``id`` and ``fc-list`` first on ``PATH``; each fake records how it was called. Checked: as root
it runs ``apt-get`` itself; as a user with password-less sudo it runs ``sudo apt-get``; as a user
without sudo (or whose sudo asks for a password) it stops with one line naming the command; an
``apt-get`` failure or a chromium still missing afterwards is one clear line too. The real
``apt-get`` is never reached (the fakes shadow it and the log proves they ran).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.kb.conftest import ROOT

PACKAGES = "chromium fonts-noto-cjk"
INSTALL = "install -y -qq --no-install-recommends"


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def fake(tmp_path: Path):
    """A folder of fake commands; returns ``run(uid, sudo=..., fonts=..., apt_rc=..., installs=...)``."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    chromium = tmp_path / "usr" / "bin" / "chromium"  # missing until the fake apt-get "installs" it

    def run(uid: int, sudo: str = "none", fonts: bool = False, apt_rc: int = 0,
            installs: bool = True) -> tuple[subprocess.CompletedProcess, list[str]]:
        _script(bin_dir / "id", f'[ "$1" = -u ] && echo {uid} || exec /usr/bin/id "$@"\n')
        fc_list = "echo 'NotoSansCJK-Regular.ttc: Noto Sans CJK KR'\n" if fonts else "true\n"
        _script(bin_dir / "fc-list", fc_list)
        exe = shlex.quote(str(chromium))
        install = (f'mkdir -p {shlex.quote(str(chromium.parent))}; printf "#!/bin/sh\\n" > {exe}; '
                   f"chmod 755 {exe}\n") if installs else ""
        _script(bin_dir / "apt-get",
                f'echo "apt-get uid=$FAKE_UID frontend=$DEBIAN_FRONTEND $*" >> {shlex.quote(str(log))}\n'
                f'[ "$1" = install ] && [ {apt_rc} = 0 ] && {{ {install or "true;"} }}\n'
                f"exit {apt_rc}\n")
        if sudo == "ok":  # password-less: `sudo -n true` succeeds; runs the command as root
            _script(bin_dir / "sudo", f'echo "sudo $*" >> {shlex.quote(str(log))}\n'
                                      '[ "$1" = -n ] && shift\n'
                                      'exec env -i PATH="$PATH" FAKE_UID=0 "$@"\n')  # env_reset, like sudo
        elif sudo == "password":  # asks for a password: `sudo -n` fails
            _script(bin_dir / "sudo", f'echo "sudo $*" >> {shlex.quote(str(log))}\n'
                                      'echo "sudo: a password is required" >&2; exit 1\n')
        else:
            (bin_dir / "sudo").unlink(missing_ok=True)
        env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_UID": str(uid)}
        env.pop("USER_ID", None)
        env.pop("SUDO", None)
        proc = subprocess.run(["make", "-s", "--no-print-directory", "browser-deps", f"CHROMIUM={chromium}"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        if chromium.exists():
            chromium.unlink()
        return proc, calls

    return run


def _our_lines(stderr: str) -> list[str]:
    """stderr without make's own ``make: *** [...] Error 1`` line."""
    return [line for line in stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\*", line)]


def test_as_root_runs_apt_get_itself(fake) -> None:
    """Issue #12 (fresh machine, root): apt-get update, then install of both packages, non-interactive."""
    proc, calls = fake(0)
    assert proc.returncode == 0, proc.stderr
    assert calls == ["apt-get uid=0 frontend=noninteractive update -qq",
                     f"apt-get uid=0 frontend=noninteractive {INSTALL} {PACKAGES}"]
    assert proc.stdout.strip() == f"== installing {PACKAGES} (apt-get, about a minute)"


def test_as_user_with_sudo_runs_sudo_apt_get(fake) -> None:
    """Issue #12 (non-root with password-less sudo): `sudo apt-get`, DEBIAN_FRONTEND kept through sudo."""
    proc, calls = fake(1000, sudo="ok")
    assert proc.returncode == 0, proc.stderr
    apt = [c for c in calls if c.startswith("apt-get")]
    assert apt == ["apt-get uid=0 frontend=noninteractive update -qq",
                   f"apt-get uid=0 frontend=noninteractive {INSTALL} {PACKAGES}"]
    assert calls[0] == "sudo -n true"
    assert [c for c in calls if c.startswith("sudo env")] == [
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq",
        f"sudo env DEBIAN_FRONTEND=noninteractive apt-get {INSTALL} {PACKAGES}"]


@pytest.mark.parametrize("sudo", ["none", "password"])
def test_as_user_without_usable_sudo_names_the_command(fake, sudo: str) -> None:
    """Issue #12 (non-root, no sudo, or sudo wants a password): one line naming the command, no apt-get."""
    proc, calls = fake(1000, sudo=sudo)
    assert proc.returncode != 0
    assert not [c for c in calls if c.startswith("apt-get")]
    assert _our_lines(proc.stderr) == [
        f"make: the browser tests need: {PACKAGES}; install them with: sudo apt-get install -y {PACKAGES}"]


def test_only_the_missing_package_is_installed(fake) -> None:
    """Issue #12: with the font present only chromium is installed."""
    proc, calls = fake(0, fonts=True)
    assert proc.returncode == 0, proc.stderr
    assert calls[-1] == f"apt-get uid=0 frontend=noninteractive {INSTALL} chromium"


def test_apt_get_failure_is_one_clear_line(fake) -> None:
    """Issue #12: apt-get failing (no network, locked dpkg) stops with one line naming the command."""
    proc, calls = fake(0, apt_rc=100)
    assert proc.returncode != 0 and calls  # the fake ran (the real apt-get was shadowed)
    assert _our_lines(proc.stderr) == [
        f"make: apt-get could not install {PACKAGES}; install them with: apt-get install -y {PACKAGES}"]


def test_chromium_still_missing_after_apt_get(fake) -> None:
    """Issue #12: apt-get succeeded but the browser is not where CHROMIUM says: say so, fail."""
    proc, _ = fake(0, installs=False)
    assert proc.returncode != 0
    lines = _our_lines(proc.stderr)
    assert len(lines) == 1 and "is still missing after apt-get" in lines[0]


def test_nothing_to_do_touches_nothing(fake, tmp_path: Path) -> None:
    """Issue #12: chromium and the font present: no apt-get, no sudo, no output."""
    present = tmp_path / "chromium-present"
    _script(present, "")
    proc, calls = fake(1000, sudo="ok", fonts=True)  # warm up the fakes
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "FAKE_UID": "1000"}
    proc = subprocess.run(["make", "-s", "--no-print-directory", "browser-deps", f"CHROMIUM={present}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == proc.stderr == ""
    assert not (tmp_path / "calls.log").exists()


def test_ci_and_make_test_use_this_step() -> None:
    """Issue #12: `.ci/run` has no apt-get of its own; it and `make test` go through `make browser-deps`."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert not [c for c in commands if "apt-get" in c]
    assert "make browser-deps" in commands and "make test" in commands
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: .*\bbrowser-deps\b", makefile, re.M)
    assert len(re.findall(r"apt-get install -y -qq", makefile)) == 1  # one recipe installs

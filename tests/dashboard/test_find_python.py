"""The Makefile's interpreter search: a Python 3.12+ when there is one, a clear request when not."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "find-python.sh"


def run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_it_finds_a_recent_python(tmp_path):
    import sys

    (tmp_path / "python3").symlink_to(sys.executable)  # this suite's own interpreter is 3.12+
    result = run({"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "none")})
    assert result.returncode == 0, result.stderr
    out = subprocess.run(
        [result.stdout.strip(), "-c", "import sys; print(sys.version_info >= (3, 12))"], capture_output=True, text=True
    )
    assert out.stdout.strip() == "True"


def test_it_says_what_to_install_when_there_is_none(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexit 1\n")  # an old or broken python: it fails the version check
    fake.chmod(0o755)
    result = run({"PATH": f"{tmp_path}:/nonexistent", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "none")})
    assert result.returncode == 1
    assert "No Python 3.12 or newer found" in result.stderr
    assert "pyenv install 3.13" in result.stderr and "brew install python@3.13" in result.stderr

"""`import numbers` is the standard library's module however the project is started, and the app
package (`numbers/numbers_app`) imports beside it in every order."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STDLIB_NUMBERS = "import numbers, sysconfig; assert numbers.__file__.startswith(sysconfig.get_path('stdlib')), numbers"


def run(args, cwd=ROOT, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env={**clean, **env}, timeout=120)


def test_the_standard_module_comes_first_even_with_decimal_imported_before_the_app():
    code = (
        "import decimal, fractions\n"
        "import dashboard\n"
        "import numbers_app.staffify, numbers_app.rules\n"
        f"{STDLIB_NUMBERS}\n"
        "assert isinstance(decimal.Decimal('1.5'), numbers.Number)\n"
        "assert isinstance(fractions.Fraction(1, 3), numbers.Rational)\n"
        "print(numbers_app.rules.PRICE_PER_CYCLE)"
    )
    result = run([sys.executable, "-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5.00"


def test_the_app_imports_when_started_from_another_folder(tmp_path):
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "import decimal, django, dashboard\n"
        "django.setup()\n"
        "import numbers_app.owned.views\n"
        f"{STDLIB_NUMBERS}"
    )
    result = run([sys.executable, "-c", code], cwd=tmp_path, DJANGO_SETTINGS_MODULE="dashboard.settings", DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_the_wsgi_entry_point_gunicorn_loads_keeps_the_standard_module():
    code = f"import dashboard.wsgi, numbers_app.staffify\n{STDLIB_NUMBERS}"
    result = run([sys.executable, "-c", code], DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_manage_py_shell_sees_the_standard_module():
    result = run(
        [sys.executable, "manage.py", "shell", "-c", f"{STDLIB_NUMBERS}; import numbers_app.models; print('ok')"],
        DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


@pytest.mark.parametrize(
    "launcher", [[sys.executable, "-m", "pytest"], [str(BIN / "pytest")]], ids=["python -m pytest", "pytest"]
)
def test_pytest_sees_the_standard_module_whichever_way_it_is_started(launcher, tmp_path):
    probe = ROOT / "tests" / "dashboard" / f"probe_numbers_{os.getpid()}_{len(launcher)}_test.py"
    probe.write_text(f"def test_probe():\n    {STDLIB_NUMBERS}\n    import numbers_app.rules\n")
    try:
        result = run([*launcher, "-p", "no:xdist", "-p", "no:cacheprovider", "-q", str(probe)])
    finally:
        probe.unlink()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_runserver_with_its_reloader_serves(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "runserver did not answer within 60 s"
                time.sleep(0.2)
        assert response.status_code in (200, 503)  # it answers; the empty database may say unhealthy
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=10)


def test_ruff_files_numbers_with_the_standard_library():
    source = "import decimal\nimport numbers\n\nfrom numbers_app import rules\n\nprint(decimal, numbers, rules)\n"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            "I",
            "--stdin-filename",
            "numbers/numbers_app/probe.py",
            "-",
        ],
        cwd=ROOT,
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_knows_the_standard_numbers_module():
    code = "import numbers\nfrom numbers_app import rules\nx: numbers.Real = 1.5\ny: str = rules.CYCLE_DAYS\n"
    result = run([sys.executable, "-m", "mypy", "-c", code])
    # The one error expected is the deliberate one: mypy resolved both modules and typed them.
    assert "numbers.Real" not in result.stdout, result.stdout
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' in result.stdout, (
        result.stdout + result.stderr
    )

"""The built wheel carries what the bot reads at run time: installed from it into a fresh venv outside the
checkout (as pipx or a container would), `plchat db upgrade`, `plchat plays check`, a sandbox script and
`plchat chats example` work from another folder, and a postgresql:// URL without the [postgres] extra says how
to install its driver. Slow (it installs the dependencies into the new venv): about half a minute with a warm
pip cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and installs it into a fresh venv

CHECKOUT = Path(__file__).resolve().parent.parent


def run(*command: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )  # the tests read the exit code and the output


@pytest.mark.timeout(900)
def test_a_wheel_installed_elsewhere_has_its_playbook_and_migrations(tmp_path: Path) -> None:
    wheels, home, elsewhere = tmp_path / "wheels", tmp_path / "venv", tmp_path / "somewhere-else"
    elsewhere.mkdir()
    source = tmp_path / "source"  # a copy, so no earlier build/ in the checkout leaks stale files into the wheel
    shutil.copytree(
        CHECKOUT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.db*"
        ),
    )
    built = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-v",
        "-w",
        wheels,
        source,
        cwd=tmp_path,
        env=dict(os.environ),
    )
    assert built.returncode == 0, built.stderr
    assert "SetuptoolsDeprecationWarning" not in built.stdout + built.stderr, "e.g. project.license as a table"
    [wheel] = list(wheels.glob("plchat_bot-*.whl"))
    venv.create(home, with_pip=True)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    installed = run(home / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=elsewhere, env=env)
    assert installed.returncode == 0, installed.stderr
    env["DATABASE_URL"] = f"sqlite:///{elsewhere / 'plchat.db'}"
    env["XDG_DATA_HOME"] = str(tmp_path / "user-data")  # where the sandbox keeps its own database
    plchat = home / "bin" / "plchat"

    where = run(home / "bin" / "python", "-c", "import bot; print(bot.__file__)", cwd=elsewhere, env=env)
    assert Path(where.stdout.strip()).is_relative_to(home), "the installed package, not the checkout"
    upgraded = run(plchat, "db", "upgrade", cwd=elsewhere, env=env)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    checked = run(plchat, "plays", "check", cwd=elsewhere, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "plays" in checked.stdout and "0 plays" not in checked.stdout
    script = elsewhere / "try.txt"
    script.write_text("/play station rotation\n/tip Exit tickets every Friday #assessment\n/tips exit tickets\n")
    tried = run(plchat, "sandbox", "--script", script, cwd=elsewhere, env=env)
    assert tried.returncode == 0, tried.stdout + tried.stderr
    assert "Start a three-station rotation" in tried.stdout and "Saved your tip" in tried.stdout
    assert "Traceback" not in tried.stdout + tried.stderr
    example = run(plchat, "chats", "example", cwd=elsewhere, env=env)
    assert example.returncode == 0, example.stderr
    assert example.stdout == (CHECKOUT / "examples" / "plchat-chat.yml").read_text(encoding="utf-8")
    assert "plchat chats example > plchat-chat.yml" in example.stdout and "examples/" not in example.stdout
    helped = run(plchat, "chats", "schedule", "--help", cwd=elsewhere, env=env)
    words = " ".join(helped.stdout.replace("│", " ").split())  # rich wraps help text in a box
    assert "plchat chats example" in words and "examples/" not in words

    assert run(home / "bin" / "python", "-c", "import psycopg", cwd=elsewhere, env=env).returncode != 0, (
        "installed without the [postgres] extra, as pipx install . does"
    )
    env["DATABASE_URL"] = "postgresql://plchat:pw@127.0.0.1/plchat"
    for command in (("db", "upgrade"), ("chats", "list")):
        result = run(plchat, *command, cwd=elsewhere, env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "DATABASE_URL" in result.stderr and "pip install 'plchat-bot[postgres]'" in result.stderr
        assert "pip install -e '.[postgres]'" in result.stderr, "the README installs from a clone"
        assert "Traceback" not in result.stdout + result.stderr and len(result.stderr.splitlines()) <= 2

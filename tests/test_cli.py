"""Tests of the ``ccdlab`` command line (autograder/cli.py)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli, labserver

CCDLAB = Path(sys.executable).parent / "ccdlab"


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path, monkeypatch):
    """Run every command from an empty folder, as a user would."""
    monkeypatch.chdir(tmp_path)


def run(argv):
    """Run ``ccdlab argv`` in-process; return the exit status."""
    try:
        return cli.main(argv)
    except SystemExit as stop:
        return stop.code


def test_help_lists_commands(capsys):
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    for verb in ("data", "lab"):
        # One line per command: its name, then its help text.
        assert re.search(rf"^\s+{verb}\s+\w", out, re.M), out


def test_lab_help_explains_options(capsys):
    assert run(["lab", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--port" in out and "--no-browser" in out
    assert "passed on to jupyter lab" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["frobnicate"], "invalid choice"),
        ([], "required"),
        (["data", "--bogus"], "unrecognized arguments: --bogus"),
        (["lab", "--port", "eighty"], "invalid int value"),
    ],
)
def test_cli_fails(argv, message, capsys):
    assert run(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["lab"], dict(port=None, no_browser=False, extra_args=[])),
        (["lab", "--no-browser", "--port", "9123"], dict(port=9123, no_browser=True, extra_args=[])),
        (
            ["lab", "--ServerApp.ip=0.0.0.0", "--no-browser", "--ServerApp.log_level", "WARN"],
            dict(port=None, no_browser=True, extra_args=["--ServerApp.ip=0.0.0.0", "--ServerApp.log_level", "WARN"]),
        ),
    ],
)
def test_lab_passes_options_to_labserver(argv, expected, monkeypatch):
    calls = []

    def fake_main(**kwargs):
        calls.append(kwargs)
        return 7

    monkeypatch.setattr(labserver, "main", fake_main)
    assert run(argv) == 7  # the server's status becomes the exit status
    assert calls == [expected]


def test_lab_refuses_port_as_jupyter_option(capsys):
    # Reaches labserver.main, which refuses before starting anything.
    assert run(["lab", "--no-browser", "--ServerApp.port=9999"]) == 2
    assert "ccdlab lab --port" in capsys.readouterr().err


@pytest.mark.skipif(not CCDLAB.exists(), reason="the ccdlab command is not installed here")
def test_installed_command(tmp_path):
    shown = subprocess.run([str(CCDLAB), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0
    assert "data" in shown.stdout and "lab" in shown.stdout
    wrong = subprocess.run([str(CCDLAB), "frobnicate"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert wrong.returncode != 0
    assert "invalid choice" in wrong.stderr


def test_data_passes_the_camera_to_the_simulator(monkeypatch):
    from sample_data import simulate

    calls = []
    monkeypatch.setattr(simulate, "main", lambda **kwargs: calls.append(kwargs) or 0)
    assert run(["data", "--out", "n", "--gain", "1.3", "--read-noise", "8", "--full-well", "60000"]) == 0
    assert calls == [dict(out="n", size=None, seed=None, gain=1.3, read_noise=8.0, full_well=60000.0, force=False)]

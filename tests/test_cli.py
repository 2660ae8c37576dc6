import argparse
import os
import subprocess
import sys

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.cli import build_parser, main
from nnscratch.errors import ConfigError

COMMANDS = ("info", "repro", "demo", "gradcheck", "bench", "doctor")


def _run(*args, env=None):
    """``python -m nnscratch ARGS``, as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "nnscratch", *args], capture_output=True, text=True, env=full_env, timeout=300
    )


def _subparsers_action(parser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_info_prints_versions(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out and "backends" in out


def test_demo_trains_and_writes_figure(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--steps", "3000"]) == 0
    out = capsys.readouterr().out
    final = float(out.strip().splitlines()[-2].split()[-1])
    assert final < 0.05  # standardised MSE: the network explains >95% of the variance
    assert (tmp_path / "demo_sqrt.png").stat().st_size > 10_000


def test_python_dash_m():
    out = _run("info")
    assert out.returncode == 0 and "nnscratch" in out.stdout


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"nnscratch {ns.__version__}"


def test_every_command_has_a_description_and_every_option_help():
    parser = build_parser()
    subs = _subparsers_action(parser).choices
    assert set(COMMANDS) <= set(subs)
    for name, sub in [("nnscratch", parser), *subs.items()]:
        assert sub.description and len(sub.description) > 30, name
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, f"{name} {action.option_strings or action.dest}"
    for choice in _subparsers_action(parser)._choices_actions:  # the one-line summaries in `nnscratch --help`
        assert choice.help, choice.dest


@pytest.mark.parametrize("command", [(), *[(c,) for c in COMMANDS]])
def test_help_documents_the_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for line in ("0  success", "1  a check failed", "2  usage error"):
        assert line in out, (command, out)
    assert "--debug" in out


def test_python_dash_m_names_itself():
    out = _run("--help")
    assert out.returncode == 0 and out.stdout.startswith("usage: python -m nnscratch ")
    out = _run("repro", "--help")
    assert out.stdout.startswith("usage: python -m nnscratch repro ")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_unknown_variant_is_a_usage_error_on_one_line(tmp_path, capsys):
    assert main(["repro", "sqrt", "--variant", "foo", "--out", str(tmp_path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("nnscratch: error: unknown variant 'foo' of sqrt")


def test_debug_shows_the_traceback_before_or_after_the_command(tmp_path):
    for argv in (["--debug", "repro", "sqrt"], ["repro", "sqrt", "--debug"]):
        with pytest.raises(ConfigError, match="unknown variant"):
            main([*argv, "--variant", "foo", "--out", str(tmp_path)])


def test_a_user_error_in_a_real_process_has_no_traceback(tmp_path):
    out = _run("repro", "sqrt", "--variant", "foo", "--out", str(tmp_path))
    assert out.returncode == 2
    assert _one_error_line(out.stderr).startswith("nnscratch: error: unknown variant")
    out = _run("--debug", "repro", "sqrt", "--variant", "foo", "--out", str(tmp_path))
    assert out.returncode == 1 and "Traceback" in out.stderr and "ConfigError" in out.stderr


def test_argparse_errors_are_one_line_with_status_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["repro", "sqrt", "--no-such-option"])
    assert exit_info.value.code == 2
    assert _one_error_line(capsys.readouterr().err).startswith("nnscratch")
    with pytest.raises(SystemExit) as exit_info:
        main(["gradcheck", "--batch", "0"])
    assert exit_info.value.code == 2
    assert "positive integer" in _one_error_line(capsys.readouterr().err)


def test_variant_with_all_is_a_usage_error(capsys):
    assert main(["repro", "all", "--variant", "failure", "--out", "none"]) == 2
    assert "--variant needs one scenario" in _one_error_line(capsys.readouterr().err)


@pytest.fixture
def sqrt_npz(tmp_path):
    x = np.linspace(0, 100, 64)[:, None]
    path = tmp_path / "data.npz"
    np.savez(path, X=x, y=np.sqrt(x))
    return path


def test_doctor_with_wrong_data_keys(tmp_path, capsys):
    path = tmp_path / "wrong.npz"
    np.savez(path, inputs=np.zeros((4, 1)), targets=np.zeros((4, 1)))
    assert main(["doctor", "--sizes", "1,4,1", "--data", str(path)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("nnscratch: error: --data") and "'X' and 'y'" in line and "inputs" in line


def test_doctor_with_a_data_file_that_is_not_npz(tmp_path, capsys):
    path = tmp_path / "data.npz"
    path.write_text("not a zip")
    assert main(["doctor", "--sizes", "1,4,1", "--data", str(path)]) == 2
    assert _one_error_line(capsys.readouterr().err).startswith("nnscratch: error: --data")


def test_doctor_with_a_missing_model_or_data_file(tmp_path, sqrt_npz, capsys):
    assert main(["doctor", "--model", str(tmp_path / "missing.npz"), "--data", str(sqrt_npz)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"nnscratch: error: --model {tmp_path / 'missing.npz'}: no such file."
    assert main(["doctor", "--sizes", "1,4,1", "--data", str(tmp_path / "nope.npz")]) == 2
    assert "--data" in _one_error_line(capsys.readouterr().err)


def test_doctor_with_a_damaged_model_file_is_a_failure(tmp_path, sqrt_npz, capsys):
    model = tmp_path / "model.npz"
    ns.save(model, ns.MLP([1, 4, 1], rng=0))
    model.write_bytes(model.read_bytes()[:-40])  # truncated
    assert main(["doctor", "--model", str(model), "--data", str(sqrt_npz)]) == 1
    assert _one_error_line(capsys.readouterr().err).startswith("nnscratch: error: ")


def test_doctor_needs_a_model_and_plot_needs_epochs(tmp_path, sqrt_npz, capsys):
    assert main(["doctor", "--data", str(sqrt_npz)]) == 2
    assert "--model" in _one_error_line(capsys.readouterr().err)
    assert main(["doctor", "--sizes", "1,4,1", "--data", str(sqrt_npz), "--plot", str(tmp_path / "p.png")]) == 2
    assert "--plot needs --epochs" in _one_error_line(capsys.readouterr().err)


def test_out_is_checked_before_any_training(tmp_path, monkeypatch, capsys):
    from nnscratch.repro import command

    started = []
    monkeypatch.setattr(command, "run", lambda *a, **k: started.append(a))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for out in (blocker, blocker / "figures"):
        assert main(["repro", "sqrt", "--quick", "--out", str(out)]) == 2
        assert _one_error_line(capsys.readouterr().err).startswith(f"nnscratch: error: --out {out}")
    assert main(["demo", "--out", str(blocker), "--steps", "10"]) == 2
    captured = capsys.readouterr()
    assert "--out" in _one_error_line(captured.err) and captured.out == ""
    assert started == []


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes to read-only folders")
def test_out_in_a_read_only_folder(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["repro", "sqrt", "--quick", "--out", str(locked)]) == 2
    assert "cannot write there" in _one_error_line(capsys.readouterr().err)


def test_out_is_created_and_left_clean(tmp_path):
    from nnscratch.cli import writable_folder

    folder = writable_folder(tmp_path / "a" / "b")
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_interrupt_and_bugs(monkeypatch, capsys):
    import nnscratch.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_info", interrupted)
    assert main(["info"]) == 130
    assert _one_error_line(capsys.readouterr().err) == "nnscratch: interrupted"

    def bug(args):
        raise ZeroDivisionError("a bug, not a user error")

    monkeypatch.setattr(cli, "_info", bug)
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback
        main(["info"])


def test_no_colour_codes_in_help_and_errors():
    # nnscratch prints no colour; with NO_COLOR set nothing else may add any (Python 3.14's argparse would).
    env = {"NO_COLOR": "1", "FORCE_COLOR": "", "TERM": "xterm-256color"}
    for args in (("--help",), ("repro", "--help"), ("repro", "sqrt", "--nope")):
        out = _run(*args, env=env)
        assert "\x1b[" not in out.stdout + out.stderr, args


def test_testing_module_names_the_extra_without_hypothesis():
    code = "import sys; sys.modules['hypothesis'] = None; import nnscratch.testing"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "ModuleNotFoundError" in out.stderr and "pip install 'nnscratch[test]'" in out.stderr


def test_cupy_and_torch_name_what_to_install():
    code = (
        "import sys; sys.modules['cupy'] = None; sys.modules['torch'] = None\n"
        "import nnscratch as ns, nnscratch.cli, nnscratch.bench.runner\n"
        "from nnscratch.bench import contenders, problems\n"
        "try:\n    ns.to_backend(ns.MLP([1, 2, 1]).parameters()[0].data, 'cupy')\n"
        "except ns.errors.BackendError as e:\n    print(e)\n"
        "try:\n    contenders.torch_step(problems.sqrt_problem())\n"
        "except contenders.UnavailableError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install 'nnscratch[gpu]'" in out.stdout and "pip install torch" in out.stdout

import subprocess
import sys

from nnscratch.cli import main


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
    out = subprocess.run([sys.executable, "-m", "nnscratch", "info"], capture_output=True, text=True)
    assert out.returncode == 0 and "nnscratch" in out.stdout

"""A learner reads one training step of the square-root loop in a handful of short files."""

from nnscratch.bench.step_lines import engine_lines, sqrt_step


def test_one_step_of_the_square_root_loop_runs_at_most_70_engine_lines_in_5_files():
    seen = engine_lines(sqrt_step())
    assert set(seen) == {"activations.py", "layers.py", "losses.py", "module.py", "optim.py"}, sorted(seen)
    assert sum(len(lines) for lines in seen.values()) <= 70, {name: len(lines) for name, lines in seen.items()}

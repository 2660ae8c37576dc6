"""The training doctor's labelled benchmark (``python -m benchmarks.doctor``)."""

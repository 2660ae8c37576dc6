"""The training doctor's labelled benchmark (``python -m nnscratch.bench.doctor``)."""

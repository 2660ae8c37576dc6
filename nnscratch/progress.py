"""The one progress display of ``fit``, the reproductions and the benchmarks, drawn by tqdm.

On a terminal it is a tqdm bar (elapsed time, ETA, rate and the latest loss) redrawn at
most ten times a second. Where the output is a file or a pipe (a CI log, ``tee``), a bar
redrawn with carriage returns would arrive as one unreadable line at the end, so it
writes one flushed log line every few seconds instead.
"""

from __future__ import annotations

import io
import sys
import time
from typing import TextIO

TERMINAL_INTERVAL = 0.1  # seconds between redraws of a terminal bar
LOG_INTERVAL = 5.0  # seconds between log lines when the output is not a terminal


class Progress:
    """Progress over ``total`` steps: call :meth:`update` after each step, :meth:`close` at the end.

    ``enabled``: ``None`` shows it only on a terminal; ``True`` shows it anyway (as log
    lines where the output is not a terminal); ``False`` never.
    """

    def __init__(
        self, total: int, desc: str, enabled: bool | None = None, stream: TextIO | None = None, unit: str = "step"
    ) -> None:
        self.stream = stream or sys.stderr
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = self.terminal if enabled is None else bool(enabled)
        self.count = 0
        self._interval = TERMINAL_INTERVAL if self.terminal else LOG_INTERVAL
        self._last = time.monotonic()
        from tqdm import tqdm  # imported when a run starts: importing nnscratch stays light

        # tqdm keeps the time, the rate and the formatting; it draws only on a terminal.
        self.bar = tqdm(
            total=total,
            desc=desc,
            unit=unit,
            file=self.stream if self.terminal else io.StringIO(),
            disable=not self.enabled,
            mininterval=float("inf"),
            dynamic_ncols=True,
        )

    def update(self, loss: float | None = None, steps: int = 1, desc: str | None = None) -> None:
        """Count ``steps`` more steps; redraw when the interval has passed (``desc``: a new label)."""
        self.count += steps
        if not self.enabled:
            return
        if desc is not None:
            self.bar.set_description_str(desc, refresh=False)
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self.draw(loss)

    def draw(self, loss: float | None = None) -> None:
        """Redraw now (a terminal bar) or write one log line (anything else)."""
        if not self.enabled:
            return
        self.bar.update(self.count - self.bar.n)
        if loss is not None:
            self.bar.set_postfix_str(f"loss {loss:.4g}", refresh=False)
        if self.terminal:
            self.bar.refresh()
        else:
            self.stream.write(str(self.bar) + "\n")
            self.stream.flush()

    def close(self, loss: float | None = None) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self.draw(loss)
        self.bar.close()

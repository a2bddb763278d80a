"""Progress of long command-line work (``keys rotate``, ``db copy``, ``purge``,
``broadcast status --follow``), on stderr so stdout keeps only the result.

Where stderr is a terminal: one line redrawn in place, a bar with counts, per cent and the
time left (``copying  [#######.............]  3,500/10,000  35%  0:12 left``), at most ten
times a second. Anywhere else (a log file, CI, a pipe): plain lines, one each time another
tenth is done and one at the end, so a log shows the work moving without filling up.
The clock is injected for tests.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

WIDTH = 24  # characters of the bar
REDRAW = 0.1  # seconds between redraws on a terminal


def duration(seconds: float) -> str:
    """``0:07``, ``12:30`` or ``2:05:00``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts work done out of ``total`` (None: not known) and shows it."""

    def __init__(
        self,
        label: str,
        total: int | None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        tty: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = 0
        self.started = clock()
        self._drawn = float("-inf")
        self._tenths = 0  # tenths reported so far (plain lines)
        self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is None:
            self.finish()
        elif self.tty and self._width:  # end the bar's line before the error is told
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, count: int = 1) -> None:
        self.update(self.done + count)

    def update(self, done: int, total: int | None = None) -> None:
        """Set how much is done (and the total, when it changed)."""
        self.done = done
        if total is not None:
            self.total = total
        if self.tty:
            now = self.clock()
            if now - self._drawn >= REDRAW:
                self._drawn = now
                self._draw(self.bar_line(now))
        else:
            tenths = self._tenth()
            if tenths > self._tenths:
                self._tenths = tenths
                self._print(self.plain_line(self.clock()))

    def finish(self, note: str = "") -> None:
        """The last line: all counts, the time taken, and ``note``."""
        if self.stream.closed:
            return
        spent = duration(self.clock() - self.started)
        line = f"{self.label}: {self._counts()} done in {spent}" + (f"; {note}" if note else "")
        if self.tty:
            self._draw(line)
            self.stream.write("\n")
            self.stream.flush()
        else:
            self._print(line)

    # ------------------------------------------------------------ lines

    def _tenth(self) -> int:
        if not self.total:
            return 0
        return min(10, self.done * 10 // self.total)

    def _counts(self) -> str:
        return f"{self.done:,}/{self.total:,}" if self.total is not None else f"{self.done:,}"

    def _left(self, now: float) -> str:
        if not self.total or not self.done or self.done >= self.total:
            return ""
        rate = self.done / max(now - self.started, 1e-9)
        return f"{duration((self.total - self.done) / rate)} left"

    def bar_line(self, now: float) -> str:
        if not self.total:
            return f"{self.label}  {self._counts()}"
        share = min(1.0, self.done / self.total)
        filled = round(share * WIDTH)
        bar = "#" * filled + "." * (WIDTH - filled)
        left = self._left(now)
        return f"{self.label}  [{bar}]  {self._counts()}  {share:4.0%}" + (
            f"  {left}" if left else ""
        )

    def plain_line(self, now: float) -> str:
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        left = self._left(now)
        return f"{self.label}: {self._counts()}{share}" + (f", {left}" if left else "")

    def _draw(self, line: str) -> None:
        pad = " " * max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + pad)
        self.stream.flush()

    def _print(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

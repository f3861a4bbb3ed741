"""Progress on stderr: a tqdm bar on a terminal (one rate, redrawn at least every second), one line per epoch or
pass when stderr is a file or a pipe (a log, not a hundred carriage returns), and a notice while numba or Triton
compile kernels on a first run."""

from __future__ import annotations

import contextlib
import sys
import threading
import time

COMPILE_NOTICE_AFTER = 3.0  # seconds: a warm-up longer than this is compiling, not loading its cache


def interactive() -> bool:
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


_compile_seconds = [0.0]  # this process's time in ``compiling`` blocks: the run's summary shows it on its own line


@contextlib.contextmanager
def compiling(what: str = "kernels"):
    """Around a first call of compiled kernels (numba's or Triton's): say that they are compiling when the block
    takes longer than a cache load does, and add its time to ``compile_seconds()``."""
    timer = threading.Timer(
        COMPILE_NOTICE_AFTER,
        lambda: print(f"fastw2v: compiling {what} (first run only, ~1 min)", file=sys.stderr, flush=True),
    )
    timer.daemon = True
    start = time.perf_counter()
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        _compile_seconds[0] += time.perf_counter() - start


def compile_seconds() -> float:
    """Seconds this process has spent compiling or loading kernels (``compiling`` blocks) so far."""
    return _compile_seconds[0]


class Progress:
    """A bar over ``total`` units (tokens or words), or the lines a log gets instead: ``line()`` prints one when
    stderr is not a terminal (the end of an epoch or a pass). ``enabled=False``: nothing at all. ``bar``: the tqdm
    bar, hidden when stderr is not a terminal."""

    def __init__(self, desc: str, total: int | None = None, initial: int = 0, unit: str = "tok", enabled: bool = True):
        from tqdm.auto import tqdm

        self.enabled, self.desc = enabled, desc
        self.start, self.first, self.n = time.perf_counter(), initial, initial
        self.compiled_before = compile_seconds()
        self.bar = tqdm(
            desc=desc,
            total=total,
            initial=initial,
            unit=unit,
            unit_scale=True,
            dynamic_ncols=True,
            disable=not (enabled and interactive()),
            mininterval=0.5,
        )
        self._stop = threading.Event()
        if not self.bar.disable:  # the elapsed time moves even while one long chunk runs
            threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self):
        while not self._stop.wait(1.0):
            with contextlib.suppress(Exception):
                self.bar.refresh()

    def update(self, n: int) -> None:
        self.n += n
        self.bar.update(n)

    def set(self, **fields) -> None:
        self.bar.set_postfix(refresh=False, **fields)

    def line(self, text: str) -> None:
        """One line for a log (stderr not a terminal), e.g. at the end of an epoch."""
        if self.enabled and self.bar.disable:
            print(f"{self.desc}: {text}", file=sys.stderr, flush=True)

    def epoch_done(self, epoch: int, epochs: int, loss: float | None) -> None:
        """The log line of a training epoch (stderr not a terminal)."""
        self.line(
            f"epoch {epoch + 1}/{epochs}, {self.rate():,.0f} words/s, loss " + ("-" if loss is None else f"{loss:.4f}")
        )

    def rate(self) -> float:
        """Units a second since the bar started, leaving out kernels compiled meanwhile (``compiling``)."""
        elapsed = time.perf_counter() - self.start - (compile_seconds() - self.compiled_before)
        return (self.n - self.first) / elapsed if elapsed > 0 else 0.0

    def close(self) -> None:
        self._stop.set()
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

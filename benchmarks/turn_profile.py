"""What the GUI thread does in each turn of its event loop, for ``bench_gui.py``.

A turn is one pass of the event loop: it waits, then dispatches what came (slots,
timers, layouts, the paint of a frame). Qt's event dispatcher signals ``aboutToBlock``
before it waits and ``awake`` when the next pass begins, so the work of a turn lies
between the two (with the wait, which costs no CPU).
``TurnMeter`` records each turn's GUI-thread CPU time (``time.thread_time``), so time the
OS gives to other processes (the worker, a neighbour's tests) is not counted: the figure
holds on a loaded machine, where the probe's delays do not. A turn that takes T ms of
CPU delays whatever waits by at least T ms, so the longest turns bound the delays.

With ``profile_ms`` it also runs a cProfile profiler (CPU time) in each turn and keeps
the profiles of the turns that reach ``profile_ms``, with when they came: the report
names the slots and paint events of each long turn, instead of one profile of the whole
run where a 100 ms turn is lost among 3,000 short ones. cProfile roughly doubles the
time of Python-heavy code: read the structure (which turns are long, and of what), not
the figures of a profiled run.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sysconfig
import time

SITE = sysconfig.get_paths()["purelib"] + "/"


class TurnMeter:
    """GUI-thread CPU time per event-loop turn; profiles of the long ones on request."""

    def __init__(self, profile_ms: float = 0.0) -> None:
        self.profile_ms = profile_ms
        self.turns: list[tuple[float, float]] = []  # (start, perf_counter s; CPU ms)
        self.kept: list[tuple[float, float, cProfile.Profile]] = []  # (start, ms, profile)
        self._open = False
        self._start = self._cpu = 0.0
        self._profile: cProfile.Profile | None = None
        self._dispatcher = None

    def attach(self) -> None:
        from PySide6.QtCore import QAbstractEventDispatcher

        dispatcher = QAbstractEventDispatcher.instance()
        if dispatcher is None:
            raise RuntimeError("no event dispatcher: create the application first")
        self._dispatcher = dispatcher
        dispatcher.aboutToBlock.connect(self._begin)
        dispatcher.awake.connect(self._end)

    def detach(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.aboutToBlock.disconnect(self._begin)
            self._dispatcher.awake.disconnect(self._end)
            self._dispatcher = None
        if self._profile is not None:
            self._profile.disable()
            self._profile = None

    def _begin(self) -> None:
        if self._open:
            return
        self._open = True
        self._start, self._cpu = time.perf_counter(), time.thread_time()
        if self.profile_ms:
            self._profile = cProfile.Profile(time.thread_time)
            self._profile.enable()

    def _end(self) -> None:
        if not self._open:
            return
        self._open = False
        profile, self._profile = self._profile, None
        if profile is not None:
            profile.disable()
        cpu = (time.thread_time() - self._cpu) * 1000.0
        self.turns.append((self._start, cpu))
        if profile is not None and cpu >= self.profile_ms:
            self.kept.append((self._start, cpu, profile))

    def between(self, start: float, end: float) -> list[float]:
        """CPU ms of the turns that started from ``start`` to ``end``."""
        return [cpu for at, cpu in self.turns if start <= at < end]

    def report(self, origin: float, top: int = 8, longest: int = 12) -> str:
        """All kept turns' profiles together, then the ``longest`` kept turns (in time
        order, ms after ``origin``), each with its ``top`` functions by cumulative and
        by own time (C++ work, painting included, is the own time of the Python call
        that entered it)."""
        kept = [k for k in self.kept if k[0] >= origin]
        chosen = sorted(sorted(kept, key=lambda k: -k[1])[:longest])
        out = [f"{len(kept)} turns with GUI CPU >= {self.profile_ms:g} ms"]
        if kept:
            out.append("=== all of them together:")
            out.extend(_top([p for *_, p in kept], top * 2))
        out.append(f"=== the {len(chosen)} longest:")
        for at, cpu, profile in chosen:
            out.append(f"--- at {(at - origin) * 1000:.0f} ms: GUI CPU {cpu:.1f} ms")
            out.extend(_top([profile], top))
        return "\n".join(out)


def _top(profiles: list[cProfile.Profile], top: int) -> list[str]:
    out = []
    for order in ("cumulative", "tottime"):
        stream = io.StringIO()
        stats = pstats.Stats(profiles[0], stream=stream)
        for more in profiles[1:]:
            stats.add(more)
        stats.sort_stats(order).print_stats(top)
        lines = stream.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        out.append(f"  by {order}:")
        out.extend("    " + line.strip().replace(SITE, "") for line in lines[start + 1:]
                   if line.strip())
    return out


def run_loop_until(done, timeout: float, interval_ms: int = 20) -> None:
    """Run Qt's event loop (as the studio does) until ``done()`` or ``timeout`` s,
    checking every ``interval_ms``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    end = time.perf_counter() + timeout
    check = QTimer()
    check.setInterval(interval_ms)
    check.timeout.connect(lambda: loop.quit() if done() or time.perf_counter() > end
                          else None)
    check.start()
    loop.exec()
    check.stop()

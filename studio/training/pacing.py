"""One heavy drawing per frame while a run is shown: a ``FramePacer`` shared by the plots,
their staged reveal and the canvas overlay.

Each is paced on its own (a plot per drain tick, a reveal per frame, the overlay a few
times a second), but their timers are independent: a drain tick, a reveal and an
overlay refresh falling in the same frame were painted together, a frame as long as
all three. Whoever draws takes the frame (``take``); the others find it used (``free``
is False) and try at their next tick, which is at most a frame or two away.
"""

from __future__ import annotations

import time

GAP_S = 0.020  # a frame and a bit: two drawings this close would share a paint


class FramePacer:
    def __init__(self, gap_s: float = GAP_S) -> None:
        self.gap_s = gap_s
        self._at = -1e9

    def free(self) -> bool:
        """No drawing in this frame yet."""
        return time.monotonic() - self._at >= self.gap_s

    def take(self) -> None:
        """A drawing was made: the frame is used."""
        self._at = time.monotonic()

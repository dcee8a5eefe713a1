"""The first Train of a fresh studio: ``python benchmarks/bench_first_train.py``

A new user opens an example (fresh settings: the Design workspace, the Training panel
never shown), looks at it for ``--wait`` seconds, and presses Train (the toolbar's
action). Measured, offscreen unless ``--display``:

- whether torch was imported by the GUI process when the window showed (it must not be:
  the window opens without it);
- while the user looks: the longest turns of the GUI thread's event loop (CPU time,
  ``turn_profile.TurnMeter``), and what the studio started ahead of need (the standby
  worker, ``runtime.standby``: spawned, warm, its dataset prepared; the training
  workbench built; the monitor laid out ahead);
- the wall time from the press to the first step event the GUI receives, and the
  longest GUI turn from the press to a second after that step.

``--profile [MS]`` keeps the profiles of the turns whose GUI CPU time reaches MS and
prints them (what they ran). ``STRATA_PRESTART=0`` measures a cold first Train (nothing
started ahead). The last line reads
``first-train: press to first step <ms> ms (waited <s> s; standby ...; longest GUI turn
while waiting <ms> ms, after the press <ms> ms)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(argv: list[str] | None = None) -> int:
    from turn_profile import run_loop_until

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="spiral_mlp")
    parser.add_argument("--wait", type=float, default=10.0,
                        help="seconds in Design before Train is pressed")
    parser.add_argument("--display", action="store_true", help="use the real display")
    parser.add_argument("--profile", type=float, nargs="?", const=30.0, default=0.0,
                        metavar="MS", help="profile each event-loop turn and print those "
                        "whose GUI CPU time reaches MS (30 by default)")
    args = parser.parse_args(argv)
    if not args.display:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(tempfile.mkdtemp(prefix="strata-bench-first-train-"))
    # A fresh user: nothing remembered (the workspace layout, the theme, recent files).
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[name] = str(work / name.lower())

    from studio.app import _import_headless_first, create_application, shutdown

    _import_headless_first()  # as ``strata`` does
    app = create_application()
    from bench_gui import Probe, percentile
    from PySide6.QtCore import QSettings
    from turn_profile import TurnMeter

    from studio.main_window import MainWindow

    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ROOT / "resources" / "examples" / f"{args.example}.strata",
                        settings=settings, autosave_dir=work / "autosave")
    docks = window.training
    turns = TurnMeter(args.profile)
    turns.attach()
    probe = Probe()  # a 10 ms timer: how late it fires (the GIL shared with imports too)
    probe.start()
    shown_at = time.perf_counter()
    window.show()
    torch_at_show = "torch" in sys.modules
    run_loop_until(lambda: time.perf_counter() > shown_at + 0.5, 1.0)
    torch_after_half_second = "torch" in sys.modules
    run_loop_until(lambda: time.perf_counter() > shown_at + args.wait, args.wait + 1)
    waited = time.perf_counter() - shown_at
    waiting = turns.between(shown_at, float("inf"))
    delays, _cpu = probe.between(shown_at, float("inf"))
    runner = docks.runner
    runner.out_root = work / "runs"
    standby = runner.standby
    if standby is None:
        standby_state = "none"
    else:
        standby_state = (f"spawned {standby.ready}, warm {standby.warm}, "
                         f"dataset prepared {standby.prepared is not None}")
    built = docks.built
    ahead = docks.monitor_ahead is not None and docks.monitor_ahead.done
    panel_shown = built and docks.workbench().panel.setup.loaded

    first: list[float] = []
    runner.run_updated.connect(
        lambda run, _changed: first.append(time.perf_counter())
        if run.step > 0 and not first else None)
    from PySide6.QtCore import QTimer

    pressed_at: list[float] = []

    def press() -> None:  # in a turn of the event loop, as a click is
        pressed_at.append(time.perf_counter())
        docks.actions.train.trigger()  # the toolbar's Train (Ctrl+T, F5)

    QTimer.singleShot(0, press)
    run_loop_until(lambda: bool(first) or (runner.current is not None
                                           and not runner.current.active), 120)
    run = runner.current
    if not first:
        message = run.message if run is not None else "no run started"
        print(f"no step arrived: {message}")
        return 1
    pressed = pressed_at[0]
    to_first = first[0] - pressed
    run_loop_until(lambda: time.perf_counter() > first[0] + 1.0, 2.0)
    after = turns.between(pressed - 0.05, float("inf"))  # the press's own turn began before it
    after_delays, _cpu = probe.between(pressed, float("inf"))
    turns.detach()
    probe.stop()
    runner.stop()
    run_loop_until(lambda: not runner.active, 30)

    load = os.getloadavg()
    print(f"example: {args.example}; machine: {os.cpu_count()} cores, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"torch imported by the GUI process: at show {torch_at_show}, "
          f"0.5 s after {torch_after_half_second}")
    print(f"after {waited:.1f} s in Design: standby worker {standby_state}; workbench "
          f"built {built}, Training panel filled {panel_shown}, monitor laid out "
          f"ahead {ahead}")
    print(f"while waiting: {len(waiting)} GUI turns, longest {max(waiting):.1f} ms, "
          f"over 50 ms {sum(c > 50 for c in waiting)}; 10 ms timer delays max "
          f"{max(delays):.1f} ms, p99 {percentile(delays, 99):.1f} ms")
    print(f"press to first step + 1 s: {len(after)} GUI turns, longest {max(after):.1f} "
          f"ms, over 50 ms {sum(c > 50 for c in after)}; 10 ms timer delays max "
          f"{max(after_delays):.1f} ms, p99 {percentile(after_delays, 99):.1f} ms")
    late = sorted(zip(probe.delays, probe.times), reverse=True)[:5]
    print("longest timer delays: " + ", ".join(
        f"{d:.0f} ms at {(t - shown_at) * 1000:.0f} ms" for d, t in late))
    if args.profile:
        print(turns.report(shown_at))
    shutdown(app, window)
    print(f"first-train: press to first step {to_first * 1000:.0f} ms (waited "
          f"{args.wait:g} s; standby {standby_state}; longest GUI turn while waiting "
          f"{max(waiting):.1f} ms, after the press {max(after):.1f} ms; target < 1000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

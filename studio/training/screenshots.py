"""Screenshots of the training view on each example: ``python -m studio.training.screenshots``.

For each example network (``resources/examples/*.strata``, or the names given), opens the
main window offscreen, trains the network with its own preset (the six basic examples
capped at ``--cap`` epochs to keep the whole set quick) and grabs the window shortly
before the run ends, while the canvas still shows the live gradient heat, into
``docs/screenshots/training_<example>.png``. A documentation tool, not part of the app.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
STORIES = ("deep_sigmoid_mlp", "deep_relu_mlp", "deep_batchnorm_mlp", "deep_residual_mlp",
           "edges_cnn", "overfitting_mlp", "dropout_mlp", "lr_too_high")
# What each screenshot should show on the right (the detail that tells the story).
TABS = {"deep_sigmoid_mlp": "updates", "lr_too_high": "activations",
        "overfitting_mlp": "boundary", "dropout_mlp": "boundary"}


def shoot(name: str, cap: int, size: tuple[int, int], grab_at: float) -> Path:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from studio.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="strata-shots-"))
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ROOT / "resources" / "examples" / f"{name}.strata",
                        settings=settings, autosave_dir=work / "autosave")
    docks = window.training
    bench = docks.workbench()
    bench.runner.out_root = work / "runs"
    training = window.controller.document.training
    if name not in STORIES and training.get("epochs", 1) > cap:
        training["epochs"] = cap  # not an undo step: the file on disk is unchanged
    window.resize(*size)
    window.show()
    window.docks["training"].raise_()
    window.docks["training_plots"].raise_()
    bench.panel.setup.load()
    loop = QEventLoop()
    suffix = "" if size == (1920, 1080) else f"_{size[1]}p"
    shot = OUT / f"training_{name}{suffix}.png"
    started = time.perf_counter()

    def poll() -> None:
        run = bench.runner.current
        if run is None:
            return
        if os.environ.get("STRATA_SHOTS_DEBUG"):
            print(run.status, run.step, run.fraction_done(), run.seconds_left(),
                  len(run.epoch_records))
        if name in TABS and run.node_ids:
            tab = getattr(bench.view, TABS[name])
            if bench.view.tabs.currentWidget() is not tab:
                bench.view.tabs.setCurrentWidget(tab)
        if run.weighted and not window.controller.selected:
            # A layer selected: the inspector shows its training charts too.
            first = next((n for n in run.node_ids if n in run.weighted and "/" not in n),
                         None)
            if first is not None:
                window.controller.select([first])
        done = run.fraction_done() >= grab_at and len(run.epoch_records) >= 1
        if run.status == "running" and not done and soon(run):
            bench.pause()  # too quick to catch running: hold it still for the picture
            return
        if done or run.status == "paused" or not run.active \
                or time.perf_counter() - started > 600:
            timer.stop()
            while bench.view.flush():
                pass
            if bench.overlay is not None:
                bench.overlay.refresh(force=True)
            if run.status == "running":
                grab()  # now, before it ends
            else:
                QTimer.singleShot(300, grab)  # still: let the layout settle first

    def grab() -> None:
        window.grab().save(str(shot))
        loop.quit()

    def soon(run) -> bool:
        """The grab point is less than half a second away: a poll could miss it."""
        left, f = run.seconds_left(), run.fraction_done()
        if left is None or f < max(0.5, grab_at - 0.12) or not run.epoch_records:
            return False
        total = left / max(1e-9, 1 - f)
        return (grab_at - f) * total < 0.5

    timer = QTimer()
    timer.setInterval(40)
    timer.timeout.connect(poll)
    QTimer.singleShot(300, bench.train)
    timer.start()
    loop.exec()
    run = bench.runner.current
    print(f"{name}: {run.status if run else 'no run'}, epoch {run.epoch if run else 0}"
          f" -> {shot.relative_to(ROOT)}", flush=True)
    if bench.runner.active:
        bench.stop()
    bench.shutdown()
    window.controller.undo_stack.setClean()
    window.close()
    window.deleteLater()
    return shot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="examples (default: all)")
    parser.add_argument("--cap", type=int, default=12,
                        help="most epochs for the basic examples")
    parser.add_argument("--at", type=float, default=0.9,
                        help="fraction of the run at which to grab")
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from studio.app import create_application

    app = create_application()
    from studio import resources

    resources.apply(app, "light")
    names = args.names or sorted(p.stem for p in (ROOT / "resources" / "examples")
                                 .glob("*.strata"))
    width, height = (int(v) for v in args.size.split("x"))
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        shoot(name, args.cap, (width, height), args.at)
        app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())

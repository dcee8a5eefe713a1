"""The ``strata`` command: ``strata [FILE]`` opens the studio; subcommands reach the
headless core (``check``, ``summary``, ``export``, ``train``, ``evaluate``...).

Heavy imports happen inside each branch so ``strata --help`` and the window both start
fast.
"""

from __future__ import annotations

import sys

HEADLESS = {
    "check": "graph.cli",
    "summary": "graph.cli",
    # export/import: every format (runtime.transfer.formats), one service for the CLI
    # and the dialogs.
    "export": "runtime.transfer.cli",
    "import": "runtime.transfer.cli",
    "train": "runtime.cli",
    "evaluate": "runtime.evaluation_cli",
    "sweep": "runtime.sweeps.cli",
    "probe": "runtime.probe.cli",
}

USAGE = """usage: strata [FILE]                  open the studio (optionally with a network)
       strata check FILE [--fix]      list the network's problems (--fix: apply the
                                      obvious fixes and save the file)
       strata summary FILE            layers, shapes, parameters and MACs
       strata export FILE [-o OUT] [--format python|train|weights|onnx] [--checkpoint CKPT]
       strata import FILE.py:ClassName --input-shape 1,3,32,32 -o NET.strata
                                      (runs FILE.py's code, in a separate process)
       strata train FILE [--epochs N] [--device D] [--out DIR] [--resume CHECKPOINT]
       strata evaluate FILE --checkpoint CKPT [--split val|test]
                                      a checkpoint's loss and metric
       strata sweep FILE --trials N [--jobs J] [--storage URL] [--study NAME]
                         [--search TARGET[=SPEC]] [--targets] [--mlflow [URI]]
       strata probe FILE [--checkpoint CKPT] --index N [--split val]
                    [--attribution saliency|integrated_gradients|grad_cam] -o OUT_DIR
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if argv and argv[0] in HEADLESS:
        import importlib

        module = importlib.import_module(HEADLESS[argv[0]])
        return module.main(argv)
    from studio.app import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())

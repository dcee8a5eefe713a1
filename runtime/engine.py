"""The training engine: one run of one network on one dataset, streamed as events.

``Trainer(document, setup, emit=...).run()`` checks the dataset against the network,
seeds everything, builds the model from the network's generated code
(``graph.compile_network``), trains with the setup's optimizer, schedule, loss and
clipping, validates after every epoch and writes checkpoints. Everything it has to say
goes through ``emit`` as events (``runtime.events``); ``run`` returns the last one,
``FinishedEvent`` or ``FailedEvent``, and never raises for anything a user can cause.

The same engine runs in-process (tests, ``strata train``) and inside the worker process
(``runtime.worker``). Commands (pause, resume, stop, checkpoint) arrive through a
``Control`` and are looked at between two steps.

Invariants:
- Same document, setup, seed and device: same losses, step for step. Shuffling has its
  own generator; the global generator only initialises the model and drives dropout.
- Resuming from a checkpoint continues the very curve of an uninterrupted run.
- An ordinary step costs what a hand-written loop costs: batches are sliced from tensors
  already on the device, the loss is read once (on the CPU that is no transfer; on a GPU
  it is read one step late, so the device never waits), nothing else crosses to the
  host. Step events and instrumentation happen only every ``sample_every`` steps,
  and (after a first few) at most ``max_sample_rate`` times a second; instrumentation
  also stays within ``sample_budget`` of the training time (plus the first
  ``sample_burst`` samples, which the diagnoses need), so looking at a model never slows
  it down much (``SamplingPolicy``).
"""

from __future__ import annotations

import copy
import math
import random
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import graph
from graph.errors import StrataError
from graph.fileformat import document_from_dict
from graph.memory import MemoryLimitError, check_fits
from graph.outputs import OutputCountError, trained_output

from .augment import build_pipeline
from .checkpoints import CheckpointMixin, code_fingerprint
from .control import Control
from .diagnoses import Diagnostician
from .engine_options import EngineOptions
from .events import (
    EpochEvent,
    FailedEvent,
    FinishedEvent,
    NoticeEvent,
    PausedEvent,
    ResumedEvent,
)
from .failures import (
    TrainingError,
    describe_unexpected,
    device_words,
    free_memory,
    is_out_of_memory,
    locate_nonfinite,
    out_of_memory_message,
    release_memory,
)
from .feeds import make_feed
from .finetune import load_weights, parameter_groups, setup_modules, unknown_names
from .instrumentation import Instrumentation, SamplingPolicy, feature_maps
from .layers import network_layers
from .loop import BatchSource, LossReader, Stopwatch, Window, epoch_order
from .metrics import RunningMetric, decision_boundary, metric_name
from .reporting import ReportingMixin
from .setup import TrainingSetup, resolve_device

Emit = Callable[[Any], None]


class Trainer(CheckpointMixin, ReportingMixin):
    """One training run. Build it, call ``run()``; see the module docstring."""

    def __init__(self, document, setup: TrainingSetup | dict | None = None, *,
                 emit: Emit | None = None, control: Control | None = None,
                 out_dir: str | Path | None = None, resume: str | Path | None = None,
                 bundle=None, options: EngineOptions | None = None,
                 base_dir: str | Path | None = None) -> None:
        # A snapshot: later edits to the caller's document never reach a running engine.
        raw = copy.deepcopy(document) if isinstance(document, dict) else document.to_dict()
        self.document_dict = raw
        self._setup_arg = setup
        self.emit = emit or (lambda event: None)
        self.control = control or Control()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.resume_from = Path(resume) if resume is not None else None
        self.bundle = bundle
        self.options = options or EngineOptions()
        self.last_checkpoint: str | None = None
        self.best_checkpoint: str | None = None
        self.events_emitted = 0
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.notices: list[NoticeEvent] = []  # said right after the StartedEvent

    # ================================================================ run
    def run(self) -> FinishedEvent | FailedEvent:
        self._instr: Instrumentation | None = None
        out_of_memory = None
        try:
            self._prepare()
            final = self._train()
        except TrainingError as e:
            final = self._failed(e.reason, e.node_id)
        except MemoryLimitError as e:
            final = self._failed(str(e), e.node_id)
        except StrataError as e:
            final = self._failed(str(e))
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # noqa: BLE001 - a run reports, it does not crash
            if is_out_of_memory(e):
                # Only the words are kept: the exception's frames hold the tensors whose
                # memory must be given back, and they go when this block ends.
                out_of_memory = out_of_memory_message(
                    e, getattr(self, "device", torch.device("cpu")), self._batch_size(),
                    getattr(self, "_phase", "training"))
            else:
                final = self._unexpected(e)
        finally:
            if self._instr is not None:
                self._instr.close()
            if getattr(self, "feed", None) is not None:
                self.feed.close()
        if out_of_memory is not None:
            self._release()
            final = self._failed(out_of_memory)
        return final

    def _release(self) -> None:
        """Drop the run's tensors and return the cached device memory (after an OOM)."""
        for name in ("model", "optimizer", "scheduler", "feed", "source", "_instr",
                     "compiled"):
            if hasattr(self, name):
                setattr(self, name, None)
        release_memory(getattr(self, "device", torch.device("cpu")))

    def _send(self, event) -> None:
        self.events_emitted += 1
        self.emit(event)

    def _failed(self, reason: str, node_id: str | None = None, details: str = ""):
        event = FailedEvent(reason, node_id, None, self.last_checkpoint, details)
        self._send(event)
        return event

    def _unexpected(self, exc: BaseException):
        compiled = getattr(self, "compiled", None)
        reason, node_id = describe_unexpected(exc, compiled, getattr(self, "doc", None))
        return self._failed(reason, node_id, "".join(traceback.format_exception(exc)))

    def _batch_size(self) -> int:
        setup = getattr(self, "setup", None)
        return setup.batch_size if setup is not None else 0

    # ================================================================ preparation
    def _prepare(self) -> None:
        self._phase = "preparation"
        self.doc = document_from_dict(self.document_dict)
        setup = self._setup_arg
        if setup is None:
            setup = TrainingSetup.from_document(self.doc)
        elif isinstance(setup, dict):
            setup = TrainingSetup.from_dict(setup)
        self.setup = setup
        self.device = resolve_device(setup.device)

        analysis = graph.Analyzer().analyze(self.doc)
        if not analysis.ok:
            raise graph.GraphError(analysis.problems)
        try:
            output = trained_output(analysis)
        except OutputCountError as e:
            raise TrainingError(str(e), kind="network") from None
        self.output_id, self.task = output.node_id, output.task
        self.loss_name = setup.resolved_loss(self.task)
        self.bundle = self._dataset(analysis)

        # Refused before anything is allocated, naming the largest layer ("lower the
        # batch size" is no advice for a 4 TB layer).
        check_fits(analysis, free_memory(self.device), batch_size=setup.batch_size,
                   where=device_words(self.device))
        _seed_everything(setup.seed)
        self.compiled = graph.compile_network(self.doc, analysis)
        self.model = self.compiled.module.to(self.device)
        self.fingerprint = code_fingerprint(self.compiled.code.source)
        self.layers = network_layers(self.compiled, self.doc)
        self._starting_weights()
        modules = setup_modules(self.compiled.code)
        frozen, lr_scale = self._known_training_names(modules)
        groups = parameter_groups(self.model, modules, frozen, lr_scale, setup.lr)
        self.params = [p for g in groups for p in g["params"]]
        if not self.params:
            raise TrainingError("The network has no weights to train: add a Linear, "
                                "convolution or other layer with parameters" +
                                (", or unfreeze a layer" if setup.frozen else ""),
                                kind="network")
        self.loss_fn = setup.make_loss(self.task)

        features = self.compiled.analysis.shapes[self.output_id].inputs["in"].features
        inputs = self.compiled.code.inputs
        self.feed = make_feed(self.bundle, task=self.task, features=features,
                              device=self.device, setup=setup, input_ids=inputs,
                              input_names=[self.doc.nodes[i].title for i in inputs],
                              eval_batch_size=self.options.eval_batch_size)
        self.notices.extend(self.feed.notices())
        self.n_train, self.batches = self.feed.examples, self.feed.batches
        self.source: BatchSource = self.feed.source
        self.augment = build_pipeline(setup.augment, self.bundle.input_shapes[0],
                                      self.task, self.bundle.num_classes, self.device)
        self.optimizer = setup.make_optimizer(groups)
        # No scheduler for a constant rate: a scheduler wraps ``optimizer.step`` (a
        # Python call per step that a hand-written loop does not pay).
        self.scheduler = setup.make_scheduler(self.optimizer, self.batches) \
            if setup.schedule != "none" else None
        self.shuffle = torch.Generator().manual_seed(setup.seed)
        self.epoch, self.step, self.batch = 0, 0, 0
        self.epoch_gen_state: torch.Tensor | None = None
        self.epoch_loss, self.epoch_count = 0.0, 0
        self.running = RunningMetric(self.task, self.bundle.num_classes, self.device) \
            if self.options.train_metric else None
        self.best_val: float | None = None
        self.best_epoch = 0
        self.history: list[dict[str, Any]] = []
        self.diagnostician = Diagnostician(self.layers)
        self._instr = Instrumentation(self.model, self.layers, setup.watch) \
            if self.options.instrument else None
        if self.resume_from is not None:
            self.restore(self.resume_from)

    def _known_training_names(self, modules) -> tuple[tuple[str, ...], dict[str, float]]:
        """The setup's frozen layers and learning-rate factors that this network has. A
        layer frozen or scaled and then deleted (or its block ungrouped) is left out
        with a notice rather than refusing the run: the exported train.py leaves it out
        the same way."""
        frozen, lr_scale = self.setup.frozen, self.setup.lr_scale
        gone = unknown_names(self.model, modules, set(frozen) | set(lr_scale))
        if gone:
            names = ", ".join(f"'{g}'" for g in gone[:3]) + (" ..." if len(gone) > 3
                                                            else "")
            self.notices.append(NoticeEvent(
                "training_setup", f"The training setup freezes or scales {names}, no "
                "longer a layer with weights in this network (removed or moved): "
                "ignored. Clear it from the file's training section to silence this.",
                names=tuple(gone[:5])))
        return (tuple(f for f in frozen if f not in gone),
                {k: v for k, v in lr_scale.items() if k not in gone})

    def _starting_weights(self) -> None:
        """Load ``init_weights`` by layer name and say what matched."""
        if not self.setup.init_weights:
            return
        path = Path(self.setup.init_weights).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        report = load_weights(self.model, path)
        self.notices.append(NoticeEvent(
            "weights_loaded", report.describe(),
            names=tuple(n for n, _, _ in report.other_shape) + tuple(report.missing)))

    def _dataset(self, analysis):
        from .compatibility import DatasetMismatch, check_dataset, prepare_dataset

        if self.bundle is None:
            return prepare_dataset(analysis, self.setup, base_dir=self.base_dir)
        bundle = self.bundle.for_task(self.task)
        reasons = check_dataset(analysis, bundle)
        if reasons:
            raise DatasetMismatch(reasons)
        return bundle

    # ================================================================ training
    def _train(self) -> FinishedEvent:
        setup, opts = self.setup, self.options
        started = time.perf_counter()
        self._send(self._started_event())
        for notice in self.notices:
            self._send(notice)
        if self.step == 0 and opts.feature_maps:
            self._feature_maps()
        self.train_seconds = self.train_cpu_seconds = 0.0
        self.looking_seconds = 0.0  # of the training time: statistics and step events
        self._boundary_at = -math.inf  # when the last decision boundary was drawn
        # Step events and layer statistics are both due every ``sample_every`` steps;
        # only statistics (which cost more) answer to the time budget too.
        self._reports = SamplingPolicy(setup.sample_every, opts.max_sample_rate,
                                       opts.sample_burst)
        self._samples = SamplingPolicy(setup.sample_every, opts.max_sample_rate,
                                       opts.sample_burst, opts.sample_budget)
        stopped = False
        while self.epoch < setup.epochs and not stopped:
            clock = Stopwatch()
            stopped = self._train_epoch(clock)
            if stopped:
                break
            self._end_epoch(clock.elapsed())
        if stopped and self.out_dir is not None:
            self.write_checkpoint("stop")
        return self._finished(stopped, time.perf_counter() - started)

    def _train_epoch(self, clock: Stopwatch) -> bool:
        """Train from ``self.batch`` to the end of the epoch; True when told to stop."""
        order, self.epoch_gen_state = epoch_order(
            self.shuffle, self.source.examples, self.batch, self.epoch_gen_state)
        self.model.train()
        self._phase = "training"
        epoch_no = self.epoch + 1
        reader = LossReader(self.device.type == "cpu",
                            lambda xs, step: self._nonfinite(xs, step, epoch_no))
        window = Window(clock.now())
        loop = Stopwatch()
        stopped = False
        try:
            stopped = self._steps(self.source.epoch(order, self.batch), reader, window,
                                  epoch_no, loop)
            if not stopped:
                value = reader.flush()
                if value is not None:
                    self.epoch_loss += value
                    self.epoch_count += 1
        finally:
            clock.exclude(loop.paused)
            self.train_seconds += loop.elapsed()
            self.train_cpu_seconds += loop.cpu()
        return stopped

    def _steps(self, batches, reader: LossReader, window: Window, epoch_no: int,
               loop: Stopwatch) -> bool:
        """The optimizer steps of one epoch; True when told to stop.

        Kept lean on purpose: an ordinary step is the forward, loss, backward and
        optimizer step of a hand-written loop plus a few attribute reads.
        """
        setup = self.setup
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        scheduler = self.scheduler
        clip, params, control = setup.grad_clip, self.params, self.control
        augment = self.augment
        running = self.running
        reports, samples, every = self._reports, self._samples, self._reports.every
        for xs, y in batches:
            if control.pending:
                waited = -time.perf_counter()
                if self._commands():
                    return True
                loop.exclude(waited + time.perf_counter())  # a pause is not training
            if augment is not None:
                xs, y = augment(xs, y)
            report, instr = False, None
            if not self.step % every:
                now = loop.now()
                elapsed = self.train_seconds + now - loop.started
                report = reports.due(self.step, now, elapsed)
                if report and self._instr is not None and \
                        samples.due(self.step, now, elapsed):
                    instr = self._instr
            if instr is None:
                out = model(*xs)
            else:  # (cost: time spent measuring, for the budget)
                cost = -time.perf_counter()
                instr.arm()
                cost += time.perf_counter()
                out = model(*xs)
                cost -= time.perf_counter()
                instr.disarm()
                cost += time.perf_counter()
            loss = loss_fn(out, y)
            value = reader.add(loss, xs, self.step + 1)
            if running is not None:
                running.add(out, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(params, clip)
            if instr is not None:
                cost -= time.perf_counter()
                instr.before_step()
                cost += time.perf_counter()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            self.step += 1
            self.batch += 1
            if value is not None:
                self.epoch_loss += value
                self.epoch_count += 1
                window.add(value)
            if report:
                t = loop.now()
                self._report(out, y, window.mean(), window.rate(t, setup.batch_size),
                             epoch_no, instr)
                done = loop.now()
                window.restart(done)
                reports.took(now, done - t)
                self.looking_seconds += done - t
                if instr is not None:
                    samples.took(now, cost + done - t)
                    self.looking_seconds += cost
        return False

    def _nonfinite(self, xs, step: int, epoch: int) -> TrainingError:
        return locate_nonfinite(
            self.model, self.layers, self.doc, tuple(xs), step=step, epoch=epoch,
            lr=self._lr(), input_ids=self.compiled.code.inputs, output_id=self.output_id)

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _commands(self) -> bool:
        """Handle waiting commands; True when the run must stop."""
        paused = False
        commands = self.control.take()
        while True:
            for command in commands:
                if command == "stop":
                    return True
                if command == "checkpoint" and self.out_dir is not None:
                    self.write_checkpoint("request")
                elif command == "pause" and not paused:
                    paused = True
                    self._send(PausedEvent(self.step, self.epoch + 1))
                elif command == "resume" and paused:
                    paused = False
                    self._send(ResumedEvent(self.step, self.epoch + 1))
            if not paused:
                return False
            commands = self.control.wait(0.5)

    # ================================================================ epoch end
    def _end_epoch(self, train_seconds: float) -> None:
        self._phase = "validation"
        started = time.perf_counter()
        opts = self.options
        self.epoch += 1
        self.batch = 0
        classes = self.bundle.num_classes
        val = self.feed.evaluate("val", self.model, self.loss_fn, self.task, classes,
                                 opts.eval_batch_size)
        train_metric = None
        if self.running is not None:
            train_metric = self.running.result()
            self.running.reset()
        for notice in self.feed.notices():
            self._send(notice)
        train_loss = self.epoch_loss / self.epoch_count if self.epoch_count else math.nan
        self.epoch_loss, self.epoch_count = 0.0, 0
        best = math.isfinite(val.loss) and (self.best_val is None or val.loss < self.best_val)
        if best:
            self.best_val, self.best_epoch = val.loss, self.epoch
        boundary = self._boundary()
        record = {"epoch": self.epoch, "step": self.step, "train_loss": train_loss,
                  "val_loss": val.loss, "train_metric": train_metric,
                  "val_metric": val.metric}
        label_f1 = () if val.per_label is None else tuple(float(v) for v in val.per_label)
        if label_f1:  # multi-label: each label's F1, for the run's summary
            record["val_label_f1"] = dict(zip(self.bundle.class_names, label_f1))
        self.history.append(record)
        seconds = train_seconds + time.perf_counter() - started
        self._send(EpochEvent(
            self.epoch, self.step, train_loss, val.loss, record["train_metric"],
            val.metric, metric_name(self.task), self._lr(), seconds, val.confusion,
            tuple(self.bundle.class_names) if self.task != "regression" else (),
            boundary, best, label_f1))
        if opts.feature_maps:
            self._feature_maps()
        for d in self.diagnostician.add_epoch(train_loss, val.loss, self.epoch):
            self._send(d.event(self.step, self.epoch))
        if self.out_dir is not None:
            self.write_checkpoint("epoch")
            if best and opts.keep_best:
                self.write_checkpoint("best")
        self._phase = "training"

    def _boundary(self):
        """The decision boundary after this epoch, when one is due (2-D point data)."""
        opts = self.options
        if not opts.boundary_resolution or not getattr(self.bundle, "is_2d_points", False):
            return None
        now = time.perf_counter()
        last = self.epoch >= self.setup.epochs
        if not last and opts.boundary_rate and \
                now - self._boundary_at < 1.0 / opts.boundary_rate:
            return None
        self._boundary_at = now
        return decision_boundary(self.model, self.bundle, self.task, self.device,
                                 opts.boundary_resolution, epoch=self.epoch)

    def _feature_maps(self) -> None:
        example = self.feed.example()
        if example is None:
            return
        for event in feature_maps(self.model, self.layers, example, self.step,
                                  self.epoch, self.setup.watch):
            self._send(event)

def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)

"""The studio's MLflow setting: Training > Track Runs in MLflow…

A checkable action. Checking it asks for the tracking URI (a server such as
``http://localhost:5000``, ``sqlite:///mlflow.db``, a folder; empty for
``$MLFLOW_TRACKING_URI`` or ``mlruns`` beside the runs), remembered in QSettings under
``training/mlflow`` and ``training/mlflow_uri``; from then on every run is also tracked
in MLflow by the worker (``runtime.mlflow_tracking``), next to its run folder and
TensorBoard files. Without the optional package, checking it says what to install and
leaves it off.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

ENABLED_KEY = "training/mlflow"
URI_KEY = "training/mlflow_uri"


class MlflowSetting(QObject):
    """Owns the action and answers ``uri()`` for the training runner."""

    def __init__(self, window: QWidget, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.action = QAction("Track Runs in &MLflow\u2026", window)
        self.action.setObjectName("action_track_mlflow")
        self.action.setCheckable(True)
        self.action.setStatusTip("Also record each training run in MLflow: its "
                                 "settings, curves, final metrics, network and code")
        self.action.setChecked(self._enabled() and self._available())
        self.action.toggled.connect(self._toggled)

    def uri(self) -> str | None:
        """The tracking URI runs use ("" for the default), or None: not tracked."""
        if not self.action.isChecked():
            return None
        return str(self.settings.value(URI_KEY, "") or "")

    def _enabled(self) -> bool:
        return str(self.settings.value(ENABLED_KEY, "false")).lower() == "true"

    def _available(self) -> bool:
        from runtime.mlflow_tracking import mlflow_available

        return mlflow_available()

    def _toggled(self, checked: bool) -> None:
        if checked and not self._available():
            from runtime.mlflow_tracking import MISSING

            QMessageBox.information(self.window, "Track Runs in MLflow", MISSING)
            self._set_checked(False)
            return
        if checked:
            uri, ok = self.ask_uri(str(self.settings.value(URI_KEY, "") or ""))
            if not ok:
                self._set_checked(False)
                return
            self.settings.setValue(URI_KEY, uri.strip())
        self.settings.setValue(ENABLED_KEY, "true" if checked else "false")

    def ask_uri(self, current: str) -> tuple[str, bool]:
        """The tracking URI from the user (a dialog; tests replace this)."""
        return QInputDialog.getText(
            self.window, "Track Runs in MLflow",
            "MLflow tracking URI (a server, sqlite:///mlflow.db or a folder);\n"
            "leave empty for $MLFLOW_TRACKING_URI, else mlruns beside the runs:",
            QLineEdit.EchoMode.Normal, current)

    def _set_checked(self, checked: bool) -> None:
        self.action.blockSignals(True)
        self.action.setChecked(checked)
        self.action.blockSignals(False)

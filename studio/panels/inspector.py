"""The inspector: edit the selected layer, or the network when none or several are.

With one node selected it shows a ``NodeForm`` generated from that layer type's catalog
declaration; otherwise a ``NetworkForm`` (name, description, summary). It follows the
document: a parameter changed by undo or redo updates only that field (so the field the
user is typing in keeps its focus), and analysis updates refresh the inferred values,
shapes and counts in place. Every edit goes through the controller as one undo step.

Inside an open block (``studio.block_levels``) the inspector follows that level's
controller (``follow``): selecting an inner layer shows its form, and its edits go to
the definition's body through that controller, one step each on the shared undo stack,
so every instance changes. The network page always shows the network itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from graph.events import LabelChanged, MetadataChanged, NodeRemoved, ParamsChanged

from .block_form import BlockPage
from .network_form import NetworkForm
from .node_form import NodeForm
from .param_count import ParamCounter
from .widgets import hidden_in_window

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from collections.abc import Callable

    from studio.document.controller import DocumentController


class InspectorPanel(QWidget):
    open_block_requested = Signal(str)  # "Open Block" on a selected instance

    def __init__(self, controller: DocumentController, parent: QWidget | None = None,
                 counter: ParamCounter | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("InspectorPanel")
        self.root = controller  # the network (its page, whatever level is shown)
        self.controller = controller  # the level shown: the network or an open block
        self.counter = counter or ParamCounter(self)
        self.form: NodeForm | None = None
        self.network = NetworkForm(controller, self.counter)

        # Pages in one scroll area, the footers under them: the footers (the layer's
        # training box, its charts, the Probe's value of it) scroll with the form
        # instead of taking its room (at 1280x720 they left the form a few rows).
        # The network page lives as long as the panel; node forms are made per
        # selection; inside an open block with nothing selected, that block's page
        # (made per level).
        self.network_page = _Page(self.network)
        self.node_page = _Page(None)
        self.block: BlockPage | None = None
        self.block_page = _Page(None)
        self.stack = _CurrentPageStack()
        self.stack.addWidget(self.network_page)
        self.stack.addWidget(self.node_page)
        self.stack.addWidget(self.block_page)
        from ..node_actions import NodeActionsBar

        self.actions_bar = NodeActionsBar(controller, self)
        # Views of the selected node that other features add (the Probe's value of it).
        # They follow the network's selection, so they are hidden inside an open block.
        self.footer_box = QWidget()
        self.footer = QVBoxLayout(self.footer_box)
        self.footer.setContentsMargins(8, 0, 8, 4)
        # Views of the selected node that follow the level shown, an open block's inner
        # layer too (how a layer trains, its training charts): ``add_footer(follow=)``.
        self.level_footer_box = QWidget()
        self.level_footer = QVBoxLayout(self.level_footer_box)
        self.level_footer.setContentsMargins(8, 0, 8, 0)
        self._followers: list[Callable[[DocumentController], None]] = []
        body = QWidget()
        body.setObjectName("inspector_body")
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.stack, 1)
        column.addWidget(self.level_footer_box)
        column.addWidget(self.footer_box)
        self.scroll_area = _scroll(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.actions_bar)
        layout.addWidget(self.scroll_area, 1)
        self._stale = False

        controller.metadata_changed.connect(self._on_metadata_changed)
        self._follow_signals(controller, True)
        self._on_selection(controller.selected)

    def follow(self, controller: DocumentController) -> None:
        """Show and edit the selection of ``controller``'s level (the network's, or an
        open block's)."""
        if controller is self.controller:
            return
        self._drop_form()
        self._follow_signals(self.controller, False)
        self.controller = controller
        self.block = BlockPage(controller.document) if controller is not self.root else None
        self.block_page.setWidget(self.block)
        self.actions_bar.follow(controller)
        self.footer_box.setVisible(controller is self.root)
        for follower in self._followers:
            follower(controller)
        self._follow_signals(controller, True)
        self.form = None
        self._on_selection(controller.selected)

    def _follow_signals(self, c: DocumentController, on: bool) -> None:
        pairs = [(c.selection_changed, self._on_selection),
                 (c.params_changed, self._on_params_changed),
                 (c.label_changed, self._on_label_changed),
                 (c.node_removed, self._on_node_removed),
                 (c.document_replaced, self._on_replaced),
                 (c.analysis_changed, self._on_analysis)]
        for signal, slot in pairs:
            if on:
                signal.connect(slot)
            else:
                signal.disconnect(slot)

    def add_footer(self, widget: QWidget,
                   follow: Callable[[DocumentController], None] | None = None) -> None:
        """Show ``widget`` under the forms, whatever is selected (it follows the
        selection itself). ``follow(controller)`` is called when an open block's level
        (or the network again) is shown; without it the widget hides inside blocks."""
        if follow is None:
            self.footer.addWidget(widget)
        else:
            self.level_footer.addWidget(widget)
            self._followers.append(follow)

    @property
    def node_id(self) -> str | None:
        return self.form.node_id if self.form is not None else None

    # ------------------------------------------------------------------ following
    def _on_selection(self, node_ids: list[str]) -> None:
        doc = self.controller.document
        if len(node_ids) == 1 and node_ids[0] in doc.nodes:
            if self.node_id != node_ids[0]:
                self._show_node(node_ids[0])
        else:
            self._show_network(node_ids)

    def _show_node(self, node_id: str) -> None:
        self._drop_form()
        self.form = NodeForm(self.controller, node_id, self.counter)
        self.form.open_block_requested.connect(self.open_block_requested)
        self.node_page.setWidget(self.form)
        self.stack.setCurrentWidget(self.node_page)
        self.scroll_area.verticalScrollBar().setValue(0)  # another layer: its form's top
        self.actions_bar.show_node(node_id)

    def _show_network(self, node_ids: list[str]) -> None:
        self._drop_form()
        self.actions_bar.show_node(None)
        if self.block is not None:
            self.block.refresh()
            self.stack.setCurrentWidget(self.block_page)
            return
        self.stack.setCurrentWidget(self.network_page)
        self.network.show_metadata()
        self.network.set_selection(node_ids)

    def _drop_form(self) -> None:
        if self.form is None:
            return
        self.form.flush()
        self.node_page.takeWidget()
        self.form.hide()
        self.form.deleteLater()
        self.form = None

    def _on_params_changed(self, event: ParamsChanged) -> None:
        if self.form is not None and event.node_id == self.form.node_id:
            self.form.show_param(event.name)

    def _on_label_changed(self, event: LabelChanged) -> None:
        if self.form is not None and event.node_id == self.form.node_id:
            self.form.show_node()

    def _on_node_removed(self, event: NodeRemoved) -> None:
        if self.form is not None and event.node_id == self.form.node_id:
            self._show_network([])

    def _on_metadata_changed(self, _event: MetadataChanged) -> None:
        self.network.show_metadata()

    def _on_replaced(self) -> None:
        self._show_network([])

    def _on_analysis(self, analysis) -> None:
        if self.form is not None:
            self.form.show_analysis(analysis)
        elif hidden_in_window(self):
            self._stale = True  # a hidden panel need not rebuild its summary table
        elif self.block is not None:
            self.block.refresh()
        else:
            self.network.show_analysis()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.form is None and self._stale:
            self._stale = False
            self.network.show_analysis()


def _scroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


class _Page(QWidget):
    """A page of the inspector holding one widget at a time: like a QScrollArea's,
    ``setWidget`` deletes the widget it replaces, ``takeWidget`` hands it back."""

    def __init__(self, widget: QWidget | None) -> None:
        super().__init__()
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self._widget: QWidget | None = None
        self.setWidget(widget)

    def widget(self) -> QWidget | None:
        return self._widget

    def takeWidget(self) -> QWidget | None:
        widget, self._widget = self._widget, None
        if widget is not None:
            self.box.removeWidget(widget)
            widget.setParent(None)  # hidden by the reparenting
        self.updateGeometry()
        return widget

    def setWidget(self, widget: QWidget | None) -> None:
        old, self._widget = self._widget, None
        if old is not None:
            # Deleted while still a child: a parentless widget waiting for its
            # deletion could be shown again as a window of its own (seen after an
            # undo that closed an open block's level).
            self.box.removeWidget(old)
            old.hide()
            old.deleteLater()
        self._widget = widget
        if widget is not None:
            self.box.addWidget(widget)
            widget.show()


class _CurrentPageStack(QStackedWidget):
    """A stack as tall as the page shown (a QStackedWidget is as tall as its tallest
    page, which would leave a short form scrolling over empty space)."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(lambda _i: self.updateGeometry())

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()

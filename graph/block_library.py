"""The built-in block library: the classic blocks of deep networks, as definitions.

One ``LibraryBlock`` declaration per block (conv-BN-ReLU, residual basic and bottleneck
blocks with and without a projection shortcut, MobileNetV2's inverted residual,
squeeze-and-excitation, a pre-norm transformer encoder block, an MLP block), each built
from catalog layers into a block definition (``graph.blocks``) with exposed parameters.
``builtin_document(name)`` returns a small document holding that definition; inserting
it in a network copies the definition into the network's own library
(``graph.block_insert``), where it stays editable like any block the user grouped.

Layer labels follow torchvision's attribute names (``conv1``, ``bn1``, ``downsample``),
so the generated class reads like the reference implementation and its state_dict keys
look familiar. A block whose shortcut is the identity needs its input to have as many
channels as it produces: ``fit`` names the exposed parameters an insertion may set from
the incoming tensor so that it validates at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .block_derived import DerivedParam
from .blocks import Definition, ExposedParam
from .builder import Builder
from .document import Document
from .errors import StrataError

CHANNELS, FEATURES = 1, -1  # which axis of the incoming tensor a fitted parameter follows


@dataclass(frozen=True)
class LibraryBlock:
    """One built-in block: its class name, palette title, help and how it is built."""

    name: str  # the definition's (and generated class's) name
    title: str  # what the palette shows
    help: str
    build: Callable[[_Body], None]
    # (exposed parameter, input axis): values an insertion takes from the incoming tensor
    fit: tuple[tuple[str, int], ...] = ()
    keywords: str = ""


class _Body:
    """Writes one definition's body: layers by label, ports, exposed parameters."""

    def __init__(self, doc: Document, name: str) -> None:
        self.doc, self.name = doc, name
        self.b = Builder()
        self.b.doc = Document(name, library=doc.blocks, block=name)
        self.exposed: list[ExposedParam] = []
        self.derived: list[DerivedParam] = []

    def input(self, label: str = "in") -> str:
        return self.b.add("BlockInput", label)

    def output(self, source: str, label: str = "out") -> None:
        self.b.wire(source, self.b.add("BlockOutput", label))

    def chain(self, start: str, *steps) -> str:
        return self.b.chain(start, *steps)

    def add(self, start_a: str, start_b: str, label: str = "add", kind: str = "Add") -> str:
        node = self.b.add(kind, label)
        self.b.wire(start_a, node)
        self.b.wire(start_b, node)
        return node

    def expose(self, name: str, default, *targets: str, help: str) -> None:
        """``targets`` are ``"label.param"`` of layers already added."""
        by_label = {n.label: n.id for n in self.b.doc.nodes.values()}
        pairs = []
        for target in targets:
            label, param = target.split(".")
            pairs.append((by_label[label], param))
        self.exposed.append(ExposedParam(name, default, pairs, help))

    def derive(self, name: str, expression: str, *targets: str, help: str) -> None:
        """A value computed from the exposed parameters and the input, written into
        ``targets`` (``"label.param"``): graph.block_derived."""
        by_label = {n.label: n.id for n in self.b.doc.nodes.values()}
        pairs = [(by_label[t.split(".")[0]], t.split(".")[1]) for t in targets]
        self.derived.append(DerivedParam(name, expression, pairs, help))

    def finish(self, description: str) -> Definition:
        body = self.b.done()
        body.revision = 0
        return Definition(self.name, body, self.exposed, description, self.derived)


def _conv(out: int = 16, k: int = 3, stride: int = 1, groups: int = 1) -> dict:
    return {"out_channels": out, "kernel_size": [k, k], "stride": [stride, stride],
            "padding": [k // 2, k // 2], "groups": groups, "bias": False}


# ---------------------------------------------------------------------- declarations
def _conv_bn_relu(b: _Body) -> None:
    h = b.chain(b.input(), ("Conv2d", _conv(), "conv"), ("BatchNorm2d", {}, "bn"),
                ("ReLU", {}, "relu"))
    b.output(h)
    b.expose("channels", 16, "conv.out_channels", help="Output channels.")
    b.expose("stride", 1, "conv.stride", help="Stride of the convolution (2 halves the "
             "height and width).")


def _basic(down: bool) -> Callable[[_Body], None]:
    def build(b: _Body) -> None:
        x = b.input()
        h = b.chain(x, ("Conv2d", _conv(stride=2 if down else 1), "conv1"),
                    ("BatchNorm2d", {}, "bn1"), ("ReLU", {}, "relu"),
                    ("Conv2d", _conv(), "conv2"), ("BatchNorm2d", {}, "bn2"))
        short = x
        if down:
            short = b.chain(x, ("Conv2d", _conv(k=1, stride=2), "downsample_conv"),
                            ("BatchNorm2d", {}, "downsample_bn"))
        b.output(b.chain(b.add(h, short), ("ReLU", {}, "relu_out")))
        targets = ["conv1.out_channels", "conv2.out_channels"]
        if down:
            b.expose("channels", 32, *targets, "downsample_conv.out_channels",
                     help="Output channels (the shortcut projects the input to them).")
            b.expose("stride", 2, "conv1.stride", "downsample_conv.stride",
                     help="Stride of the first convolution and of the shortcut.")
        else:
            b.expose("channels", 16, *targets, help="Channels of both convolutions: "
                     "equal to the input's, since the input is added to the output.")
    return build


def _bottleneck(down: bool) -> Callable[[_Body], None]:
    def build(b: _Body) -> None:
        x = b.input()
        h = b.chain(x, ("Conv2d", _conv(16, k=1), "conv1"), ("BatchNorm2d", {}, "bn1"),
                    ("ReLU", {}, "relu1"),
                    ("Conv2d", _conv(16, stride=2 if down else 1), "conv2"),
                    ("BatchNorm2d", {}, "bn2"), ("ReLU", {}, "relu2"),
                    ("Conv2d", _conv(64, k=1), "conv3"), ("BatchNorm2d", {}, "bn3"))
        short = x
        if down:
            short = b.chain(x, ("Conv2d", _conv(64, k=1, stride=2), "downsample_conv"),
                            ("BatchNorm2d", {}, "downsample_bn"))
        b.output(b.chain(b.add(h, short), ("ReLU", {}, "relu_out")))
        b.expose("width", 16, "conv1.out_channels", "conv2.out_channels",
                 help="Channels of the narrow 1x1 and 3x3 convolutions (a quarter of "
                 "channels in ResNet-50).")
        if down:
            b.expose("channels", 64, "conv3.out_channels", "downsample_conv.out_channels",
                     help="Output channels (the shortcut projects the input to them).")
            b.expose("stride", 2, "conv2.stride", "downsample_conv.stride",
                     help="Stride of the 3x3 convolution and of the shortcut.")
        else:
            b.expose("channels", 64, "conv3.out_channels", help="Output channels: equal "
                     "to the input's, since the input is added to the output.")
    return build


def _inverted_residual(down: bool) -> Callable[[_Body], None]:
    def build(b: _Body) -> None:
        x = b.input()
        h = b.chain(x, ("Conv2d", _conv(96, k=1), "expand"), ("BatchNorm2d", {}, "expand_bn"),
                    ("ReLU6", {}, "expand_relu"),
                    ("Conv2d", _conv(96, stride=2 if down else 1, groups=96), "depthwise"),
                    ("BatchNorm2d", {}, "depthwise_bn"), ("ReLU6", {}, "depthwise_relu"),
                    ("Conv2d", _conv(16, k=1), "project"), ("BatchNorm2d", {}, "project_bn"))
        b.output(h if down else b.add(h, x))
        b.expose("channels", 24 if down else 16, "project.out_channels",
                 help="Output channels" + ("." if down else ": equal to the input's, "
                                           "since the input is added to the output."))
        b.expose("expand_ratio", 6, help="How many times wider than its input the "
                 "middle is (6 in MobileNetV2; 1 skips most of the widening).")
        if down:
            b.expose("stride", 2, "depthwise.stride", help="Stride of the depthwise "
                     "convolution.")
        # The hidden width follows the input, as MobileNetV2 writes it (inp *
        # expand_ratio); with an identity shortcut the input has ``channels``.
        b.derive("hidden_channels", f"{'in_channels' if down else 'channels'} * expand_ratio",
                 "expand.out_channels", "depthwise.out_channels", "depthwise.groups",
                 help="Channels of the expanded middle: the input's channels times "
                 "expand_ratio.")
    return build


def _squeeze_excitation(b: _Body) -> None:
    x = b.input()
    gate = b.chain(x, ("AdaptiveAvgPool2d", {}, "pool"),
                   ("Conv2d", {**_conv(4, k=1), "bias": True}, "fc1"), ("ReLU", {}, "relu"),
                   ("Conv2d", {**_conv(16, k=1), "bias": True}, "fc2"),
                   ("Sigmoid", {}, "gate"))
    b.output(b.add(x, gate, "scale", "Multiply"))
    b.expose("channels", 16, "fc2.out_channels", help="Channels of the input, each "
             "scaled by its own learned gate.")
    b.expose("squeeze_channels", 4, "fc1.out_channels", help="Width of the bottleneck "
             "that computes the gates (channels / 16 in SENet).")


def _transformer_encoder(b: _Body) -> None:
    x = b.input()
    h = b.chain(x, ("LayerNorm", {}, "norm1"), ("SelfAttention", {"num_heads": 4}, "attn"),
                ("Dropout", {"p": 0.1}, "dropout1"))
    h = b.add(x, h, "add1")
    m = b.chain(h, ("LayerNorm", {}, "norm2"), ("Linear", {"out_features": 256}, "fc1"),
                ("GELU", {}, "gelu"), ("Linear", {"out_features": 64}, "fc2"),
                ("Dropout", {"p": 0.1}, "dropout2"))
    b.output(b.add(h, m, "add2"))
    b.expose("dim", 64, "fc2.out_features", help="Width of each position's vector: "
             "equal to the input's, since the input is added to the output.")
    b.expose("heads", 4, "attn.num_heads", help="Attention heads (dim must divide by it).")
    b.expose("mlp_dim", 256, "fc1.out_features", help="Hidden width of the MLP (4 x dim "
             "in ViT and BERT).")
    b.expose("dropout", 0.1, "dropout1.p", "dropout2.p", help="Dropout after attention "
             "and after the MLP.")


def _mlp(b: _Body) -> None:
    h = b.chain(b.input(), ("Linear", {"out_features": 64}, "fc"), ("ReLU", {}, "relu"),
                ("Dropout", {"p": 0.1}, "dropout"))
    b.output(h)
    b.expose("features", 64, "fc.out_features", help="Output features.")
    b.expose("dropout", 0.1, "dropout.p", help="Dropout probability after the activation.")


_SHORTCUT = " The input is added back (an identity shortcut), so it keeps its size."
_PROJECTION = (" The shortcut is a strided 1x1 convolution with batch norm (a projection), "
               "for where the stride or the channels change.")
BUILTINS: tuple[LibraryBlock, ...] = (
    LibraryBlock("ConvBNReLU", "Conv-BN-ReLU", "A 3x3 convolution, batch norm and ReLU: "
                 "the unit most CNNs stack.", _conv_bn_relu, keywords="conv bn relu"),
    LibraryBlock("BasicBlock", "Residual block", "ResNet-18/34's block: two 3x3 "
                 "conv-BN pairs and a ReLU." + _SHORTCUT, _basic(False),
                 (("channels", CHANNELS),), "resnet residual"),
    LibraryBlock("BasicBlockDown", "Residual block, projection", "ResNet-18/34's "
                 "block that starts a stage: two 3x3 conv-BN pairs, the first strided."
                 + _PROJECTION, _basic(True), keywords="resnet residual downsample"),
    LibraryBlock("Bottleneck", "Bottleneck block", "ResNet-50's block: a 1x1 "
                 "convolution narrows, a 3x3 works, a 1x1 widens again." + _SHORTCUT,
                 _bottleneck(False), (("channels", CHANNELS),), "resnet residual"),
    LibraryBlock("BottleneckDown", "Bottleneck, projection", "ResNet-50's "
                 "block that starts a stage: 1x1 narrows, a strided 3x3, 1x1 widens."
                 + _PROJECTION, _bottleneck(True), keywords="resnet residual downsample"),
    LibraryBlock("InvertedResidual", "Inverted residual", "MobileNetV2's block: a 1x1 "
                 "convolution expands, a depthwise 3x3 filters, a 1x1 projects back "
                 "(linear, no activation)." + _SHORTCUT, _inverted_residual(False),
                 (("channels", CHANNELS),), "mobilenet depthwise"),
    LibraryBlock("InvertedResidualDown", "Inverted residual, strided", "MobileNetV2's "
                 "block where the stride or the channels change: expand, a strided "
                 "depthwise 3x3, project; no shortcut.", _inverted_residual(True),
                 keywords="mobilenet depthwise downsample"),
    LibraryBlock("SqueezeExcitation", "Squeeze-excitation", "Rescales each channel by "
                 "a gate computed from the whole image: pool, a narrow 1x1, ReLU, a 1x1, "
                 "sigmoid, multiply (SENet).", _squeeze_excitation,
                 (("channels", CHANNELS),), "se attention channel gate"),
    LibraryBlock("TransformerEncoderBlock", "Transformer block", "A pre-norm "
                 "encoder block (ViT, GPT-2): LayerNorm, self-attention, add; LayerNorm, "
                 "an MLP with GELU, add.", _transformer_encoder, (("dim", FEATURES),),
                 "attention transformer vit bert encoder"),
    LibraryBlock("MLPBlock", "MLP block", "A fully connected layer, ReLU and dropout.",
                 _mlp, keywords="dense linear fully connected"),
)
_BY_NAME = {b.name: b for b in BUILTINS}


def builtin(name: str) -> LibraryBlock:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise StrataError(f"there is no built-in block named '{name}'") from None


def builtin_document(name: str) -> Document:
    """A fresh document whose library holds the built-in block ``name``."""
    block = builtin(name)
    doc = Document(block.title)
    b = _Body(doc, block.name)
    block.build(b)
    doc.blocks.attach(b.finish(block.help))
    return doc


__all__ = ["BUILTINS", "CHANNELS", "FEATURES", "LibraryBlock", "builtin",
           "builtin_document"]

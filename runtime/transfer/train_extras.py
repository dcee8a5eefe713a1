"""The parts of an exported train.py that fine-tuning and augmentation add.

``extra_pieces(setup, code, folder, base_dir)`` returns the template replacements for
``train_script.TEMPLATE``'s hooks, kept apart so the rest of the script stays as it is
when a setup uses none of them:

- ``@EXTRA_CODE@`` (module level): the frozen layers and learning-rate factors by
  attribute name, a ``parameter_groups(model)`` helper, ``load_matching`` for starting
  weights (copied beside the script as ``init_weights.pt``), and the augmentation
  pipeline (Kornia modules for images, two small functions for noise and masking, mixup
  and CutMix turning class ids into class probabilities), applied to training batches
  only, exactly as the engine does (``runtime.augment``).
- ``@EXTRA_SETUP@`` (after the model is built): load the weights, freeze.
- ``@AUGMENT_STEP@`` (in the training loop, after a batch is cut).
- ``@PARAMS@``: what the optimizer is built over.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..augment import SPECS, check_pipeline

# How each op is written in the script (its parameters by name, as runtime.augment
# declares them).
OP_CODE = {
    "resized_crop": "K.RandomResizedCrop(SIZE, scale=({min_scale!r}, 1.0), p={p!r})",
    "flip": "K.RandomHorizontalFlip(p={p!r})",
    "vflip": "K.RandomVerticalFlip(p={p!r})",
    "rotation": "K.RandomRotation({degrees!r}, p={p!r})",
    "color_jitter": "K.ColorJiggle({brightness!r}, {contrast!r}, {saturation!r}, {hue!r}, "
                    "p={p!r})",
    "image_noise": "K.RandomGaussianNoise(std={std!r}, p={p!r})",
    "erasing": "K.RandomErasing(scale=(0.02, {max_area!r}), p={p!r})",
    "mixup": "K.RandomMixUpV2(p={p!r}, data_keys=[\"input\", \"class\"])",
    "cutmix": "K.RandomCutMixV2(p={p!r}, data_keys=[\"input\", \"class\"], "
              "use_correct_lambda=True)",
    "noise": "Noise({std!r}, {p!r})",
    "masking": "Mask({fraction!r}, {p!r})",
}

TABLE_OPS = '''

class Noise(nn.Module):
    """Gaussian noise on the features of a random share (p) of the examples."""

    def __init__(self, std, p):
        super().__init__()
        self.std, self.p = std, p

    def forward(self, x):
        keep = (torch.rand(len(x), device=x.device) < self.p).to(x.dtype)
        return x + torch.randn_like(x) * self.std * keep.reshape(-1, *[1] * (x.dim() - 1))


class Mask(nn.Module):
    """Zeroes a random share of the features (or sequence positions)."""

    def __init__(self, fraction, p):
        super().__init__()
        self.fraction, self.p = fraction, p

    def forward(self, x):
        apply = torch.rand(len(x), device=x.device) < self.p
        drop = (torch.rand(x.shape[:2], device=x.device) < self.fraction) & apply[:, None]
        return x.masked_fill(drop.reshape(*drop.shape, *[1] * (x.dim() - 2)), 0)
'''

AUGMENT_CODE = '''

# Augmentation of the training split (validation and test are never augmented).
SIZE = @SIZE@
@CLASSES@AUGMENT = nn.ModuleList(@PLAIN@)
# Mixup / CutMix: mix pairs of examples and their classes.
MIXERS = nn.ModuleList(@MIXERS@)


def soft_targets(rows, classes, cutmix):
    """Kornia's (class, other class, lambda) rows as class probabilities."""
    a = nn.functional.one_hot(rows[:, 0].long(), classes).float()
    b = nn.functional.one_hot(rows[:, 1].long(), classes).float()
    lam = rows[:, 2:3].float()
    return lam * a + (1 - lam) * b if cutmix else (1 - lam) * a + lam * b


def augment(inputs, target):
    x = inputs[0]
    with torch.no_grad():
        for module in AUGMENT:
            x = module(x)
    for module in MIXERS:
        if target.dim() > 1:
            target = target.argmax(1)
        x, rows = module(x, target)
        target = soft_targets(
            rows.reshape(-1, len(x), 3)[-1],
            CLASSES,
            isinstance(module, K.RandomCutMixV2),
        )
    return [x, *inputs[1:]], target
'''

# 0/1 targets (multi-label, binary): Kornia pairs positions, the target rows are mixed
# with the inputs' weights (runtime.augment.mix_rows).
ROWS_MIX_CODE = (
    '''def mix_rows(rows, target, cutmix):
    """Kornia's (position, other position, lambda) rows applied to 0/1 target rows:
    each example's target becomes the weighted mix of its pair's."""
    a, b = target[rows[:, 0].long()].float(), target[rows[:, 1].long()].float()
    lam = rows[:, 2].float().reshape(-1, *[1] * (target.dim() - 1))
    return lam * a + (1 - lam) * b if cutmix else (1 - lam) * a + lam * b
''',
    '''    for module in MIXERS:
        cutmix = isinstance(module, K.RandomCutMixV2)
        x, rows = module(x, torch.arange(len(x), device=x.device))
        target = mix_rows(rows.reshape(-1, len(x), 3)[-1], target, cutmix)
    return [x, *inputs[1:]], target
''',
)

FINETUNE_CODE = '''

# Fine-tuning, as set in Strata: layers whose weights do not train, and factors on the
# learning rate per layer (attribute names of the model).
FROZEN = @FROZEN@
LR_SCALE = @LR_SCALE@


def parameter_groups(model):
    """The optimizer's parameter groups: frozen layers left out, one group per factor."""
    for name in FROZEN:
        model.get_submodule(name).requires_grad_(False)
    factor = {}
    for name, scale in LR_SCALE.items():
        for p in model.get_submodule(name).parameters():
            factor[id(p)] = scale
    groups = {}
    for p in model.parameters():
        if p.requires_grad:
            groups.setdefault(factor.get(id(p), 1.0), []).append(p)
    return [
        {"params": ps, "lr": LEARNING_RATE * f}
        for f, ps in sorted(groups.items(), key=lambda kv: -kv[0])
    ]
'''

LOAD_CODE = '''

def load_matching(model, path):
    """Copy the tensors of ``path`` whose name and shape match the model's (a new head
    of another size keeps its fresh weights)."""
    data = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model", "state_dict", "model_state_dict"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
            break
    own = model.state_dict()
    fitting = {k: v for k, v in data.items() if k in own and v.shape == own[k].shape}
    model.load_state_dict(fitting, strict=False)
    print(f"loaded {len(fitting)} of {len(own)} weight tensors from {path.name}")
'''


def _listed(items: list[str]) -> str:
    """A list literal as ruff format writes it (one item a line, trailing comma)."""
    if not items:
        return "[]"
    return "\n    [\n" + "".join(f"        {item},\n" for item in items) + "    ]\n"


def extra_pieces(setup, code, folder: Path, base_dir, num_classes: int | None,
                 input_shape: tuple[int, ...]) -> tuple[dict[str, str], list[Path], bool]:
    """(template replacements, files written, whether the script needs kornia)."""
    module_code, setup_code, written = "", "", []
    grouped = bool(setup.frozen or setup.lr_scale)
    if setup.init_weights:
        source = Path(setup.init_weights).expanduser()
        if not source.is_absolute() and base_dir is not None:
            source = Path(base_dir) / source
        target = folder / "init_weights.pt"
        if source.suffix == ".safetensors":
            import torch
            from safetensors.torch import load_file

            torch.save(load_file(str(source)), target)
        else:
            shutil.copyfile(source, target)
        written.append(target)
        module_code += LOAD_CODE
        setup_code += '    load_matching(model, HERE / "init_weights.pt")  # trained weights\n'
    if grouped:
        # Node paths inside blocks become dotted module names (every copy's for a
        # repeated block), an inner layer's factor after its block's: the same
        # parameters frozen and scaled as in Strata's own training.
        from ..finetune import depth_order, setup_modules

        modules = setup_modules(code)
        frozen = [name for n in depth_order(setup.frozen) for name in modules.get(n, ())]
        scales = {name: setup.lr_scale[n] for n in depth_order(setup.lr_scale)
                  for name in modules.get(n, ())}
        module_code += FINETUNE_CODE.replace("@FROZEN@", json.dumps(frozen)).replace(
            "@LR_SCALE@", json.dumps(scales))
    steps = check_pipeline(setup.augment)
    needs_kornia = any(SPECS[s["op"]].kind == "image" for s in steps)
    if steps:
        plain = [OP_CODE[s["op"]].format(**s) for s in steps if not SPECS[s["op"]].mixes]
        mixers = [OP_CODE[s["op"]].format(**s) for s in steps if SPECS[s["op"]].mixes]
        if any(s["op"] in ("noise", "masking") for s in steps):
            module_code += TABLE_OPS
        block = AUGMENT_CODE.replace("@SIZE@", repr(tuple(input_shape[-2:]))).replace(
            "@PLAIN@", _listed(plain)).replace("@MIXERS@", _listed(mixers))
        block = block.replace("@CLASSES@", f"CLASSES = {num_classes!r}\n" if mixers
                              and num_classes is not None else "")
        if mixers and num_classes is None:  # 0/1 targets: the rows are mixed
            block = _rows_mixed(block)
        module_code += block
    pieces = {
        "@EXTRA_CODE@": module_code,
        "@EXTRA_SETUP@": setup_code,
        "@AUGMENT_STEP@": ("            inputs, target = augment(inputs, target)  # "
                           "training batches only\n") if steps else "",
        "@PARAMS@": "parameter_groups(model)" if grouped else "model.parameters()",
        "@EXTRA_IMPORTS@": "import kornia.augmentation as K\n" if needs_kornia else "",
    }
    return pieces, written, needs_kornia


def _rows_mixed(block: str) -> str:
    """The augmentation block mixing 0/1 target rows instead of class ids."""
    helper, loop = ROWS_MIX_CODE
    start = block.index("def soft_targets(")
    end = block.index("def augment(")
    block = block[:start] + helper + "\n\n" + block[end:]
    mixers = block.index("    for module in MIXERS:\n")
    return block[:mixers] + loop

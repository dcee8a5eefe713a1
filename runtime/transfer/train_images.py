"""The image-folder part of an exported ``train.py``, for both data paths.

``list_files`` lists the images as ``runtime.datasets.files_images.scan_image_folder``
does: one subfolder per class in sorted order, files sorted by name, non-image files
left out. A folder whose subfolders are ``train`` and ``val`` (and maybe ``test``), each
holding the class subfolders, is already split: the script then lists those subfolders
in that order and uses them as the split, as Strata does, instead of drawing one. On
the device-resident path every image is decoded up front (``read_examples``); on the
streaming path each split is a ``Files`` dataset decoded by the loader's workers
(``train_stream``).
"""

from __future__ import annotations

from .train_data import literal

LIST_CODE = '''
IMAGE_SUFFIXES = @SUFFIXES@


def list_files():
    """Every image file and its class id, one subfolder per class in sorted order."""
    folders = sorted(
        p for p in DATA_FOLDER.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    files, labels = [], []
    for label, folder in enumerate(folders):
        for file in sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        ):
            files.append(file)
            labels.append(label)
    return files, np.asarray(labels, np.int64), None
'''

LIST_SPLIT_CODE = '''
IMAGE_SUFFIXES = @SUFFIXES@


def list_files():
    """Every image file, its class id and where each split's files are: the split
    subfolders in order, each with one subfolder per class in sorted order."""
    files, labels, splits = [], [], {}
    for split, name in SPLIT_FOLDERS.items():
        tree = DATA_FOLDER / name
        folders = sorted(
            p for p in tree.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
        start = len(files)
        for label, folder in enumerate(folders):
            for file in sorted(
                p
                for p in folder.iterdir()
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            ):
                files.append(file)
                labels.append(label)
        splits[split] = torch.arange(start, len(files))
    splits.setdefault("test", torch.zeros(0, dtype=torch.int64))
    return files, np.asarray(labels, np.int64), splits
'''

READ_CODE = '''
def read_image(file):
    """One image (channels, size, size) in [0, 1], resized as Strata resizes it; None
    for a file that cannot be read (skipped and counted, as Strata does), unless
    STRICT_FILES."""
    from PIL import Image

    mode = "L" if COLOR == "grayscale" else "RGB"
    try:
        with Image.open(file) as image:
            image = image.convert(mode).resize(
                (IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR
            )
            pixels = np.asarray(image, dtype=np.float32) / 255.0
    except (Image.DecompressionBombError, OSError, ValueError) as error:
        if STRICT_FILES:
            raise SystemExit(f"{file}: cannot be read ({error})") from None
        return None
    return pixels[None] if mode == "L" else pixels.transpose(2, 0, 1)


def report_skipped(files):
    """Say how many files could not be read, naming the first few (rank 0 only)."""
    if files and int(os.environ.get("RANK", "0")) == 0:
        names = ", ".join(file.name for file in files[:3])
        print(f"{len(files)} unreadable image(s) skipped (first: {names})")
'''

MEMORY_CODE = '''
def load_data():
    """The train, validation and test splits, each a tuple (images, target), every
    image decoded up front; unreadable files are left out before the split is drawn."""
    files, labels, splits = list_files()
    decoded = [read_image(file) for file in files]
    keep = [i for i, image in enumerate(decoded) if image is not None]
    report_skipped([file for file, image in zip(files, decoded) if image is None])
    if not keep:
        raise SystemExit(f"None of the {len(files)} images can be read: {DATA_FOLDER}")
    if splits:
        position = {old: new for new, old in enumerate(keep)}
        splits = {
            name: torch.tensor(
                [position[i] for i in part.tolist() if i in position], dtype=torch.int64
            )
            for name, part in splits.items()
        }
    images = np.stack([decoded[i] for i in keep]).astype(np.float32)
    labels = labels[keep]
    index = splits or split_indices(len(labels), labels, SEED)
    x = torch.from_numpy(images)
    y = network_target(torch.from_numpy(labels))
    return tuple((x[index[name]], y[index[name]]) for name in ("train", "val", "test"))
'''

STREAM_CODE = '''
class Files(torch.utils.data.Dataset):
    """One split of the files, decoded on demand (in the loader's worker processes).
    An index is a whole batch, a list of positions, as make_loader asks for it."""

    def __init__(self, files, labels):
        self.files, self.labels = files, labels

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        decoded = [read_image(self.files[i]) for i in index]
        kept = [i for i, image in zip(index, decoded) if image is not None]
        report_skipped([self.files[i] for i in index if i not in kept])
        if not kept:
            raise RuntimeError(f"No image of this batch can be read: {index}")
        images = np.stack([image for image in decoded if image is not None])
        target = network_target(torch.from_numpy(self.labels[kept]))
        return torch.from_numpy(images), target


def load_data():
    """The train, validation and test splits, each a Files dataset."""
    files, labels, splits = list_files()
    index = splits or split_indices(len(labels), labels, SEED)
    return tuple(
        Files([files[i] for i in index[name].tolist()], labels[index[name].numpy()])
        for name in ("train", "val", "test")
    )
'''


def image_constants(options: dict, split_folders: dict[str, str] | None) -> list[str]:
    """The image folder's settings, and its split subfolders when it has them."""
    lines = [
        "# The images Strata trained on: one subfolder per class"
        + (", in train/val(/test) subfolders used as the split." if split_folders
           else "."),
    ]
    from .train_data import _path_constant

    lines += [_path_constant("DATA_FOLDER", options["path"]),
              f"IMAGE_SIZE = {options['image_size']!r}",
              f"COLOR = {literal(options['color'])}",
              "STANDARDIZE = False",
              "# An unreadable image stops the script when True; else it is skipped.",
              f"STRICT_FILES = {bool(options.get('strict', False))!r}"]
    if split_folders:
        items = "".join(f"    {literal(k)}: {literal(v)},\n"
                        for k, v in split_folders.items())
        lines.append("SPLIT_FOLDERS = {\n" + items + "}")
    return lines


def image_code(split_folders: dict[str, str] | None, streaming: bool) -> str:
    """Listing, decoding and load_data for an image folder (see the docstring)."""
    from ..datasets.files_images import IMAGE_SUFFIXES

    suffixes = "(\n" + "".join(f"    {literal(s)},\n" for s in IMAGE_SUFFIXES) + ")"
    listing = (LIST_SPLIT_CODE if split_folders else LIST_CODE).replace(
        "@SUFFIXES@", suffixes)
    pieces = [listing, READ_CODE, STREAM_CODE if streaming else MEMORY_CODE]
    return "\n\n\n".join(p.strip() for p in pieces)


def split_folders_of(path) -> dict[str, str] | None:
    """The folder's train/val(/test) subfolder names, as Strata finds them; or None."""
    from pathlib import Path

    from ..datasets.files_images import _split_folders

    found = _split_folders(Path(path))
    return None if found is None else {s: p.name for s, p in found.items()}

"""The user's images: a folder with one subfolder per class.

Images are read with Pillow (an optional package; the registry says how to install it),
converted to grayscale or RGB, resized to a square of ``image_size`` pixels and scaled to
[0, 1], giving tensors shaped (1 or 3, size, size). Class names are the subfolder names,
sorted, so class ids do not depend on the file system's listing order. Files whose
extension is not an image's (notes, .DS_Store) are skipped.

A folder whose subfolders are ``train`` and ``val`` (or ``valid``/``validation``), and
optionally ``test``, each holding the class subfolders, is taken as already split: those
subfolders are the splits, and the split fractions of the setup are not used.

Two ways to read: ``scan_image_folder`` lists the files without decoding any (with
progress and cancellation, for very large folders), and ``ImageReader`` decodes one file;
the device-resident path decodes them all up front (``make_image_folder``), the streaming
path (``runtime.streaming``) decodes them in DataLoader workers. An unreadable file is
skipped and named in the run's log, or stops everything when ``strict_files`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from graph.catalog import ParamSpec

from .registry import DatasetError, DatasetSpec, FileIndex, Raw, register

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp",
                  ".ppm", ".pgm")
SCAN_REPORT_EVERY = 2000  # files between two progress reports of a folder scan
SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "valid", "validation"),
                 "test": ("test",)}


class UnreadableFile(Exception):
    """One file could not be decoded (the caller decides: skip it, or stop)."""

    def __init__(self, name: str, reason: str):
        self.name, self.reason = name, reason
        super().__init__(f"'{name}' cannot be read ({reason})")


@dataclass(frozen=True)
class ImageReader:
    """Decodes one image file into a float32 array (c, size, size) in [0, 1].

    Picklable, so DataLoader workers can run it.
    """

    size: int
    color: str  # "grayscale" or "rgb"

    @property
    def channels(self) -> int:
        return 1 if self.color == "grayscale" else 3

    def __call__(self, path) -> np.ndarray:
        """``path``: a file name, or a binary stream of an encoded image."""
        from PIL import Image, UnidentifiedImageError

        name = Path(path).name if isinstance(path, (str, Path)) else "image"
        mode = "L" if self.color == "grayscale" else "RGB"
        try:
            with Image.open(path) as im:
                im = im.convert(mode).resize((self.size, self.size),
                                             Image.Resampling.BILINEAR)
                pixels = np.asarray(im, dtype=np.float32) / 255.0
        except Image.DecompressionBombError:
            raise UnreadableFile(name, "refused: so many pixels it looks like "
                                 "a decompression bomb") from None
        except (UnidentifiedImageError, OSError, ValueError) as e:
            reason = "not an image Pillow can read" if isinstance(
                e, UnidentifiedImageError) else str(e).splitlines()[0][:120]
            raise UnreadableFile(name, reason) from None
        return pixels[None] if mode == "L" else pixels.transpose(2, 0, 1)


@dataclass
class FolderScan:
    files: list[str]
    labels: np.ndarray
    class_names: list[str]
    splits: dict[str, np.ndarray] | None = None  # from train/val/test subfolders
    names: list[str] = field(default_factory=list)  # "class/file.png", for messages
    root: str = ""


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _split_folders(root: Path) -> dict[str, Path] | None:
    subs = {p.name.lower(): p for p in _class_folders(root)}
    found = {}
    for split, names in SPLIT_FOLDERS.items():
        for name in names:
            if name in subs:
                found[split] = subs[name]
                break
    if "train" in found and "val" in found and set(subs) <= {
            n for names in SPLIT_FOLDERS.values() for n in names}:
        return found
    return None


def scan_image_folder(root: Path, progress: Callable[[int], None] | None = None,
                      cancelled: Callable[[], bool] | None = None) -> FolderScan:
    """Every image file with its class, without decoding any.

    ``progress(files_so_far)`` is called every few thousand files; when ``cancelled()``
    turns true the scan stops with a DatasetError.
    """
    splits = _split_folders(root)
    trees = splits if splits is not None else {"all": root}
    class_names: list[str] | None = None
    files: list[str] = []
    labels: list[int] = []
    names: list[str] = []
    split_index: dict[str, np.ndarray] = {}
    for split, tree in trees.items():
        folders = _class_folders(tree)
        where = f"'{tree}'"
        if not folders:
            raise DatasetError(
                f"Image folder {where} has no subfolders; put the images of each class in "
                "a subfolder named after the class (e.g. cats/ and dogs/)")
        if class_names is None:
            class_names = [f.name for f in folders]
            if len(folders) < 2:
                raise DatasetError(f"Image folder {where} has only one class subfolder "
                                   f"('{folders[0].name}'); classification needs at "
                                   "least 2")
        elif [f.name for f in folders] != class_names:
            extra = sorted({f.name for f in folders} ^ set(class_names))
            raise DatasetError(f"Image folder {where}: its class subfolders differ from "
                               f"those of train ({', '.join(extra)})")
        start = len(files)
        for label, folder in enumerate(folders):
            found = sorted(e.name for e in os.scandir(folder) if e.is_file() and
                           os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES)
            if not found and splits is None:
                raise DatasetError(
                    f"Image folder '{root}': the class subfolder '{folder.name}' holds no "
                    f"images ({', '.join(IMAGE_SUFFIXES)})")
            for name in found:
                files.append(str(folder / name))
                names.append(f"{folder.name}/{name}")
                labels.append(label)
                if len(files) % SCAN_REPORT_EVERY == 0:
                    if cancelled is not None and cancelled():
                        raise DatasetError(f"Scanning the image folder '{root}' was "
                                           f"cancelled after {len(files)} files")
                    if progress is not None:
                        progress(len(files))
        split_index[split] = np.arange(start, len(files))
    if progress is not None:
        progress(len(files))
    return FolderScan(files, np.asarray(labels, np.int64), class_names or [],
                      split_index if splits is not None else None, names, str(root))


def read_images(scan: FolderScan, reader: ImageReader, strict: bool
                ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Decode every file: (images, labels, names skipped, kept positions)."""
    images: list[np.ndarray] = []
    kept: list[int] = []
    skipped: list[str] = []
    for i, file in enumerate(scan.files):
        try:
            images.append(reader(file))
            kept.append(i)
        except UnreadableFile as e:
            if strict:
                raise DatasetError(f"Image folder '{scan.root}': the file "
                                   f"'{scan.names[i]}' cannot be read ({e.reason})"
                                   ) from None
            skipped.append(scan.names[i])
    keep = np.asarray(kept, np.int64)
    shape = (0, reader.channels, reader.size, reader.size)
    stacked = np.stack(images).astype(np.float32) if images else np.zeros(shape, np.float32)
    return stacked, scan.labels[keep], skipped, keep


def read_image_folder(root: Path, size: int, color: str, strict: bool = True):
    """(images (n, c, size, size) float32, labels (n,), class names)."""
    scan = scan_image_folder(root)
    images, labels, _, _ = read_images(scan, ImageReader(size, color), strict)
    return images, labels, scan.class_names


def _kept_splits(scan: FolderScan, keep: np.ndarray) -> dict[str, np.ndarray] | None:
    if scan.splits is None:
        return None
    position = np.full(len(scan.files), -1, np.int64)
    position[keep] = np.arange(len(keep))
    out = {s: position[i][position[i] >= 0] for s, i in scan.splits.items()}
    out.setdefault("test", np.zeros(0, np.int64))
    return out


def make_image_folder(o, rng) -> Raw:
    root = o["path"]
    scan = scan_image_folder(root)
    images, labels, skipped, keep = read_images(
        scan, ImageReader(o["image_size"], o["color"]), o.get("strict", False))
    if not len(labels):
        raise DatasetError(f"Image folder '{root}': none of its {len(scan.files)} image "
                           f"files can be read (the first: {', '.join(skipped[:3])})")
    return Raw([images], labels, "classification", scan.class_names,
               display_name=root.name, splits=_kept_splits(scan, keep), skipped=skipped)


def index_image_folder(o, progress=None, cancelled=None) -> FileIndex:
    root = o["path"]
    scan = scan_image_folder(root, progress, cancelled)
    reader = ImageReader(o["image_size"], o["color"])
    return FileIndex(scan.files, scan.labels, scan.class_names,
                     (reader.channels, reader.size, reader.size), reader,
                     display_name=root.name, splits=scan.splits, names=scan.names)


register(DatasetSpec(
    "image_folder", "Image folder", "Your files",
    "A folder with one subfolder of images per class (cats/, dogs/, ...), or with train/ "
    "and val/ (and test/) subfolders holding those; images are resized to a square and "
    "converted to grayscale or RGB. Large folders stream from disk.", make_image_folder,
    (ParamSpec("path", "str", "", "The folder holding one subfolder per class."),
     ParamSpec("image_size", "int", 28, "Width and height the images are resized to.",
               min=4, max=512),
     ParamSpec("color", "choice", "grayscale", "grayscale gives 1 channel, rgb 3.",
               choices=("grayscale", "rgb"))),
    input_summary="images of (1 or 3, size, size)", needs=("Pillow",),
    path_kind="folder", index=index_image_folder))

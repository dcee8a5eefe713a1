"""The user's images: a folder with one subfolder per class.

Images are read with Pillow (an optional package; the registry says how to install it),
converted to grayscale or RGB, resized to a square of ``image_size`` pixels and scaled to
[0, 1], giving tensors shaped (1 or 3, size, size). Class names are the subfolder names,
sorted, so class ids do not depend on the file system's listing order. Files whose
extension is not an image's (notes, .DS_Store) are skipped; a file with an image
extension that cannot be decoded is an error naming it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from graph.catalog import ParamSpec

from .registry import DatasetError, DatasetSpec, Raw, register

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp",
                  ".ppm", ".pgm")


def read_image_folder(root: Path, size: int, color: str):
    """(images (n, c, size, size) float32, labels (n,), class names)."""
    from PIL import Image, UnidentifiedImageError

    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(
            f"Image folder '{root}' has no subfolders; put the images of each class in a "
            "subfolder named after the class (e.g. cats/ and dogs/)")
    if len(folders) < 2:
        raise DatasetError(f"Image folder '{root}' has only one class subfolder "
                           f"('{folders[0].name}'); classification needs at least 2")
    mode = "L" if color == "grayscale" else "RGB"
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, folder in enumerate(folders):
        files = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DatasetError(
                f"Image folder '{root}': the class subfolder '{folder.name}' holds no "
                f"images ({', '.join(IMAGE_SUFFIXES)})")
        for file in files:
            try:
                with Image.open(file) as im:
                    im = im.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
                    pixels = np.asarray(im, dtype=np.float32) / 255.0
            except (UnidentifiedImageError, OSError, ValueError) as e:
                reason = "not an image Pillow can read" if isinstance(
                    e, UnidentifiedImageError) else str(e)
                raise DatasetError(f"Image folder '{root}': the file "
                                   f"'{folder.name}/{file.name}' cannot be read "
                                   f"({reason})") from None
            images.append(pixels[None] if mode == "L" else pixels.transpose(2, 0, 1))
            labels.append(label)
    return (np.stack(images).astype(np.float32), np.asarray(labels, np.int64),
            [f.name for f in folders])


def make_image_folder(o, rng) -> Raw:
    root = o["path"]
    images, labels, names = read_image_folder(root, o["image_size"], o["color"])
    return Raw([images], labels, "classification", names, display_name=root.name)


register(DatasetSpec(
    "image_folder", "Image folder", "Your files",
    "A folder with one subfolder of images per class (cats/, dogs/, ...); images are "
    "resized to a square and converted to grayscale or RGB.", make_image_folder,
    (ParamSpec("path", "str", "", "The folder holding one subfolder per class."),
     ParamSpec("image_size", "int", 28, "Width and height the images are resized to.",
               min=4, max=512),
     ParamSpec("color", "choice", "grayscale", "grayscale gives 1 channel, rgb 3.",
               choices=("grayscale", "rgb"))),
    input_summary="images of (1 or 3, size, size)", needs=("Pillow",),
    path_kind="folder"))

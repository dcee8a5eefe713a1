"""Hostile data files are refused with the file, row and column, before decoding, in
bounded time and memory."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from reliability_helpers import bounded

from runtime.datasets.files_table import read_csv, read_npz
from runtime.datasets.registry import DatasetError


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def _zip(path, entries: dict[str, bytes], compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compress) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path, monkeypatch):
    # 600 MB of zeros compress to well under a megabyte; nothing is decoded.
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("X.npy", "w", force_zip64=True) as f:
        array_header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            array_header, {"descr": "<f4", "fortran_order": False,
                           "shape": (150_000_000, 1)})
        f.write(array_header.getvalue())
        chunk = bytes(2**24)
        for _ in range(36):
            f.write(chunk)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("y.npy", _npy(np.zeros(3)))
    assert path.stat().st_size < 2_000_000
    monkeypatch.setenv("STRATA_MAX_DATASET_GB", "0.25")  # the limit the user can raise
    with bounded(20, 100), pytest.raises(DatasetError, match="decodes to 0.6 GB.*limit"):
        read_npz(path, "auto", "float")


def test_a_header_claiming_10_12_elements_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 1)})
    path = _zip(tmp_path / "claim.npz", {"X.npy": header.getvalue() + bytes(64),
                                         "y.npy": _npy(np.zeros(3))})
    with bounded(10, 50), pytest.raises(DatasetError, match=r"\(1000000000000, 1\).*limit"):
        read_npz(path, "auto", "float")


def test_entries_that_are_not_npy_arrays(tmp_path):
    path = _zip(tmp_path / "odd.npz", {"X.npy": b"hello, not an array",
                                       "y.npy": _npy(np.zeros(3))})
    with pytest.raises(DatasetError, match="'X' is not a readable .npy array"):
        read_npz(path, "auto", "float")


@pytest.mark.parametrize("x, y, words", [
    (np.zeros((0, 3)), np.zeros(0), "'X' is empty"),
    (np.zeros((5, 0)), np.zeros(5), "0 features per example"),
    (np.ones((5, 2)) * (1 + 2j), np.zeros(5), "complex numbers"),
])
def test_arrays_that_would_change_silently_are_refused(tmp_path, x, y, words):
    path = _npz(tmp_path / "d.npz", X=x, y=y)
    with pytest.raises(DatasetError, match=words):
        read_npz(path, "auto", "float")


def test_csv_quoted_line_break_is_one_field_and_refused_by_row_and_column(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('a,b,label\n1,2,x\n"1\n2",3,y\n4,5,x\n')
    with pytest.raises(DatasetError, match=r"q.csv', row 3, column 'a' holds '1\\n2'"):
        read_csv(path, "", "", "auto")


def test_csv_nul_in_a_label_is_refused(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_text("a,label\n1,x\n2,x\x00\n3,y\n")
    with pytest.raises(DatasetError, match="row 3, target column 'label' holds a NUL"):
        read_csv(path, "", "", "auto")


def test_a_40000_column_csv_reads_in_linear_time(tmp_path):
    columns = 40_000
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(columns)) + ",label"
    row = ",".join("1" for _ in range(columns))
    path.write_text("\n".join([header] + [f"{row},{i % 2}" for i in range(20)]) + "\n")
    with bounded(15):
        x, *_ = read_csv(path, "", "", "auto")
    assert x.shape == (20, columns)

"""The dataset preview of a CSV file that streams: class counts and a few rows from the
scan, never the whole file."""

from __future__ import annotations

from runtime.datasets import csv_stream
from tests.runtime.test_csv_streaming import spec, table


def test_the_preview_of_a_streamed_csv_counts_classes_and_shows_rows(tmp_path,
                                                                     monkeypatch):
    from studio.training.dataset_preview import summarize

    path = table(tmp_path / "t.csv", 80)
    monkeypatch.setattr(csv_stream, "STREAM_FILE_BYTES", 100)
    out = summarize(spec(path), seed=0, val_fraction=0.2, test_fraction=0.1)
    assert "streams from disk" in out["describe"]
    assert out["counts"].sum() == 56 and len(out["rows"]) == 4
    assert "\u2192" in out["rows"][0] and "images" not in out

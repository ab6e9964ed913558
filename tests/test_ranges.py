"""Record ranges: the driver describes a corpus file's records by where they lie, and the worker that
reads a range gets the records a whole-file read gives, with the same ids, problems and messages."""

from __future__ import annotations

import csv
import gzip
import io
import json
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import seed_text
from kefu_corpus.ranges import RecordRange, describe_part, expand
from kefu_corpus.sources import Sidecar, content_parts, discover, iter_items

FORMATS = ["jsonl", "jsonl.gz", "csv", "csv.gz", "parquet"]


def _records() -> list[dict]:
    """Sixty records of seed text, with what readers must keep straight: ids the file repeats, records
    without an id, text that is not a string, and (in text) newlines, quotes, commas and a lone CR."""
    texts = [seed_text(s) for s in ("000", "001", "002", "003", "004")]
    rows = []
    for i in range(60):
        text = texts[i % 5][(i * 37) % 400:][:300 + 40 * (i % 7)]
        rid = "dup" if i % 17 == 3 else ("" if i % 11 == 5 else f"r{i}")
        rows.append({"id": rid, "text": text + ("\r, \"引文\"\r\n" if i % 9 == 2 else ""),
                     "title": f"标题 {i}"})
    rows[20]["text"] = None  # a record without text
    return rows


def _write(path, fmt: str, rows: list[dict]) -> None:
    if fmt.startswith("jsonl"):
        lines = []
        for i, row in enumerate(rows):
            lines.append(json.dumps(row, ensure_ascii=False))
            if i % 13 == 4:
                lines.append("")  # a blank line
            if i == 30:
                lines.append("{not json")  # a broken record
        data = ("\n".join(lines) + "\n").encode("utf-8")
    elif fmt.startswith("csv"):
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["id", "text", "title"])
        for i, row in enumerate(rows):
            writer.writerow([row["id"], row["text"] or "", row["title"]])
            if i == 30:
                out.write("only,two\r\n")  # a row with the wrong number of cells
            if i % 13 == 4:
                out.write("\r\n")  # an empty row
        data = ("\ufeff" + out.getvalue()).encode("utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=7)
        return
    path.write_bytes(gzip.compress(data) if fmt.endswith(".gz") else data)


def _key(item) -> tuple:
    return (item.source_path, item.source_record, item.text, item.fields, item.problem)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_part_read_from_its_ranges_gives_the_records_a_whole_read_gives(tmp_path, fmt):
    raw = tmp_path / "raw"
    raw.mkdir()
    _write(raw / f"corpus.{fmt}", fmt, _records())
    inventory = discover(raw, text_extensions=(".txt",), sidecar_name="metadata.csv", follow_symlinks=False)
    whole = list(iter_items(inventory, Sidecar(), text_column="text", id_column="id"))
    assert any(item.problem for item in whole) and any("@" in (i.source_record or "") for i in whole)

    files = {inventory.rel(p): p for p in inventory.corpora}
    parts = list(content_parts(iter_items(inventory, Sidecar(), text_column="text", id_column="id"), 4000))
    assert len(parts) > 3
    read_back, sent = [], 0
    for index, part in enumerate(parts):
        described = describe_part(part, files=files, scratch=tmp_path / "scratch", index=index,
                                  text_column="text", id_column="id")
        # The driver sends where the records are, not their text.
        assert all(item.text is None and item.data is None for item in described)
        assert any(isinstance(item.records, RecordRange) for item in described)
        sent += len(pickle.dumps(described))
        read_back += list(expand(described))
    assert [_key(i) for i in read_back] == [_key(i) for i in whole]
    text_bytes = sum(len((i.text or "").encode()) for i in whole)
    assert sent < text_bytes / 5
    if fmt.endswith(".gz"):  # a compressed file's ranges are the driver's copies, in the scratch folder
        assert len(list((tmp_path / "scratch").iterdir())) == len(parts)
    else:
        assert not (tmp_path / "scratch").exists()

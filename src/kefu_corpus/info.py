"""Describe an output folder: its tables, their rows and schema versions, and the run that wrote them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from kefu_corpus import tablefiles
from kefu_corpus.schemas import TABLES
from kefu_corpus.store import MANIFEST, file_sha256, read_manifest, run_folder


def describe(out: Path) -> dict[str, Any]:
    """What ``out`` holds, read from Parquet footers and the manifest (no table is read in full).

    Returns a dict with ``tables`` (name, file, rows, bytes, schema_version, status), ``run`` (the
    manifest without its bulky parts) and ``warnings`` (files the manifest does not account for, or
    row counts that disagree with it).
    """
    folder = run_folder(out)  # one run, even if another commits meanwhile
    manifest = read_manifest(folder)
    listed = manifest.get("tables", {})
    tables, warnings = [], []
    for name, entry in sorted(listed.items()):
        path = folder / entry["file"]
        if not tablefiles.exists(path):
            warnings.append(f"{entry['file']} is listed in {MANIFEST} but missing.")
            continue
        parts = tablefiles.files(path)
        if len(parts) != entry.get("parts", len(parts)):
            warnings.append(f"{entry['file']} has {len(parts)} part(s); {MANIFEST} says {entry['parts']}. "
                            "It was changed after the run: rerun `kefu run`.")
        try:
            metas = [pq.read_metadata(p) for p in parts]
        except (OSError, pa.ArrowException) as exc:
            warnings.append(f"{entry['file']} is not a readable Parquet table ({exc}): rerun `kefu run`.")
            continue
        kv = metas[0].metadata or {}
        version = int(kv.get(b"kefu.schema_version", b"0"))
        rows = sum(m.num_rows for m in metas)
        if rows != entry["rows"]:
            warnings.append(f"{entry['file']} has {rows} rows; {MANIFEST} says {entry['rows']}. "
                            "It was changed after the run: rerun `kefu run`.")
        tables.append({"table": name, "file": entry["file"], "rows": rows, "parts": len(parts) if path.is_dir() else None,
                       "bytes": sum(p.stat().st_size for p in parts), "schema_version": version,
                       "current_version": TABLES[name].version if name in TABLES else None})
    known_files = {e["file"] for e in listed.values()}
    for path in sorted(out.glob("*.parquet")):
        if path.name not in known_files and path.exists():
            warnings.append(f"{path.name} is not from the last run (not in {MANIFEST}); it may be stale.")
    model = manifest.get("stages", {}).get("topics", {}).get("model")
    if model:
        path = folder / model["file"]
        if not path.is_file():
            warnings.append(f"{model['file']} is listed in {MANIFEST} but missing: rerun `kefu topics`.")
        elif file_sha256(path) != model.get("sha256"):
            warnings.append(f"{model['file']} does not match the SHA-256 in {MANIFEST}; it will not be loaded: "
                            "rerun `kefu topics`.")
    run = {k: v for k, v in manifest.items() if k not in ("inputs", "tables")}
    run["n_inputs"] = len(manifest.get("inputs", []))
    return {"out": str(out), "tables": tables, "run": run, "warnings": warnings}

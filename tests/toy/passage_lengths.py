"""A toy stage, as a user would add one: the longest passages of the corpus, written as a JSON artifact.

This module and its line in ``kefu_corpus.stages.REGISTRY`` are all it takes (see tests/test_stages.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from kefu_corpus.config import Section, param, positive
from kefu_corpus.stage import Stage, StageRun


@dataclass(frozen=True)
class LengthParams(Section):
    """``lengths.*``: how many passages to list."""

    SECTION: ClassVar[str] = "lengths"

    top: int = param(3, "an int >= 1", positive, "Passages listed, longest first.")


def run(ctx: StageRun) -> dict[str, Any]:
    """The ``top`` longest passages of the deduplicated view, with their document."""
    from kefu_corpus import tablefiles

    params = LengthParams.from_config(ctx.config)
    passages = tablefiles.read(ctx.input("passages"), columns=["doc_id", "passage_id", "text_canonical", "is_duplicate"])
    rows = [r for r in passages.to_pylist() if not r["is_duplicate"]]
    rows.sort(key=lambda r: (-len(r["text_canonical"]), r["passage_id"]))
    longest = [{"doc_id": r["doc_id"], "passage_id": r["passage_id"], "chars": len(r["text_canonical"])}
               for r in rows[: params.top]]
    ctx.writer.artifact("lengths/longest.json").write_text(json.dumps(longest), encoding="utf-8")
    return {"seconds": 0.0, "passages": len(rows), "top": params.top}


STAGE = Stage("lengths", "The longest passages of the corpus.", requires=("passages",), assigns=(), runner=run,
              params=(LengthParams,))

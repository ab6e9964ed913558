"""The repair search's settings, in a module of their own: light to import (the normalise stage's
declaration reads its configuration defaults from here, and the command line imports that)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RepairParams:
    """Search and acceptance settings of :func:`~kefu_corpus.text.repair.repair`. Six of them are
    configuration keys (``normalise.repair_*``): the normalise stage declares them with these defaults
    and builds this from the configuration (``NormaliseParams.repair_params``)."""

    beam: int = 64  # states kept at each place in the garbage
    beam_dropping: int = 16  # more states kept there that must assume a dropped pair before reading on
    per_state: int = 32  # children each state may pass on to the beam
    per_state_done: int = 128  # more children that end the run each state may pass on
    finals: int = 64  # finished readings, per place they end, scored with the text after the run
    max_dropped: int = 3  # consecutive unassigned pairs the search assumes at one place
    min_gain: float = 6.0  # nats a reading must beat the unrepaired text by
    word_weight: float = 1.0  # share of the word model in what the character n-grams back off to (0 to 1)
    shape_weight: float = 0.3  # share of the shape model in the log score of punctuation (0 to 1)
    word_factor: float = 0.15  # weight of the word model's log score added to each character's (0 to 1)
    max_run: int = 2000  # characters of damage one run may span
    give_up: float = 20.0  # nats behind the unrepaired text at which the search stops
    site_threshold: float = -9.5  # sites whose next characters score above this are not searched (site_scores)

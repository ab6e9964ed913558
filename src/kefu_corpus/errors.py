"""The one domain exception the library raises; only the CLI turns it into an exit code."""

from __future__ import annotations


class KefuError(Exception):
    """A problem the user can fix: bad options, a missing folder, an unreadable config.

    Parameters
    ----------
    message
        What is wrong, naming the file or option concerned.
    hint
        What to do about it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

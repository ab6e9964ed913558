"""kefu-corpus: a bilingual Chinese corpus toolkit for customer-service industry commentary."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed package's metadata when first asked for.

    Lazily: importing :mod:`importlib.metadata` takes tens of milliseconds, which every ``kefu``
    command would pay at start-up.
    """
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    global __version__
    try:
        __version__ = version("kefu-corpus")
    except PackageNotFoundError:  # running from a source tree without installation
        __version__ = "0.0.0+unknown"
    return __version__

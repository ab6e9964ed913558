"""kefu-corpus: a bilingual Chinese corpus toolkit for customer-service industry commentary."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kefu-corpus")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

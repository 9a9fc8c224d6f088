"""sitegen: a static site generator for math blogs whose derivations are checked."""

__version__ = "0.1.0"

"""jacode: build and evaluate LLMs that are strong at Japanese and software development."""

__version__ = "0.1.0"

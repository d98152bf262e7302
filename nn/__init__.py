"""nn: neural networks built on autodiff's public API."""

__all__: list[str] = []

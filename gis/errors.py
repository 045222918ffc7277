"""The one error the GIS library raises for bad input: a message a person can act on, and the thing it is
about (a file, a parcel, an option), so the CLI prints one line and the API answers 4xx."""
from __future__ import annotations


class GisError(ValueError):
    def __init__(self, message: str, field: str = "boundary", rule: str | None = None):
        super().__init__(message)
        self.message, self.field, self.rule = message, field, rule

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

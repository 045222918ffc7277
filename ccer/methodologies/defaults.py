"""Parameter defaults of a plug-in, read from its data/defaults.json, each with its provenance:
{"SYMBOL": {"value": "0.5", "document": "...", "table": "...", "edition": "...", "status": "VERIFIED"}}."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path


class Defaults:
    def __init__(self, package_file: str):
        self.path = Path(package_file).parent / "data" / "defaults.json"
        self.doc = json.loads(self.path.read_text(encoding="utf-8"))

    def source(self, symbol: str) -> str:
        d = self.doc[symbol]
        return f"{d['document']}, {d['table']} ({d['edition']}) [{d['status']}]"

    def __call__(self, symbol: str) -> dict:
        """Keyword arguments for Param: default and source."""
        return {"default": Decimal(self.doc[symbol]["value"]), "source": self.source(symbol)}

    def value(self, symbol: str) -> Decimal:
        return Decimal(self.doc[symbol]["value"])

    def table(self, name: str) -> dict:
        return self.doc[name]

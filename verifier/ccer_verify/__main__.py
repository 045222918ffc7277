"""ccer-verify EXPORT [--key HEX|FILE] [--trust CHECKPOINT.json]: exit 0 when the export checks, 1 naming its
first bad line, 2 on a usage error."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import BadLine, load_checkpoint, verify


def _key(arg: str | None) -> str | None:
    """A public key given as hex, or as a file holding the hex or the published JSON ({"public_key": …})."""
    if arg is None:
        return None
    text = arg.strip()
    if len(text) != 64:
        with open(text, encoding="utf-8") as f:
            text = f.read().strip()
        if text.startswith("{"):
            text = json.loads(text)["public_key"]
    bytes.fromhex(text)
    return text.lower()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ccer-verify", description="Check a ccer ledger export (JSON lines) without the platform.")
    ap.add_argument("export", help="the export file (`ccer ledger export -o FILE`), or - for standard input")
    ap.add_argument("--key", help="the registry's public key you trust: 64 hex digits, or a file with them "
                                  "(or the JSON of GET /api/v1/public/ledger/key)")
    ap.add_argument("--trust", help="a checkpoint you kept earlier (JSON): the export must contain it")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing when the export checks")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="processes checking chunks of lines side by side (default: the number of cores)")
    args = ap.parse_args(argv)
    try:
        key = _key(args.key)
        trust = None
        if args.trust:
            with open(args.trust, encoding="utf-8") as f:
                trust = load_checkpoint(json.load(f))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        if args.export == "-":
            result = verify(sys.stdin.buffer, key=key, trust=trust, jobs=args.jobs)
        else:
            with open(args.export, "rb") as f:
                result = verify(f, key=key, trust=trust, jobs=args.jobs)
    except BadLine as bad:
        print(f"FAIL {bad}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        for w in result.warnings:
            print(f"note: {w}", file=sys.stderr)
        print(f"{result.summary()} ({time.perf_counter() - started:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

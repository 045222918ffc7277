"""Trading fees (Trading Rules Art. 24; ccer-rules.md §7 Fees): a commission per method and side, in fen,
rounded half up. The listing-agreement commission published as "6‰ of turnover, both sides" is UNCONFIRMED
(the announcement's table cell reads "6%‰"); block and auction fees are "to be announced". The exchange
sets the rates: `CCER_MARKET_FEES`, JSON {"listing": {"buy": "0.006", "sell": "0.006"}, …}, else these."""
from __future__ import annotations

import json
import os
from decimal import ROUND_HALF_UP, Decimal

DEFAULT_RATES = {
    "listing": {"buy": Decimal("0.006"), "sell": Decimal("0.006")},  # UNCONFIRMED (see above)
    "block": {"buy": Decimal("0"), "sell": Decimal("0")},  # 另行通知: to be announced
    "auction": {"buy": Decimal("0"), "sell": Decimal("0")},  # 另行通知: to be announced
}
#: opening and annual fees in fen, waived for key emitting units
OPENING_FEE, ANNUAL_FEE = 200_000, 100_000


def rates() -> dict[str, dict[str, Decimal]]:
    configured = os.environ.get("CCER_MARKET_FEES")
    if not configured:
        return DEFAULT_RATES
    out = {m: dict(sides) for m, sides in DEFAULT_RATES.items()}
    for method, sides in json.loads(configured).items():
        for side, rate in sides.items():
            out.setdefault(method, {})[side] = Decimal(str(rate))
    return out


def buy_cost(method: str, amount: int) -> int:
    """What a purchase of `amount` fen costs the buyer: the amount and its commission."""
    return amount + commission(method, "buy", amount)


def schedule(order_method: str) -> str:
    """The fee schedule an order's reservation follows: a sealed auction bid ("bid") pays the auction's."""
    return "auction" if order_method == "bid" else order_method


def commission(method: str, side: str, amount: int) -> int:
    """The commission in fen on a turnover of `amount` fen."""
    rate = rates()[method][side]
    return int((Decimal(amount) * rate).to_integral_value(rounding=ROUND_HALF_UP))

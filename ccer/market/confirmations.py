"""Electronic trade confirmations (电子交易凭证, Trading Rules Art. 19–20): a trade is final when matched and the
exchange's record governs; each trade gets a bilingual PDF stating its number, instrument, parties, price,
quantity, amount, commissions, settlement status and the registry's delivery (transfer id), checked against
the registry's own record of that delivery. The two parties and the exchange may download it."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..infra import clock, documents
from ..infra.actor import Actor
from ..auth import policy
from ..auth.roles import Role
from ..infra.errors import NotFound
from ..issuance.models import Account, Transfer
from ..projects.models import Project
from .models import Instrument, Trade, TradingAccount


@dataclass(frozen=True)
class TradeParties:
    """What the policy checks a confirmation against: the organisations on either side."""

    buyer_organisation_id: int
    seller_organisation_id: int


def _party(actor: Actor, parties: TradeParties) -> bool:
    return actor.organisation_id is not None and actor.organisation_id in (parties.buyer_organisation_id, parties.seller_organisation_id)


METHODS = {"listing": ("挂牌协议", "Listing agreement"), "block": ("大宗协议", "Block agreement"),
           "auction": ("单向竞价", "One-way auction"), "bid": ("单向竞价", "One-way auction")}
STATUSES = {"pending": ("待交收", "Pending settlement (after the close, delivery versus payment)"),
            "settled": ("已交收", "Settled: CCERs delivered by the registry, funds by the exchange"),
            "failed": ("交收失败", "Not settled: nothing delivered, nothing paid")}


def get_trade(session: Session, ref: str) -> Trade:
    text = str(ref or "").strip()
    trade = session.execute(select(Trade).where(Trade.ref == text)).scalar_one_or_none() if 0 < len(text) <= 40 and text.isprintable() else None
    if trade is None:
        raise NotFound(f"no trade {ref}", field="trade")
    return trade


def parties(session: Session, trade: Trade) -> TradeParties:
    buyer, seller = session.get(TradingAccount, trade.buyer_id), session.get(TradingAccount, trade.seller_id)
    return TradeParties(buyer.organisation_id, seller.organisation_id)


def require_readable(session: Session, actor: Actor, trade: Trade) -> None:
    policy.require(actor, "market.confirmation.read", parties(session, trade))


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ["", "拾", "佰", "仟"]
_LARGE = ["", "万", "亿", "万亿"]


def rmb_upper(fen: int) -> str:
    """An amount in fen written in Chinese capital numerals, as on financial documents: 60241800.00 CNY →
    人民币陆仟零贰拾肆万壹仟捌佰元整."""
    if fen < 0:
        return "负" + rmb_upper(-fen)
    yuan, jiao, f = fen // 100, fen // 10 % 10, fen % 10
    if yuan == 0:
        words = ""
    else:
        groups, n = [], yuan
        while n:
            groups.append(n % 10_000)
            n //= 10_000
        words, zero = "", False
        for i in range(len(groups) - 1, -1, -1):
            g = groups[i]
            if g == 0:
                zero = bool(words)
                continue
            part, inner_zero = "", False
            for pos in range(3, -1, -1):
                d = g // 10**pos % 10
                if d == 0:
                    inner_zero = bool(part) or bool(words)
                    continue
                if inner_zero or (zero and not part):
                    part += "零"
                part += _DIGITS[d] + _SMALL[pos]
                inner_zero = zero = False
            words += part + _LARGE[i]
        words += "元"
    if not jiao and not f:
        return "人民币" + (words or "零元") + "整"
    tail = (_DIGITS[jiao] + "角" if jiao else ("零" if words else "")) + (_DIGITS[f] + "分" if f else "")
    return "人民币" + words + tail


def cny(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"


def context(session: Session, trade: Trade) -> dict:
    inst = session.get(Instrument, trade.instrument_id)
    project = session.get(Project, inst.project_id)
    side = {}
    for name, account_id in (("buyer", trade.buyer_id), ("seller", trade.seller_id)):
        account = session.get(TradingAccount, account_id)
        registry = session.get(Account, account.registry_account_id)
        side[name] = {"name": account.organisation.name, "name_en": account.organisation.name_en, "uscc": account.organisation.uscc,
                      "trading_account": account.number, "registry_account": registry.number, "registry_account_id": registry.id}
    transfer = session.get(Transfer, trade.transfer_id) if trade.transfer_id else None
    check = None
    if trade.status == "settled":
        # the registry's own record of the delivery must be this trade: number, quantity, seller → buyer
        problems = []
        if transfer is None:
            problems.append(f"the registry has no transfer {trade.transfer_id}")
        else:
            if transfer.trade_ref != trade.ref:
                problems.append(f"the registry's transfer {transfer.id} is for trade {transfer.trade_ref}")
            if transfer.quantity != trade.quantity:
                problems.append(f"the registry delivered {transfer.quantity} t")
            if (transfer.from_account_id, transfer.to_account_id) != (side["seller"]["registry_account_id"], side["buyer"]["registry_account_id"]):
                problems.append("the registry delivered between other accounts")
        check = {"ok": not problems, "problems": problems}
    return {
        "t": trade, "instrument": inst, "project": project, "buyer": side["buyer"], "seller": side["seller"],
        "method": METHODS.get(trade.method, (trade.method, trade.method)), "status": STATUSES[trade.status],
        "price": cny(trade.price), "amount": cny(trade.amount), "amount_upper": rmb_upper(trade.amount),
        "buyer_fee": cny(trade.buyer_fee), "seller_fee": cny(trade.seller_fee),
        "buyer_pays": cny(trade.amount + trade.buyer_fee), "seller_receives": cny(trade.amount - trade.seller_fee),
        "matched_at": clock.local(trade.matched_at), "settled_at": clock.local(trade.settled_at) if trade.settled_at else None,
        "transfer": transfer, "transfer_at": clock.local(transfer.executed_at) if transfer else None, "check": check,
        "issued_at": clock.now(session),
    }


def html(session: Session, trade: Trade) -> str:
    return documents.render_html("documents/trade_confirmation.html", **context(session, trade))


def pdf(session: Session, trade: Trade) -> bytes:
    return documents.to_pdf(html(session, trade))


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("market.confirmation.read", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 20: 电子交易凭证")
    policy.allow("market.confirmation.read", *policy.ALL, when=_party, text="a user of a party to the trade", cites="Trading Rules Art. 20: 电子交易凭证")

"""ccer market …: the exchange operator's console — trading accounts and operators, instruments (confirm,
halt, resume), taking in the registry's moves, the day's settlement, the reconciliation of the two ledgers,
market data, trade confirmations. Participants trade through the REST API or the web pages; `deposit` and
`withdraw` record a participant operator's instruction (`--as USERNAME`) through the settlement bank."""
from __future__ import annotations

import sys
from datetime import date

import click
from sqlalchemy import func, select

from ..infra.actor import Actor
from ..infra.errors import NotFound, ValidationError
from . import main

OPERATOR = Actor.system("cli")


def _date(text: str | None, field: str = "DATE") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"not a date YYYY-MM-DD: {text!r}", field=field) from None


def _cny(fen: int) -> str:
    from ..market.confirmations import cny

    return cny(fen)


def _fen(text: str, field: str = "AMOUNT") -> int:
    """CNY text ("100000.00") as fen, by the API's own rule (schemas.Money)."""
    from marshmallow import ValidationError as SchemaError

    from ..market.schemas import Money

    try:
        return Money().deserialize(text.strip())
    except SchemaError as err:
        raise ValidationError(" ".join(err.messages) if isinstance(err.messages, list) else str(err.messages), field=field) from None


def _user_actor(session, username: str):
    from ..auth.models import User
    from ..auth.services import actor_for

    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username}", field="as")
    return actor_for(user)


@main.group("market")
def market() -> None:
    """The exchange: trading accounts, instruments, settlement, reconciliation, market data."""


# ---- accounts -------------------------------------------------------------------------------------------------


@market.group("accounts")
def accounts_group() -> None:
    """Participants' trading accounts, bound to registry accounts (Trading Rules Art. 5–8)."""


@accounts_group.command("list")
@click.pass_obj
def list_accounts(obj) -> None:
    """Trading accounts with their registry account, status and funds."""
    from ..issuance.models import Account
    from ..market.models import FundAccount, TradingAccount

    with obj.session() as session:
        rows = session.execute(select(TradingAccount, Account.number, FundAccount).join(Account, Account.id == TradingAccount.registry_account_id)
                               .join(FundAccount, FundAccount.trading_account_id == TradingAccount.id).order_by(TradingAccount.id)).all()
        if not rows:
            click.echo("no trading accounts")
        for a, registry_no, f in rows:
            click.echo(f"{a.number}  {a.status:<10} {registry_no}  balance {_cny(f.balance):>18} reserved {_cny(f.reserved):>16}  "
                       f"{a.organisation.name}{' (fee exempt)' if a.fee_exempt else ''}")


@accounts_group.command("open")
@click.argument("organisation", metavar="ORG")
@click.option("--bank-name", required=True, help="the bound bank")
@click.option("--bank-account-no", required=True)
@click.option("--bank-account-name", help="default: the participant's own name (a same-name account is required)")
@click.pass_obj
def open_account(obj, organisation, bank_name, bank_account_no, bank_account_name) -> None:
    """Open the trading account of ORG (its id or 统一社会信用代码): bound to its open registry account, with a
    fund account bound to one same-name bank account.

    Trading Rules Art. 6–7; [S7]."""
    from ..auth import services
    from ..auth.models import Organisation
    from ..market import accounts

    with obj.session() as session:
        org = session.get(Organisation, int(organisation)) if organisation.isdigit() and len(organisation) < 10 else None
        org = org or services.organisation_by_uscc(session, organisation)
        a = accounts.open_account(session, OPERATOR, org.id, bank_name=bank_name, bank_account_no=bank_account_no,
                                  bank_account_name=bank_account_name or org.name)
        click.echo(f"trading account {a.number} opened for {org.name}{' (fee exempt: key emitting unit)' if a.fee_exempt else ''}")


@market.group("operators")
def operators_group() -> None:
    """Users who trade for a participant: at most five per account, each with permissions."""


@operators_group.command("add")
@click.argument("account")
@click.argument("username")
@click.option("--permissions", default="order,lift,funds", show_default=True, help="comma-separated: order lift block auction funds")
@click.pass_obj
def add_operator(obj, account, username, permissions) -> None:
    """Make USERNAME (a user of the participant) an operator of trading account ACCOUNT."""
    from ..market import accounts

    with obj.session() as session:
        actor = _user_actor(session, username)
        op = accounts.add_operator(session, OPERATOR, account, actor.user_id, [p.strip() for p in permissions.split(",") if p.strip()])
        click.echo(f"{username} operates {account}: {op.permissions}")


@market.command("restrict")
@click.argument("account")
@click.option("--reason", help="required to restrict")
@click.option("--restore", is_flag=True, help="lift the restriction")
@click.pass_obj
def restrict(obj, account, reason, restore) -> None:
    """Restrict or restore a participant's trading, at once.

    Trading Rules Art. 27."""
    from ..market import accounts

    with obj.session() as session:
        a = accounts.restrict(session, OPERATOR, account, reason or "", restore=restore)
        click.echo(f"{a.number} {a.status}")


@market.command("fees")
@click.argument("fee", type=click.Choice(["opening", "annual"]))
@click.option("--year", type=int, help="the year an annual fee is for")
@click.pass_obj
def charge_fees(obj, fee, year) -> None:
    """Bill the opening fee (once) or the annual fee for a year to every open participant not exempt.

    Trading Rules Art. 24: 2,000 and 1,000 CNY; key emitting units exempt."""
    from ..market import accounts

    with obj.session() as session:
        out = accounts.charge_fees(session, OPERATOR, fee, year)
        click.echo(f"{fee} fee charged to {out['charged']} accounts" + (f"; owing: {', '.join(out['owing'])}" if out["owing"] else ""))


def _funds_cmd(name: str, verb_name: str, help_text: str):
    @market.command(name, help=help_text)
    @click.argument("amount")
    @click.option("--as", "username", required=True, help="the participant's operator (with the funds permission)")
    @click.pass_obj
    def command(obj, amount, username) -> None:
        from ..market import accounts

        with obj.session() as session:
            f = getattr(accounts, verb_name)(session, _user_actor(session, username), _fen(amount))
            click.echo(f"{verb_name}: {_cny(_fen(amount))} CNY; balance {_cny(f.balance)}, reserved {_cny(f.reserved)}, "
                       f"available {_cny(f.balance - f.reserved)}")
    return command


_funds_cmd("deposit", "deposit", "Money in from the bound bank account, AMOUNT in CNY (1000000.00); trading days 9:30–15:00")
_funds_cmd("withdraw", "withdraw", "Money out to the bound bank account, at most what is not reserved; AMOUNT in CNY")


# ---- instruments ----------------------------------------------------------------------------------------------


@market.group("instrument")
def instrument_group() -> None:
    """Instruments, one per project and vintage: listing, halts."""


@instrument_group.command("list")
@click.pass_obj
def list_instruments(obj) -> None:
    """Instruments with the reference price of today (or, on a non-trading day, of the next trading day)."""
    from ..infra import calendar, clock
    from ..market.models import Instrument, ReferencePrice

    with obj.session() as session:
        today = clock.today(session)
        today = today if calendar.is_trading_day(today) else calendar.add_trading_days(today, 1)
        for inst in session.execute(select(Instrument).order_by(Instrument.code)).scalars():
            ref = session.execute(select(ReferencePrice).where(ReferencePrice.instrument_id == inst.id, ReferencePrice.day <= today)
                                  .order_by(ReferencePrice.day.desc()).limit(1)).scalar_one_or_none()
            price = f"{_cny(ref.price)} ({ref.basis})" if ref else "—"
            click.echo(f"{inst.code}  {inst.status:<8} from {inst.listed_from or '—'}  reference {price}{'  HALTED' if inst.halted else ''}")


@instrument_group.command("confirm")
@click.argument("code")
@click.pass_obj
def confirm(obj, code) -> None:
    """Confirm a proposed instrument: it trades from the next trading day.

    Trading Rules Art. 17 (T+1)."""
    from ..market import instruments

    with obj.session() as session:
        inst = instruments.confirm(session, OPERATOR, code)
        click.echo(f"{inst.code} listed from {inst.listed_from} at {_cny(inst.initial_price)} CNY/t")


@instrument_group.command("halt")
@click.argument("code")
@click.option("--reason", required=True)
@click.pass_obj
def halt(obj, code, reason) -> None:
    """Halt an instrument; the time lost is not made up.

    Trading Rules Art. 23."""
    from ..market import instruments

    with obj.session() as session:
        click.echo(f"{instruments.halt(session, OPERATOR, code, reason=reason).code} halted")


@instrument_group.command("resume")
@click.argument("code")
@click.option("--reason", required=True)
@click.pass_obj
def resume(obj, code, reason) -> None:
    """Resume a halted instrument."""
    from ..market import instruments

    with obj.session() as session:
        click.echo(f"{instruments.halt(session, OPERATOR, code, resume=True, reason=reason).code} resumed")


@market.command("take-in")
@click.pass_obj
def take_in(obj) -> None:
    """Take the registry's moves into and out of trading accounts into positions."""
    from ..market import positions

    with obj.session() as session:
        click.echo(f"{positions.take_in_moves(session, OPERATOR)} registry moves taken in")


# ---- the day ---------------------------------------------------------------------------------------------------


@market.command("settle")
@click.argument("day", required=False)
@click.pass_obj
def settle(obj, day) -> None:
    """Settle DAY after its close (default today), delivery versus payment.

    Open orders expire, every trade is delivered through the registry and paid here, each all-or-nothing, and
    the next day's reference prices are set.

    Trading Rules Art. 25–32."""
    from ..market import settlement

    with obj.session() as session:
        r = settlement.settle_day(session, OPERATOR, _date(day))
        click.echo(f"{r.day}: {r.settled} trades settled ({_cny(r.turnover)} CNY), {r.failed} failed, {r.expired} orders expired, "
                   f"{r.references} reference prices set for the next trading day")


def _day_summary(session, day: date) -> list[str]:
    from ..market.models import FundMovement, Trade

    lines = []
    for status, n, q, amount, fees in session.execute(
            select(Trade.status, func.count(Trade.id), func.coalesce(func.sum(Trade.quantity), 0), func.coalesce(func.sum(Trade.amount), 0),
                   func.coalesce(func.sum(Trade.buyer_fee + Trade.seller_fee), 0)).where(Trade.day == day).group_by(Trade.status).order_by(Trade.status)):
        lines.append(f"  trades {status}: {n:,} ({int(q):,} t, {_cny(int(amount))} CNY, commissions {_cny(int(fees))} CNY)")
    refs = [r for r in session.execute(select(Trade.ref).where(Trade.day == day)).scalars()]
    if refs:
        moved = dict(session.execute(select(FundMovement.kind, func.sum(FundMovement.amount)).where(FundMovement.ref.in_(refs))
                                     .group_by(FundMovement.kind)).all())
        lines.append("  funds moved at settlement: " + ", ".join(f"{k} {_cny(int(v))}" for k, v in sorted(moved.items())) + " CNY")
    return lines or ["  no trades"]


@market.command("reconcile")
@click.argument("day", required=False)
@click.pass_obj
def reconcile_cmd(obj, day) -> None:
    """The reconciliation of the two ledgers; exits 1 naming the first difference.

    The day's settlement (DAY, default the last day with trades), then the exchange's
    positions against the registry's trading holdings, every fund balance against its movements and the money
    in the system against deposits less withdrawals and fees, reservations against open orders and unsettled
    trades, no order over-filled. Trading Rules Art. 25–32."""
    from ..infra import clock
    from ..issuance.models import TRADING, SerialBlock
    from ..market import reconcile
    from ..market.models import FundAccount, Position, Trade, TradingAccount

    with obj.session() as session:
        today = clock.today(session)
        when = _date(day) or session.execute(select(func.max(Trade.day)).where(Trade.day <= today)).scalar() or today
        click.echo(f"reconciliation of {when} (checked {clock.now(session):%Y-%m-%d %H:%M} Beijing time)")
        for line in _day_summary(session, when):
            click.echo(line)
        accounts = session.execute(select(func.count(TradingAccount.id))).scalar_one()
        positions = session.execute(select(func.coalesce(func.sum(Position.quantity), 0))).scalar_one()
        registry_accounts = select(TradingAccount.registry_account_id)
        holdings = session.execute(select(func.coalesce(func.sum(SerialBlock.last - SerialBlock.first + 1), 0)).where(
            SerialBlock.active, SerialBlock.status == TRADING, SerialBlock.account_id.in_(registry_accounts))).scalar_one()
        balance = session.execute(select(func.coalesce(func.sum(FundAccount.balance), 0))).scalar_one()
        click.echo(f"  positions: {int(positions):,} t in {accounts} trading accounts; the registry's trading holdings of those accounts: {int(holdings):,} t")
        click.echo(f"  funds: {_cny(int(balance))} CNY in the fund accounts")
        diffs = reconcile.differences(session)
        if not diffs:
            click.echo("ok: positions equal the registry's trading holdings, funds balance to the fen, no order over-filled")
            return
        for d in diffs:
            click.echo(f"  DIFFERENCE: {d}")
        click.echo(f"error: the ledgers differ ({len(diffs)} difference{'s' if len(diffs) > 1 else ''}); first: {diffs[0]} "
                   "[Trading Rules Art. 25–32]", err=True)
        sys.exit(1)


@market.command("confirmation")
@click.argument("ref")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="default: trade-REF.pdf")
@click.pass_obj
def confirmation(obj, ref, output) -> None:
    """Write trade REF's electronic trade confirmation (电子交易凭证), PDF.

    Trading Rules Art. 19–20."""
    import hashlib

    from ..market import confirmations

    with obj.session() as session:
        trade = confirmations.get_trade(session, ref)
        body = confirmations.pdf(session, trade)
        path = output or f"trade-{trade.ref}.pdf"
        with open(path, "wb") as fh:
            fh.write(body)
        click.echo(f"{path}: {len(body):,} bytes, sha256 {hashlib.sha256(body).hexdigest()} ({trade.status})")


# ---- market data, block agreements, auctions, risk, disputes ------------------------------------------------


@market.command("data")
@click.argument("day", required=False)
@click.option("--instrument", help="one instrument's row only")
@click.option("--csv", "as_csv", is_flag=True, help="the day as CSV (CNY)")
@click.pass_obj
def data(obj, day, instrument, as_csv) -> None:
    """Market data of DAY (default today): per instrument open, high, low, close, VWAP, volume, turnover, trades,
    the day's and the next day's reference price; and the market's.

    Trading Rules Art. 33."""
    from ..infra import clock
    from ..market import marketdata

    with obj.session() as session:
        when = _date(day) or clock.today(session)
        if as_csv:
            click.echo(marketdata.export_csv(session, when, when, instrument), nl=False)
            return
        d = marketdata.daily(session, when, instrument)
        p = lambda fen: "—" if fen is None else _cny(fen)  # noqa: E731
        click.echo(f"market data of {d['day']}{'' if d['trading_day'] else ' (not a trading day)'}")
        click.echo(f"{'instrument':<18}{'open':>9}{'high':>9}{'low':>9}{'close':>9}{'vwap':>9}{'volume t':>12}{'turnover CNY':>18}{'trades':>7}"
                   f"{'reference':>10}{'next':>9}")
        for r in d["instruments"]:
            click.echo(f"{r['instrument']:<18}{p(r['open']):>9}{p(r['high']):>9}{p(r['low']):>9}{p(r['close']):>9}{p(r['vwap']):>9}"
                       f"{r['volume']:>12,}{_cny(r['turnover']):>18}{r['trades']:>7}{p(r['reference_price']):>10}{p(r['next_reference_price']):>9}"
                       + ("" if r["next_reference_basis"] in (None, "vwap") else f" ({r['next_reference_basis']})"))
        m = d["market"]
        methods = ", ".join(f"{k} {v['volume']:,} t" for k, v in m["by_method"].items() if v["trades"])
        click.echo(f"{'market':<18}{'':>36}{p(m['vwap']):>9}{m['volume']:>12,}{_cny(m['turnover']):>18}{m['trades']:>7}"
                   f"   {m['instruments_traded']} of {m['instruments_listed']} instruments traded{'; ' + methods if methods else ''}")


@market.group("block")
def block_group() -> None:
    """Block agreements (大宗协议): the exchange's confirmation."""


@block_group.command("list")
@click.option("--status")
@click.pass_obj
def list_blocks(obj, status) -> None:
    """Block agreements, newest first."""
    from ..market import blocks

    with obj.session() as session:
        for b in blocks.agreements(session, OPERATOR, status):
            click.echo(f"#{b['id']}  {b['day']}  {b['status']:<9} {b['instrument']}  {b['initiator']} {b['side']}s {b['quantity']:,} t at "
                       f"{_cny(b['price'])} with {b['counterparty']}{'  trade ' + b['trade'] if b['trade'] else ''}")


@block_group.command("confirm")
@click.argument("agreement_id", type=int)
@click.pass_obj
def confirm_block(obj, agreement_id) -> None:
    """Confirm an agreed block: the trade is made, settled after the close (Trading Rules Art. 13)."""
    from ..market import blocks

    with obj.session() as session:
        b = blocks.as_dict(session, blocks.confirm(session, OPERATOR, agreement_id))
        click.echo(f"block agreement #{b['id']} confirmed: trade {b['trade']}")


@block_group.command("reject")
@click.argument("agreement_id", type=int)
@click.option("--reason", required=True)
@click.pass_obj
def reject_block(obj, agreement_id, reason) -> None:
    """Refuse a proposed or agreed block; both sides' reservations are released."""
    from ..market import blocks

    with obj.session() as session:
        click.echo(f"block agreement #{blocks.reject(session, OPERATOR, agreement_id, reason).id} rejected")


@market.group("auction")
def auction_group() -> None:
    """One-way auctions (单向竞价): announcements and the close."""


@auction_group.command("list")
@click.argument("day", required=False)
@click.pass_obj
def list_auctions(obj, day) -> None:
    """Auctions as announced, with their results once closed."""
    from ..market import auctions

    with obj.session() as session:
        for a in auctions.announcements(session, _date(day)):
            r = a["results"]
            result = (f"; {r['allocated']:,} t allocated to {r['winners']} of {r['bidders']} bidders, "
                      f"{_cny(r['turnover'])} CNY" + (f" at {_cny(r['clearing_price'])}" if r["clearing_price"] else "")) if r else ""
            click.echo(f"#{a['id']}  {a['day']}  {a['status']:<9} {a['instrument']}  {a['initiator']} {a['side']}s {a['quantity']:,} t, "
                       f"reserve {_cny(a['reserve_price'])}, {a['pricing']}, {a['window_start'][11:16]}–{a['window_end'][11:16]}{result}")


@auction_group.command("close")
@click.argument("auction_id", type=int)
@click.pass_obj
def close_auction(obj, auction_id) -> None:
    """Close an auction whose window has ended: allocation by price then time, trades, results."""
    from ..market import auctions

    with obj.session() as session:
        a = auctions.close(session, OPERATOR, auction_id)
        click.echo(f"auction #{a.id} {a.status}: {a.allocated or 0:,} t allocated, {_cny(a.turnover or 0)} CNY")


@market.command("limit")
@click.argument("max_quantity", metavar="MAX|none")
@click.option("--instrument", help="default: every instrument")
@click.option("--account", help="a trading account; default: every participant")
@click.option("--reason", default="")
@click.pass_obj
def limit(obj, max_quantity, instrument, account, reason) -> None:
    """Set (or remove, with none) a maximum position in tCO2e (最大持仓量).

    Trading Rules Art. 36–43."""
    from ..market import risk

    if max_quantity != "none" and not (max_quantity.isdigit() and len(max_quantity) <= 13):
        raise ValidationError("a whole number of tCO2e, or none", field="MAX")
    with obj.session() as session:
        row = risk.set_position_limit(session, OPERATOR, None if max_quantity == "none" else int(max_quantity), instrument, account, reason)
        click.echo(f"maximum position {'removed' if row is None else f'{row.max_quantity:,} t'} for {account or 'every participant'} "
                   f"in {instrument or 'every instrument'}")


@market.command("notices")
@click.pass_obj
def notices(obj) -> None:
    """Public notices: large-holder reports, halts and resumptions, newest first."""
    from ..market import marketdata

    with obj.session() as session:
        for n in marketdata.notices(session):
            what = (f"{n['participant']} ({n['trading_account']}) holds {n['quantity']:,} t of {n['instrument']}, threshold {n['threshold']:,} "
                    f"of {n['max_quantity']:,} [{n['status']}]") if n["kind"] == "large_holder" else f"{n['instrument']}: {n['reason'] or ''}"
            click.echo(f"{n['day']}  {n['kind']:<12} {what}")


@market.command("resolve-dispute")
@click.argument("dispute_id", type=int)
@click.argument("outcome", type=click.Choice(["upheld", "dismissed"]))
@click.option("--resolution", required=True, help="the mediation's reasons")
@click.pass_obj
def resolve_dispute(obj, dispute_id, outcome, resolution) -> None:
    """Record the outcome of the exchange's mediation of a settlement dispute (Art. 32, 49–51)."""
    from ..market import disputes

    with obj.session() as session:
        d = disputes.resolve(session, OPERATOR, dispute_id, outcome, resolution)
        click.echo(f"dispute #{d.id} {d.status}")

"""`ccer demo` leaves a registry with issuances, a non-trade transfer and retirements of several purposes;
`ccer ledger verify` proves it and catches an edited holding; checkpoints with Merkle roots are checked
offline; the operator's registry commands refuse bad input in one line."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from ccer.cli import main
from ccer.issuance.models import Issuance, Retirement, Transfer
from ccer.projects.models import MonitoringPeriod, Project


def run(db_url, *args):
    return CliRunner().invoke(main, ["--database", db_url, *args])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_registry_then_verify_catches_an_edited_holding(db_url, session, tmp_path):
    session.close()
    out = run(db_url, "demo")
    assert out.exit_code == 0, out.output
    assert "verify ok" in out.output and "issuances" in out.output
    purposes = set(session.execute(select(Retirement.purpose)).scalars())
    assert purposes >= {"national_ets", "event_neutrality", "enterprise_offset", "public_good"}
    assert session.execute(select(func.count()).where(Transfer.kind == "succession")).scalar_one() == 1
    # the lifecycle walk: one project per official methodology registered, one batch each registered and issued
    walked = session.execute(select(Project.methodology_code).where(Project.origin == "platform", Project.status == "registered")).scalars().all()
    assert sorted(walked) == ["CCER-01-001-V01", "CCER-01-002-V01", "CCER-07-001-V01", "CCER-10-001-V01", "CCER-14-001-V01", "CCER-14-002-V01"]
    batches = session.execute(select(MonitoringPeriod).where(MonitoringPeriod.status == "registered")).scalars().all()
    assert len([b for b in batches if b.origin == "platform"]) == 6
    assert all(b.verified_quantity == b.applied_quantity for b in batches)
    assert all(b.source for b in batches if b.origin == "listing")  # the listing's batches, with their provenance
    # every CCER issued rests on a registered batch, exactly its verified quantity (Measures Art. 22)
    issued = session.execute(select(func.sum(Issuance.quantity))).scalar_one()
    assert issued == sum(b.verified_quantity for b in batches)
    session.rollback()
    again = run(db_url, "demo")  # idempotent
    assert again.exit_code == 0 and "lifecycle:" not in again.output

    ok = run(db_url, "ledger", "verify")
    assert ok.exit_code == 0, ok.output

    exported = run(db_url, "ledger", "export-checkpoint", "--with-states")
    cp = json.loads(exported.output)
    assert set(cp["roots"]) == {"serial_block"} and len(cp["leaves"]["serial_block"]) > 0
    (tmp_path / "cp.json").write_text(exported.output)
    assert run(db_url, "ledger", "check-export", str(tmp_path / "cp.json")).exit_code == 0
    cp["leaves"]["serial_block"][0] = cp["leaves"]["serial_block"][0].replace('"status":"available"', '"status":"retired"')
    (tmp_path / "forged.json").write_text(json.dumps(cp))
    forged = run(db_url, "ledger", "check-export", str(tmp_path / "forged.json"))
    assert forged.exit_code == 1 and "do not hash" in forged.output

    # someone moves retired units back to available behind the platform's back
    session.execute(text("UPDATE serial_blocks SET status = 'available', retirement_id = NULL WHERE id = "
                         "(SELECT MIN(id) FROM serial_blocks WHERE status = 'retired')"))
    session.commit()
    bad = run(db_url, "ledger", "verify")
    assert bad.exit_code == 1
    assert "serial_block" in bad.output and "status: 'retired' -> 'available'" in bad.output
    assert "on the certificate" in bad.output  # the invariant: the retirement's blocks no longer add up
    assert run(db_url, "ledger", "verify", "--checkpoint", str(tmp_path / "cp.json")).exit_code == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_operator_commands_refuse_in_one_line(db_url, session):
    session.close()
    out = run(db_url, "registry", "issue", "--project-id", "1", "--batch", "1", "--as", "registry")
    assert out.exit_code == 2 and out.output.strip().count("\n") == 0 and "project 1 has no batch 1" in out.output
    out = run(db_url, "registry", "freeze", "RA99999999", "--quantity", "1", "--authority", "法院", "--order-ref", "x", "--as", "registry")
    assert out.exit_code == 2 and out.output.strip() == "error: as: no user registry"  # an empty database: no registry user yet
    out = run(db_url, "registry", "freeze", "RA99999999", "--quantity", "1", "--authority", "法院", "--order-ref", "x")
    assert out.exit_code == 2 and "--as" in out.output  # the registry's acts name the registry user proposing them
    out = run(db_url, "registry", "holdings", "RA00000001", )
    assert out.exit_code == 2

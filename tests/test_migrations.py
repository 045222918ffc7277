"""Migrations are the only source of the schema, and the models agree with them on both databases."""
from click.testing import CliRunner
from sqlalchemy import Column, Integer, Table

from ccer.infra import migrate
from ccer.cli import main
from ccer.infra.db import Base


def test_models_equal_migrations(db_url, engine):
    assert migrate.current_revision(engine) == migrate.head_revision(db_url)
    assert migrate.differences(engine) == []
    out = CliRunner().invoke(main, ["--database", db_url, "db", "check"])
    assert out.exit_code == 0, out.output
    assert "models and migrations agree" in out.output


def test_check_fails_when_a_model_has_no_migration(db_url, engine):
    probe = Table("probe_without_migration", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        diffs = migrate.differences(engine)
        assert any(d[0] == "add_table" and d[1].name == "probe_without_migration" for d in diffs)
        out = CliRunner().invoke(main, ["--database", db_url, "db", "check"])
        assert out.exit_code == 1 and "probe_without_migration" in out.output
    finally:
        Base.metadata.remove(probe)


def test_constraint_names_follow_the_convention(engine):
    from sqlalchemy import inspect

    insp = inspect(engine)
    assert insp.get_pk_constraint("organisations")["name"] == "pk_organisations" or engine.dialect.name == "sqlite"
    fks = {fk["name"] for fk in insp.get_foreign_keys("users")}
    assert "fk_users_organisation_id_organisations" in fks
    uniques = {u["name"] for u in insp.get_unique_constraints("organisations")}
    assert "uq_organisations_uscc" in uniques

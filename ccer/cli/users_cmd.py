"""ccer orgs create | ccer users create"""
from __future__ import annotations

import click

from ..auth import services
from ..auth.roles import ORGANISATION_ROLES, SECTORS
from ..infra.actor import Actor
from . import main

ROLE_CHOICE = click.Choice([r.value for r in ORGANISATION_ROLES])


@main.group("orgs")
def orgs() -> None:
    """Organisations (legal persons)."""


@orgs.command("create")
@click.option("--uscc", required=True, help="统一社会信用代码 (18 characters)")
@click.option("--name", required=True)
@click.option("--name-en")
@click.option("--province")
@click.option("--role", "roles", multiple=True, required=True, type=ROLE_CHOICE)
@click.option("--sector", "sectors", multiple=True, type=click.Choice(sorted(SECTORS)), help="VVB accreditation field")
@click.pass_obj
def create_org(obj, uscc, name, name_en, province, roles, sectors) -> None:
    with obj.session() as session:
        org = services.create_organisation(session, Actor.system("cli"), uscc_code=uscc, name=name, name_en=name_en,
                                           province=province, roles=list(roles), accredited_sectors=list(sectors))
        click.echo(f"organisation {org.id} {org.uscc} {org.name} roles={','.join(org.role_names)}")


@main.group("users")
def users() -> None:
    """People acting for organisations."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--org", "org_uscc", required=True, help="the organisation's 统一社会信用代码")
@click.option("--role", "roles", multiple=True, required=True, type=ROLE_CHOICE)
@click.option("--display-name")
@click.option("--email")
@click.password_option(envvar="CCER_NEW_PASSWORD", help="prompted when not given (or set CCER_NEW_PASSWORD)")
@click.pass_obj
def create_user(obj, username, org_uscc, roles, display_name, email, password) -> None:
    with obj.session() as session:
        org = services.organisation_by_uscc(session, org_uscc)
        user = services.create_user(session, Actor.system("cli"), username=username, password=password, organisation_id=org.id,
                                    roles=list(roles), display_name=display_name, email=email)
        click.echo(f"user {user.id} {user.username} of {org.name} roles={','.join(user.role_names)}")

"""Organisations (legal persons), their roles and accreditations, users and API tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..infra.db import Base


class Organisation(Base):
    """A legal person or other organisation, identified by its 统一社会信用代码."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: 统一社会信用代码, GB 32100-2015, unique: one registry account per entity (Registry Rules Art. 6)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    #: registered Chinese name
    name: Mapped[str] = mapped_column(String(200))
    #: English name, optional
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: province of registration (Chinese), optional
    province: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: active | restricted | closed (Registry Rules Art. 10–11)
    status: Mapped[str] = mapped_column(String(16), default="active")
    #: organisation this one is controlled by or shares ownership with (VVB independence, Art. 18, 37)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    created_at: Mapped[datetime]

    roles: Mapped[list["OrganisationRole"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationRole.role"
    )
    accreditations: Mapped[list["Accreditation"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Accreditation.sector"
    )
    users: Mapped[list["User"]] = relationship(back_populates="organisation")

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)

    @property
    def accredited_sectors(self) -> list[str]:
        return sorted(a.sector for a in self.accreditations)


class OrganisationRole(Base):
    __tablename__ = "organisation_roles"
    __table_args__ = (UniqueConstraint("organisation_id", "role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: a Role value
    role: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[Organisation] = relationship(back_populates="roles")


class Accreditation(Base):
    """A VVB's approval for one field (SAMR/CNCA, Measures Art. 30)."""

    __tablename__ = "accreditations"
    __table_args__ = (UniqueConstraint("organisation_id", "sector"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: sector number as in the methodology codes (roles.SECTORS)
    sector: Mapped[str] = mapped_column(String(4))
    organisation: Mapped[Organisation] = relationship(back_populates="accreditations")


class User(Base):
    """A person acting for an organisation."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: argon2id hash
    password_hash: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    #: id of the ledger event from which the user can act (its "user.created", or its "user.activated" when its
    #: creation was a request confirmed later): a maker–checker confirmer must precede the request (makerchecker)
    acts_since: Mapped[int | None] = mapped_column(Integer, nullable=True)

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    roles: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserRole.role"
    )

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)


class UserRole(Base):
    """A role of the user's organisation that this user may exercise."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    user: Mapped[User] = relationship(back_populates="roles")


class ApiToken(Base):
    """A bearer token for the REST API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    user: Mapped[User] = relationship()


class WebSession(Base):
    """A login on the pages, held on the server so that it can be ended: the signed cookie carries only a random
    session id, of which only the SHA-256 is stored. Logout and a password change revoke it; it ends by itself
    after the idle or the absolute lifetime (ccer.infra.config.Web), read on the platform clock."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the id in the cookie
    sid_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    #: the absolute end: created_at + CCER_SESSION_HOURS
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    user: Mapped[User] = relationship()

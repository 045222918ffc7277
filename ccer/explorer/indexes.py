"""Indexes the public explorer's lists stand on (migration f1e7c0de0017). A filtered list walks one of these
in key order and stops after a page, so it reads about one page of rows whatever the registry's size:
(filter, id) for the newest-first list, (title, id) for the list by name.

The trigram indexes of full-text search (titles and owners' names, CJK included) are PostgreSQL's own kind
(pg_trgm GIN) and live in the migration only; `ccer.infra.migrate` knows their names."""
from __future__ import annotations

from sqlalchemy import Index, text

from ..auth.models import Organisation  # noqa: F401  (the table the owner index names)
from ..ledger.models import Event
from ..projects.models import Project

#: the lifecycle's event subjects a project's timeline reads (the partial index below keeps only these, so
#: the registry's and the exchange's high-volume events pay nothing for it)
TIMELINE_SUBJECTS = ("project", "monitoring_period", "comment", "finding", "engagement", "commitment", "issuance",
                     "boundary_check")
TIMELINE_EVENTS = "subject_type IN (" + ", ".join(f"'{s}'" for s in TIMELINE_SUBJECTS) + ")"

PROJECT_INDEXES = (
    Index("ix_projects_methodology_id", Project.methodology_code, Project.id),
    Index("ix_projects_province_id", Project.province, Project.id),
    Index("ix_projects_status_id", Project.status, Project.id),
    Index("ix_projects_validator_id", Project.validator_id),
    Index("ix_projects_title_id", Project.title, Project.id),
)
EVENT_INDEXES = (
    Index("ix_events_timeline", Event.subject_type, Event.subject_id,
          postgresql_where=text(TIMELINE_EVENTS), sqlite_where=text(TIMELINE_EVENTS)),
)
#: PostgreSQL only, kept by the migration (pg_trgm GIN): what `ccer.infra.migrate` leaves out of the comparison
TRIGRAM_INDEXES = ("ix_projects_title_trgm", "ix_organisations_name_trgm")

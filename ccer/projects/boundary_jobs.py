"""A large boundary checked by a job (issue 15 item 2, issue 16 item 8): the upload is authorised and its raster
names checked at once, then parsed and checked in the job queue — bounded by the same limits as a check made in the
request — while the page shows progress. Uploads up to CCER_BOUNDARY_JOB_BYTES are still checked at once."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.orm import Session

from .. import jobs
from ..auth.models import User
from ..auth.services import actor_for
from ..infra.actor import Actor
from ..infra.errors import NotFound
from . import boundaries

KIND = "boundary.check"


def job_threshold() -> int:
    """Uploads larger than this many bytes are checked by a job (CCER_BOUNDARY_JOB_BYTES, default 1 MiB)."""
    return int(os.environ.get("CCER_BOUNDARY_JOB_BYTES", str(2**20)))


def queue_check(session: Session, actor: Actor, project_id: int, upload: Path, rasters: list[str], *, instance,
                id_field: str = "parcel_id", crs: str | None = None, return_url: str | None = None) -> jobs.Job:
    """Refuse now what can be refused without reading the file (who asks, the project's state, the raster names);
    queue the rest. The job runs `boundaries.attach` as the user who asked."""
    boundaries.attachable(session, actor, project_id)
    boundaries.reference_rasters(rasters)
    name = "boundary" + Path(upload).suffix.lower()
    payload = {"project_id": project_id, "file": name, "rasters": list(rasters), "id_field": id_field, "crs": crs,
               "return_url": return_url or f"/api/v1/projects/{project_id}/boundary"}
    return jobs.enqueue(session, actor, KIND, payload, instance=Path(instance), files={name: Path(upload)})


def _check(session: Session, job: jobs.Job, progress, folder: Path) -> dict:
    user = session.get(User, job.user_id) if job.user_id is not None else None
    if user is None or not user.is_active:
        raise NotFound("the user who asked for this check is no longer active", field="user")
    p = job.payload
    progress(0.05, "reading and checking the parcels")
    record = boundaries.attach(session, actor_for(user), p["project_id"], folder / p["file"],
                               boundaries.reference_rasters(p["rasters"]), id_field=p["id_field"], crs=p["crs"])
    return {"boundary_check_id": record.id, "project_id": p["project_id"], "parcels": record.parcels,
            "eligible_parcels": record.eligible_parcels, "cross_project_overlaps": record.cross_overlaps,
            "url": p["return_url"]}


def wire() -> None:
    jobs.job_kind(KIND, _check)

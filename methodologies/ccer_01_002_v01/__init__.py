"""CCER-01-002-V01 并网海上风力发电 — grid-connected offshore wind. VERIFIED against the official text
(methodologies.md §2; text mirror [M1])."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from ccer.methodologies import power
from ccer.methodologies.defaults import Defaults
from ccer.methodologies.protocol import ApplicabilityError, Methodology, ProjectFact
from ccer.methodologies.protocol import Monitoring

D = Decimal
_d = Defaults(__file__)


class OffshoreWind(Methodology):
    code = "CCER-01-002-V01"
    package_dir = Path(__file__).parent
    name_zh = "并网海上风力发电"
    name_en = "Grid-connected offshore wind power"
    sector = "01"
    issued = date(2023, 10, 24)
    status = "VERIFIED"
    crediting_years = (1, 10)  # §5.2: at most 10 years, within the lifetime
    additionality_exempt = True
    additionality_rule = "§6.2: 符合本文件适用条件的项目，其额外性免予论证 (exempt when applicable)"
    project_facts = [
        ProjectFact("distance_offshore_km", "km", "distance from the multi-year mean spring high-tide line", min=D(0), max=D(500)),
        ProjectFact("water_depth_m", "m", "water depth at the site", min=D(0), max=D(500)),
        ProjectFact("grid_connection", "date", "grid-connection date: the project lifetime starts here (§5.2)", kind="date", required=False),
        *power.GRID_FACTS,
        power.BOUNDARY_FACT,
    ]
    params = power.power_params(_d)
    monitoring = [
        Monitoring("EG_export", "continuous, recorded at least monthly", "export meter at the point in the grid-connection agreement",
                   "class 0.5S or better", "verified before installation (JJG 596); calibrated annually by a CNAS/CMA third party (DL/T 1664); within 30 days after a fault",
                   "Table 6, §7.3"),
        Monitoring("EG_import", "continuous, recorded at least monthly", "import meter", "class 0.5S or better", "as EG_export", "Table 7, §7.3"),
    ]

    def applicability(self, project: dict) -> None:
        # §2: more than 30 km offshore OR deeper than 30 m ("30公里以外", "大于30米": strict inequalities)
        if not (project["distance_offshore_km"] > 30 or project["water_depth_m"] > 30):
            raise ApplicabilityError(
                f"{project['distance_offshore_km']} km offshore in {project['water_depth_m']} m of water: the project must be "
                "more than 30 km offshore or in water deeper than 30 m", field="project.distance_offshore_km",
                rule="CCER-01-002-V01 §2 applicability")

    def check_periods(self, project, periods, stage) -> None:
        power.check_lifetime(project, periods)
        power.check_boundary(project)

    def period(self, ctx):
        be = power.baseline(ctx, "CCER-01-002-V01 formula (1)")
        pe = power.zero(ctx, "PE", "Table 1: backup generators, O&M vessels and vehicles set to 0", "CCER-01-002-V01 §6.4")
        le = power.zero(ctx, "LE", "§6.5: leakage ignored", "CCER-01-002-V01 §6.5")
        return be, pe, le

    er_cites = "CCER-01-002-V01 formula (4)"

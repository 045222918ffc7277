"""`ccer methodology …` from the command line: JSON, CSV and XLSX input, one-line refusals, the author's kit."""
import json

from click.testing import CliRunner
from openpyxl import Workbook

from ccer.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_calc_json_output_shape():
    out = run("methodology", "calc", "CCER-01-002-V01", "--input", "methodologies/ccer_01_002_v01/examples/north-china-2023.json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert set(doc["periods"][0]) >= {"start", "end", "BE", "PE", "LE", "ER"}
    assert set(doc["total"]) >= {"BE", "PE", "LE", "ER", "ER_credited"} and doc["total"]["ER_credited"] == 571264
    assert doc["trace"][0]["formula"].startswith("EG_export,corrected")


def test_csv_and_xlsx_period_rows(tmp_path):
    project = json.dumps({"distance_offshore_km": 34, "water_depth_m": 25})
    csv = tmp_path / "periods.csv"
    csv.write_text("start,end,EG_export,EG_import,EF_grid_OM,EF_grid_BM\n2023-01-01,2023-06-30,400000,500,0.9419,0.4819\n"
                   "2023-07-01,2023-12-31,403701,750,0.9419,0.4819\n", encoding="utf-8")
    out = run("methodology", "calc", "CCER-01-002-V01", "--input", str(csv), "--project", project)
    assert out.exit_code == 0, out.output
    # two half-years sum to the worked example: (803,701 − 1,250) × 0.7119 = 571,264.8669
    assert abs(json.loads(out.output)["total"]["ER"] - 571264.8669) < 1e-6
    wb = Workbook()
    ws = wb.active
    ws.append(["start", "end", "EG_export", "EF_grid_OM", "EF_grid_BM"])
    ws.append(["2023-01-01", "2023-12-31", 1000, 0.9, 0.5])
    xlsx = tmp_path / "periods.xlsx"
    wb.save(xlsx)
    out = run("methodology", "calc", "CCER-01-002-V01", "--input", str(xlsx), "--project", project, "--format", "table")
    assert out.exit_code == 0 and "ER credited (whole tCO2e, rounded down): 700" in out.output


def test_refusal_is_one_line_with_non_zero_exit(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"stage": "ex-post", "project": {"distance_offshore_km": 21, "water_depth_m": 14},
                               "periods": [{"start": "2024-01-01", "end": "2024-12-31", "EG_export": 1000}]}))
    out = run("methodology", "calc", "CCER-01-002-V01", "--input", str(bad))
    assert out.exit_code == 2
    assert out.output.strip().count("\n") == 0 and "project.distance_offshore_km" in out.output and "Traceback" not in out.output
    unknown = run("methodology", "show", "CCER-99-999-V01")
    assert unknown.exit_code != 0 and "no methodology" in unknown.output


def test_new_module_passes_check_and_a_broken_one_fails(tmp_path):
    out = run("methodology", "new", "CCER-03-001-V01", "--into", str(tmp_path), "--name", "公共建筑节能")
    assert out.exit_code == 0, out.output
    folder = tmp_path / "ccer_03_001_v01"
    assert {p.name for p in folder.iterdir()} >= {"__init__.py", "data", "examples", "README.md", "tests"}
    ok = run("methodology", "check", str(folder))
    assert ok.exit_code == 0 and "conforms" in ok.output
    example = folder / "examples" / "example-1.json"
    doc = json.loads(example.read_text())
    doc["expected"]["ER"] = "501"
    example.write_text(json.dumps(doc))
    bad = run("methodology", "check", str(folder))
    assert bad.exit_code == 1 and "ER: got 500" in bad.output


def test_check_all_six():
    for code in ("CCER-01-001-V01", "CCER-01-002-V01", "CCER-07-001-V01", "CCER-10-001-V01", "CCER-14-001-V01", "CCER-14-002-V01"):
        out = run("methodology", "check", code)
        assert out.exit_code == 0, out.output

"""CSV cells the service writes cannot start a spreadsheet formula."""

import csv
import io

import pytest

from service_hub.plumbing import csv_export


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_a_formula_is_written_behind_a_quote(lead):
    out = io.StringIO()
    writer = csv_export.DictWriter(out, fieldnames=["name"])
    writer.writeheader()
    writer.writerows([{"name": f"{lead}1+1"}])
    csv_export.writer(out).writerow([f"{lead}SUM(A1:A9)", -0.25, "小区"])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["name"], [f"'{lead}1+1"], [f"'{lead}SUM(A1:A9)", "-0.25", "小区"]]

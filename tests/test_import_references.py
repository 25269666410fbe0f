"""An order's number in an import file is its reference: one too long to keep is refused, not cut and duplicated."""
import csv

from sqlalchemy import func, select

from tests.test_csv_import import GENERIC_HEADER, write_csv
from webapp.extensions import db
from webapp.orders.models import Order


def test_an_order_number_longer_than_a_reference_is_reported_and_a_second_import_adds_nothing(app, runner,
                                                                                              tmp_path):
    long_number = "N" * 101
    path = write_csv(tmp_path / "long.csv", GENERIC_HEADER, [
        [long_number, "2024-01-01", "", "MUG", "Mug", 1, "10.00", "", "", "Cy", "", ""],  # line 2: refused
        [long_number, "2024-01-01", "", "JUG", "Jug", 1, "5.00", "", "", "Cy", "", ""],  # line 3: refused
        ["R" * 100, "2024-01-02", "", "MUG", "Mug", 2, "10.00", "", "", "Cy", "", ""],  # line 4: exactly fits
    ])
    errors_csv = tmp_path / "errors.csv"
    for _ in range(2):
        result = runner.invoke(args=["orders", "import", str(path), "--history", "--errors", str(errors_csv)])
        assert result.exit_code == 0, result.output
    with open(errors_csv, newline="") as errors:
        reported = {int(row["line"]): row["reason"] for row in csv.DictReader(errors)}
    assert reported == {2: "order number is longer than 100 characters",
                        3: "order number is longer than 100 characters"}
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.scalar(select(Order.external_ref)) == "R" * 100

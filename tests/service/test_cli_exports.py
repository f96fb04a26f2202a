"""``giaibao export-results`` writes the same file as the API (real commits)."""

import io

import openpyxl
import pytest

from app.cli import main
from tests.api.test_results_exports import HEADER_VI, _world


def _run(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def test_export_results_writes_the_xlsx(session, tmp_path, capsys):
    world = _world(session)
    session.commit()
    output = tmp_path / "ket-qua.xlsx"
    code, out, err = _run(["export-results", world.award.slug, "--format", "xlsx",
                           "--output", str(output)], capsys)
    assert (code, err) == (0, "")
    assert out == f"{output} ({output.stat().st_size} bytes)\n"
    sheet = openpyxl.load_workbook(io.BytesIO(output.read_bytes())).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        HEADER_VI,
        ["Thể loại 1", "Giải A", "C1-001", "Tác phẩm số 1", "Nguyễn Văn An", "Báo Ninh Thuận",
         85.5],
        ["Thể loại 1", "Giải B", "C1-002", "Tác phẩm số 2", "Nguyễn Văn An", "Báo Ninh Thuận",
         70.75],
    ]


def test_export_results_of_an_unknown_award_exits_2(session, tmp_path, capsys):
    assert _run(["export-results", "khong-co", "--output", str(tmp_path / "x.csv")],
                capsys) == (2, "", "Không tìm thấy giải.\n")
    assert not (tmp_path / "x.csv").exists()

"""``giaibao verify-ranking``: recomputes the rankings of a hand-written scores.csv."""

import pytest

from app.cli import main
from app.exports import BOM
from app.results import verify

HEADER = ("round_id,round,aggregation,judges_per_entry,category_id,category_code,entry_id,"
          "entry_code,judge,criterion_position,criterion,max_points,points,rank,score")


def _lines(entry_id, code, judge, points, rank, score, category=(3, "BDT")):
    return [f"7,Chung khảo,mean,2,{category[0]},{category[1]},{entry_id},{code},{judge},{i},"
            f"Tiêu chí {i},40,{p},{rank},{score}" for i, p in enumerate(points, start=1)]


# A: totals 70 and 72, mean 71; B: 71 and 71, mean 71, equal criterion means (31, 20, 20)
# too, so A and B share rank 1. C: one final score of the two needed, incomplete. In
# category PT, D: 60 and 61 -> 60.5.
ROWS = [
    *_lines(11, "BDT-001", "G1", (30, 20, 20), 1, 71),
    *_lines(11, "BDT-001", "G2", (32, 20, 20), 1, 71),
    *_lines(12, "BDT-002", "G1", (31, 20, 20), 1, 71),
    *_lines(12, "BDT-002", "G2", (31, 20, 20), 1, 71),
    *_lines(13, "BDT-003", "G1", (10, 10, 10), "", ""),
    "7,Chung khảo,mean,2,3,BDT,14,BDT-004,,,,,,,",
    *_lines(21, "PT-001", "G1", (20, 20, 20), 1, 60, category=(4, "PT")),
    *_lines(21, "PT-001", "G2", (20, 20, 21), 1, 60, category=(4, "PT")),
]


def _file(tmp_path, rows, *, bom=True):
    path = tmp_path / "scores.csv"
    path.write_bytes((BOM if bom else b"") + "\r\n".join([HEADER, *rows]).encode("utf-8"))
    return path


def _run(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def test_a_faithful_file_is_ok(tmp_path, capsys):
    rows = [r.replace(",60", ",60.5") if "PT-001" in r else r for r in ROWS]
    report = verify.verify_file(_file(tmp_path, rows))
    assert report.ok
    assert [(c.round, c.category_code, c.entries) for c in report.checks] == [
        ("Chung khảo", "BDT", 4), ("Chung khảo", "PT", 1)]
    assert _run(["verify-ranking", str(_file(tmp_path, rows))], capsys) == (0, (
        "“Chung khảo” (mã số 7), thể loại BDT: OK (4 tác phẩm)\n"
        "“Chung khảo” (mã số 7), thể loại PT: OK (1 tác phẩm)\n"
        "Xếp hạng trong tệp đúng với xếp hạng tính từ điểm trong tệp.\n"), "")


def test_a_tampered_score_exits_1_naming_the_entries(tmp_path, capsys):
    rows = [r.replace(",60", ",60.5") if "PT-001" in r else r for r in ROWS]
    # G2 gave BDT-002 35 on the first criterion, not 31: its mean is now 73, first alone.
    rows[9] = rows[9].replace("Tiêu chí 1,40,31,", "Tiêu chí 1,40,35,")
    code, out, err = _run(["verify-ranking", str(_file(tmp_path, rows, bom=False))], capsys)
    assert (code, err) == (1, "")
    assert out == (
        "“Chung khảo” (mã số 7), thể loại BDT: 2 chỗ khác\n"
        "  BDT-002: điểm 71.0 trong tệp, tính lại được 73.0\n"
        "  BDT-001: hạng 1 trong tệp, tính lại được 2\n"
        "“Chung khảo” (mã số 7), thể loại PT: OK (1 tác phẩm)\n"
        "Xếp hạng trong tệp KHÁC với xếp hạng tính từ điểm trong tệp.\n")


def test_a_wrong_claimed_score_to_the_fourth_decimal_is_found(tmp_path):
    report = verify.verify_file(_file(tmp_path, ROWS))  # PT-001 claims 60, scores give 60.5
    assert not report.ok
    assert [(c.category_code, c.differences) for c in report.checks if not c.ok] == [
        ("PT", (verify.Difference("PT-001", "score", 60.0, 60.5),))]


def test_zscore_round_recomputes(tmp_path):
    # Judge G1 gives 60 and 80, G2 70 and 90: z = -1 and +1 for both. All totals: mean 75,
    # population sd sqrt(125) = 11.1803...; E1: 75 - 11.1803 = 63.8197, E2: 86.1803.
    def lines(entry_id, code, judge, total, rank, score):
        return [f"9,Sơ khảo,zscore,2,3,BDT,{entry_id},{code},{judge},1,Nội dung,100,{total},"
                f"{rank},{score}"]

    rows = [*lines(1, "BDT-001", "G1", 60, 2, 63.8197), *lines(1, "BDT-001", "G2", 70, 2,
                                                               63.8197),
            *lines(2, "BDT-002", "G1", 80, 1, 86.1803), *lines(2, "BDT-002", "G2", 90, 1,
                                                               86.1803)]
    assert verify.verify_file(_file(tmp_path, rows)).ok


@pytest.mark.parametrize("content, message", [
    (b"\x00\xff\xfe garbage", "{path} không phải văn bản UTF-8.\n"),
    (b"name,points\nBDT-001,80\n", "Đây không phải tệp scores.csv: thiếu các cột round_id, "
     "round, aggregation, judges_per_entry, category_id, category_code, entry_id, entry_code, "
     "judge, criterion_position, rank, score.\n"),
    (HEADER.encode(), "Tệp không có điểm nào.\n"),
    ((HEADER + "\n7,Chung khảo,mean,2,3,BDT,11,BDT-001,G1,1,Nội dung,40,ba mươi,1,71\n")
     .encode(), "Dòng 2: “ba mươi” ở cột points không phải là số.\n"),
    ((HEADER + "\n7,Chung khảo,mean,2,3,BDT,11,BDT-001,G1,1,Nội dung,40,30,1,71\n"
     "7,Chung khảo,mean,2,3,BDT,11,BDT-001,G1,1,Nội dung,40,31,1,71\n").encode(),
     "Dòng 3: điểm thứ hai của G1 cho BDT-001 ở tiêu chí 1.\n"),
    ((HEADER + "\n7,Chung khảo,mean,2,3,BDT,11,BDT-001,G1,2,Hình thức,30,30,1,71\n").encode(),
     "Phiếu chấm của G1 cho BDT-001 không có đủ một điểm cho mỗi tiêu chí.\n"),
])
def test_an_unreadable_file_exits_2_with_a_message(tmp_path, capsys, content, message):
    path = tmp_path / "scores.csv"
    path.write_bytes(content)
    assert _run(["verify-ranking", str(path)], capsys) == (2, "",
                                                           message.format(path=path))


def test_a_missing_file_exits_2(tmp_path, capsys):
    path = tmp_path / "khong-co.csv"
    assert _run(["verify-ranking", str(path)], capsys) == (
        2, "", f"Không đọc được {path}: No such file or directory\n")


def test_a_neutralised_negative_number_is_read_back():
    assert verify._plain("'-1.5") == "-1.5"
    assert verify._plain("'Ghi chú") == "'Ghi chú"

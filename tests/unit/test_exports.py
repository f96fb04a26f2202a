import csv
import io

from app.exports import csv_bytes, safe_cell


def test_formula_cells_are_neutralised():
    assert [safe_cell(v) for v in ("=1+1", "+84 912", "-5", "@SUM", "\tx", "Bình thường", None,
                                   3)] == ["'=1+1", "'+84 912", "'-5", "'@SUM", "'\tx",
                                           "Bình thường", "", "3"]


def test_csv_has_a_bom_and_round_trips_vietnamese():
    data = csv_bytes(["mã", "tên"], [["BDT-001", "Xây dựng Đảng, \"vững mạnh\""]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["mã", "tên"], ["BDT-001", "Xây dựng Đảng, \"vững mạnh\""]]

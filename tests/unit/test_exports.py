import csv
import io

from app.exports import csv_stream, safe_cell


def test_formula_cells_are_neutralised():
    assert [safe_cell(v) for v in ("=1+1", "+84 912", "-5", "@SUM", "\tx", "Bình thường", None,
                                   3)] == ["'=1+1", "'+84 912", "'-5", "'@SUM", "'\tx",
                                           "Bình thường", "", "3"]


def test_csv_has_a_bom_and_round_trips_vietnamese():
    data = b"".join(csv_stream(["mã", "tên"], iter([["BDT-001", "Xây dựng Đảng, \"vững mạnh\""]])))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["mã", "tên"], ["BDT-001", "Xây dựng Đảng, \"vững mạnh\""]]


def test_the_stream_sends_the_header_first_then_pieces_of_bounded_size():
    rows = ([f"BDT-{i:03d}", "Đảng " * 20] for i in range(1000))
    pieces = list(csv_stream(["mã", "tên"], rows, chunk_chars=4096))
    assert pieces[0] == "\ufeffmã,tên\r\n".encode()
    line = len(f"BDT-000,{'Đảng ' * 20}\r\n")
    assert all(len(p.decode()) < 4096 + line for p in pieces)
    assert len(pieces) > 20
    text = b"".join(pieces).decode("utf-8-sig")
    assert text.splitlines()[1:] == [f"BDT-{i:03d},{'Đảng ' * 20}" for i in range(1000)]


def test_closing_the_stream_closes_the_rows():
    closed = []

    def rows():
        try:
            for i in range(10_000):
                yield [i]
        finally:
            closed.append(True)

    source = rows()
    stream = csv_stream(["n"], source, chunk_chars=100)
    next(stream)
    next(stream)
    stream.close()
    assert closed == [True]
    assert source.gi_frame is None

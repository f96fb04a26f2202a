import unicodedata

from app.text import clean_line, fold, nfc, slugify, vi_name_sort_key, vi_sort_key


def test_fold_strips_vietnamese_diacritics_including_d_stroke():
    assert fold("Xây dựng Đảng") == "xay dung dang"
    assert fold("ĐƯỜNG") == "duong"


def test_nfc_joins_decomposed_text_and_drops_control_characters():
    decomposed = unicodedata.normalize("NFD", "Tiếng Việt")
    assert nfc(decomposed + "\x00\x07") == "Tiếng Việt"
    assert nfc("dòng 1\ndòng 2") == "dòng 1\ndòng 2"


def test_clean_line_collapses_whitespace_and_empties_to_none():
    assert clean_line("  Nguyễn   Văn\tAn \n") == "Nguyễn Văn An"
    assert clean_line("   ") is None


def test_slugify_makes_ascii_addresses():
    assert slugify("Giải báo chí Ninh Thuận 2021") == "giai-bao-chi-ninh-thuan-2021"


def test_vietnamese_alphabetical_order():
    words = ["Đức", "Dung", "Ân", "Ăn", "An", "Bình", "Ơn", "Ôn", "On", "Ưng", "Uy"]
    assert sorted(words, key=vi_sort_key) == [
        "An", "Ăn", "Ân", "Bình", "Dung", "Đức", "On", "Ôn", "Ơn", "Uy", "Ưng"
    ]


def test_tones_are_a_secondary_difference():
    assert sorted(["má", "ma", "mạ", "mà", "mả", "mã", "mb"], key=vi_sort_key) == [
        "ma", "mà", "mả", "mã", "má", "mạ", "mb"
    ]


def test_names_sort_by_given_name():
    names = ["Trần Văn Bình", "Nguyễn Thị An", "Lê Đức"]
    assert sorted(names, key=vi_name_sort_key) == ["Nguyễn Thị An", "Trần Văn Bình", "Lê Đức"]

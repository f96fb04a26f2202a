import unicodedata

import pytest

from app.errors import InsufficientStorage
from app.storage import (
    CONTENT_TYPES,
    KindRefused,
    LocalStorage,
    SizeExceeded,
    clean_filename,
    download_name,
    sniff,
)

SAMPLES = {
    "pdf": (b"%PDF-1.4\n", "pdf", "application/pdf"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image", "image/png"),
    "tiff-le": (b"II*\x00\x08\x00\x00\x00", "image", "image/tiff"),
    "tiff-be": (b"MM\x00*\x00\x00\x00\x08", "image", "image/tiff"),
    "wav": (b"RIFF\x24\x08\x00\x00WAVEfmt ", "audio", "audio/wav"),
    "mp3-id3": (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio", "audio/mpeg"),
    "mp3-frame": (b"\xff\xfb\x90\x64\x00", "audio", "audio/mpeg"),
    "m4a": (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio", "audio/mp4"),
    "mp4": (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video", "video/mp4"),
    "mov": (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video", "video/quicktime"),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_kinds_are_judged_by_content(name):
    head, kind, content_type = SAMPLES[name]
    sniffed = sniff(head + b"\x00" * 64)
    assert (sniffed.kind, sniffed.content_type) == (kind, content_type)
    assert content_type in CONTENT_TYPES  # declared in the API schema for downloads


def test_every_declared_content_type_is_sniffed():
    assert sorted(CONTENT_TYPES) == sorted({ct for _, _, ct in SAMPLES.values()})


@pytest.mark.parametrize("head", [b"MZ\x90\x00", b"<html><script>", b"PK\x03\x04", b"GIF89a",
                                  b"#!/bin/sh", b""])
def test_other_content_is_refused(head):
    assert sniff(head) is None


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\an\\bai viet.pdf", "bai viet.pdf"),
    ("bai\x00viet\x1f.pdf", "baiviet.pdf"),
    ('a<b>c:d"e|f?g*.pdf', "abcdefg.pdf"),
    ("...", "tep"),
    ("", "tep"),
    (".hidden.pdf", "hidden.pdf"),
])
def test_file_names_are_cleaned(raw, clean):
    assert clean_filename(raw) == clean


def test_decomposed_vietnamese_names_become_nfc():
    nfd = unicodedata.normalize("NFD", "Xây dựng Đảng.pdf")
    assert clean_filename(nfd) == unicodedata.normalize("NFC", "Xây dựng Đảng.pdf")
    assert unicodedata.is_normalized("NFC", clean_filename(nfd))


def test_long_names_keep_their_extension():
    name = clean_filename("a" * 300 + ".pdf")
    assert len(name) == 194 and name.endswith(".pdf")


def test_writer_stores_under_a_generated_name(tmp_path):
    storage = LocalStorage(tmp_path)
    writer = storage.open_writer(max_bytes=1000, accept=lambda s: s.kind == "pdf")
    writer.write(b"%PDF-1.4\n" + b"x" * 100)
    stored = writer.finish()
    assert (stored.size, stored.kind) == (109, "pdf")
    assert [p.name for p in tmp_path.iterdir()] == [stored.name]
    assert len(stored.name) == 32 and stored.sha256 == __import__("hashlib").sha256(
        b"%PDF-1.4\n" + b"x" * 100).hexdigest()


def test_writer_stops_over_the_limit_and_abort_leaves_nothing(tmp_path):
    storage = LocalStorage(tmp_path)
    writer = storage.open_writer(max_bytes=10, accept=lambda s: True)
    with pytest.raises(SizeExceeded):
        writer.write(b"%PDF-" + b"x" * 20)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_a_kind_at_the_first_bytes(tmp_path):
    storage = LocalStorage(tmp_path)
    writer = storage.open_writer(max_bytes=10_000, accept=lambda s: s.kind == "video")
    with pytest.raises(KindRefused):
        writer.write(b"%PDF-1.4" + b"x" * 100)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_sweep_removes_old_unreferenced_files_only(tmp_path):
    import os

    storage = LocalStorage(tmp_path)
    keep, orphan, part = "a" * 32, "b" * 32, "c" * 32 + ".part"
    for name in (keep, orphan, part, "README"):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (1, 1))
    fresh = "d" * 32
    (tmp_path / fresh).write_bytes(b"x")
    assert sorted(storage.sweep({keep})) == sorted([orphan, part])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([keep, "README", fresh])


# Download names ----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "content_type", "expected"), [
    ("bao-cao.hta", "application/pdf", "bao-cao.pdf"),
    ("anh.jpg.exe", "image/png", "anh.jpg.png"),
    ("bai viet", "application/pdf", "bai viet.pdf"),
    ("Bài 1. Xây dựng Đảng", "application/pdf", "Bài 1. Xây dựng Đảng.pdf"),
    ("ANH.JPEG", "image/jpeg", "ANH.JPEG"),
    ("anh.jpg", "image/jpeg", "anh.jpg"),
    ("anh.png", "image/jpeg", "anh.jpg"),
    ("scan.tiff", "image/tiff", "scan.tiff"),
    ("scan.pdf", "image/tiff", "scan.tif"),
    ("ban-tin.mp3", "audio/wav", "ban-tin.wav"),
    ("ban-tin.wav", "audio/mpeg", "ban-tin.mp3"),
    ("phong-su.mp4", "audio/mp4", "phong-su.m4a"),
    ("phong-su.m4a", "video/mp4", "phong-su.mp4"),
    ("phong-su.mp4", "video/quicktime", "phong-su.mov"),
    ("trang.pdf.", "application/pdf", "trang.pdf"),
    ("", "application/pdf", "tep.pdf"),
    ("..", "image/png", "tep.png"),
    (".pdf", "application/pdf", "pdf.pdf"),
    ("bao\u202eftp.pdf", "application/pdf", "baoftp.pdf"),
    ("anh\u202egnp.exe", "image/png", "anhgnp.png"),
])
def test_download_name_takes_the_extension_of_the_content(name, content_type, expected):
    assert download_name(name, content_type) == expected
    assert download_name(expected, content_type) == expected


def test_download_name_of_a_long_name_stays_within_200_characters():
    name = download_name("b" * 195 + ".docx", "application/pdf")
    assert name == "b" * 195 + ".pdf"
    name = download_name("c" * 300, "video/quicktime")
    assert name == "c" * 196 + ".mov"


@pytest.mark.parametrize("char", [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\u200e", "\u200f", "\u061c",  # marks
    "\u200b", "\u200d", "\ufeff", "\u00ad",  # other format characters
    "\x00", "\x1b", "\x7f", "\x85", "\x9b",  # C0 and C1 controls
    "\u2028", "\u2029",  # line and paragraph separators
])
def test_control_and_format_characters_are_removed_from_names(char):
    assert clean_filename(f"Xây{char}dựng{char}.pdf") == "Xâydựng.pdf"


def test_vietnamese_letters_stay_and_names_end_in_nfc():
    # A format character between a letter and its combining accent must not keep them apart.
    name = clean_filename("Ða\u0300\u200bng" + "e\u200d\u0301" + ".pdf")
    assert name == "Ðàngé.pdf"
    assert clean_filename("Bảo tàng Đắk Lắk – ảnh.png") == "Bảo tàng Đắk Lắk – ảnh.png"


# Locks, the sweep and its bounds -------------------------------------------------------------

HOLD_A_PART = """
import sys, time
from pathlib import Path
from app.storage import LocalStorage

writer = LocalStorage(Path(sys.argv[1])).open_writer(max_bytes=10**9, accept=lambda s: True)
writer.write(b"%PDF-1.4\\n" + b"x" * 100_000)
print(writer.name + ".part", flush=True)
time.sleep(600)
"""


def test_sweep_spares_a_part_another_process_writes_and_removes_it_once_that_one_dies(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen([sys.executable, "-c", HOLD_A_PART, str(tmp_path)], cwd=root,
                              stdout=subprocess.PIPE, text=True)
    try:
        part = writer.stdout.readline().strip()
        assert part.endswith(".part") and (tmp_path / part).exists()
        os.utime(tmp_path / part, (1, 1))  # looks abandoned by its age
        storage = LocalStorage(tmp_path)
        assert storage.sweep(set()) == []
        assert (tmp_path / part).exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    os.utime(tmp_path / part, None)  # fresh: the dead writer's part goes whatever its age
    assert storage.sweep(set()) == [part]
    assert list(tmp_path.iterdir()) == []


def test_sweep_spares_a_part_this_process_writes_until_it_is_finished(tmp_path):
    storage = LocalStorage(tmp_path)
    writer = storage.open_writer(max_bytes=10**6, accept=lambda s: True)
    writer.write(b"%PDF-1.4\n" + b"x" * 100)
    assert storage.sweep(set()) == []
    stored = writer.finish()
    assert storage.sweep({stored.name}) == []
    assert [p.name for p in tmp_path.iterdir()] == [stored.name]


def test_sweep_never_touches_what_is_not_an_entry_upload(tmp_path):
    import os

    storage = LocalStorage(tmp_path)
    exports = storage.area("exports")
    assert exports == tmp_path / "exports"
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.write_bytes(b"not ours")
    hexa = "a" * 32
    (exports / hexa).write_bytes(b"csv")
    (exports / f"{hexa}.part").write_bytes(b"csv")
    (tmp_path / "notes.txt").write_bytes(b"x")
    (tmp_path / ("b" * 31)).write_bytes(b"x")
    (tmp_path / ("C" * 32)).write_bytes(b"x")
    (tmp_path / ("d" * 32 + ".tmp")).write_bytes(b"x")
    (tmp_path / ("e" * 32)).mkdir()
    (tmp_path / ("f" * 32)).symlink_to(outside)
    (tmp_path / ("0" * 32 + ".part")).symlink_to(outside)
    everything = [exports, exports / hexa, exports / f"{hexa}.part", tmp_path / "notes.txt",
                  tmp_path / ("b" * 31), tmp_path / ("C" * 32), tmp_path / ("d" * 32 + ".tmp"),
                  tmp_path / ("e" * 32), outside]
    for path in everything:
        os.utime(path, (1, 1))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert storage.sweep(set()) == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert outside.read_bytes() == b"not ours"


@pytest.mark.parametrize("name", ["", "../x", "Exports", "a/b", "x" * 40])
def test_area_names_are_simple(tmp_path, name):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).area(name)


# Storage failures: 507 instead of a crash ----------------------------------------------------

def test_an_uncreatable_folder_does_not_stop_start_up_and_refuses_uploads(tmp_path):
    from tests.storage_helpers import uncreatable_folder

    storage = LocalStorage(uncreatable_folder(tmp_path))
    assert storage.is_writable() is False
    assert storage.sweep(set()) == []
    with pytest.raises(InsufficientStorage) as raised:
        storage.open_writer(max_bytes=1000, accept=lambda s: True)
    assert raised.value.status_code == 507


def test_a_read_only_folder_refuses_uploads(tmp_path):
    from tests.storage_helpers import read_only_folder

    with read_only_folder(tmp_path / "ro") as root:
        storage = LocalStorage(root)
        assert storage.is_writable() is False
        with pytest.raises(InsufficientStorage):
            storage.open_writer(max_bytes=1000, accept=lambda s: True)
        assert list(root.iterdir()) == []


def test_a_full_disk_stops_the_write_and_abort_leaves_nothing(tmp_path):
    from tests.storage_helpers import full_disk

    with full_disk(tmp_path / "full") as root:
        storage = LocalStorage(root)
        assert storage.is_writable() is True
        writer = storage.open_writer(max_bytes=10**7, accept=lambda s: True)
        with pytest.raises(InsufficientStorage):
            for _ in range(100):
                writer.write(b"%PDF-1.4\n" + b"x" * 10_000)
        writer.abort()
        assert list(root.iterdir()) == []

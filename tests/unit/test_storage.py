import unicodedata

import pytest

from app.storage import (
    CONTENT_TYPES,
    KindRefused,
    LocalStorage,
    SizeExceeded,
    clean_filename,
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

"""Real storage failures for tests, without mocks: a full disk and a read-only folder are tiny
tmpfs file systems mounted for the test (this needs root with CAP_SYS_ADMIN, as in our
containers and CI; elsewhere those tests fail and say why, never skip silently), and a folder that cannot be created is a path
through a regular file (works for any user, root included, unlike chmod)."""

import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_tmpfs(path: Path, options: str):
    path.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    result = subprocess.run([mount or "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                            capture_output=True, check=False) if mount else None
    if result is None or result.returncode != 0:
        pytest.fail("these storage-failure tests mount a tmpfs: run them as root with "
                    f"CAP_SYS_ADMIN ({result.stderr.decode(errors='replace').strip() if result else 'no mount command'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextmanager
def full_disk(path: Path):
    """A folder on a 64 KiB file system: writing more fails with ENOSPC."""
    with mounted_tmpfs(path, "size=64k") as root:
        yield root


@contextmanager
def read_only_folder(path: Path):
    """A folder on a read-only file system: creating a file fails with EROFS."""
    with mounted_tmpfs(path, "ro,size=64k") as root:
        yield root


def uncreatable_folder(tmp_path: Path) -> Path:
    """A folder path that cannot be created: a regular file stands where its parent would."""
    (tmp_path / "not-a-folder").write_bytes(b"")
    return tmp_path / "not-a-folder" / "uploads"


@contextmanager
def storage_problem(kind: str, tmp_path: Path):
    """The upload folder for each kind of failure: "full", "read-only" or "uncreatable"."""
    if kind == "uncreatable":
        yield uncreatable_folder(tmp_path)
        return
    with (full_disk if kind == "full" else read_only_folder)(tmp_path / kind) as root:
        yield root


def stored_names() -> list[str]:
    """Everything the storage holds, on either backend: the local folder's names (``.part``
    files included; a sub-folder's files as ``<folder>/<name>``, temporary ones included), or an S3 bucket's keys plus ``<key>.part`` for each multipart upload in
    progress."""
    from app.storage import LocalStorage, get_storage

    storage = get_storage()
    if isinstance(storage, LocalStorage):
        root = storage.root
        if not root.exists():
            return []
        return sorted([p.name for p in root.iterdir() if not p.is_dir()]
                      + [f"{p.name}/{f.name}" for p in root.iterdir() if p.is_dir()
                         for f in p.iterdir()])
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", ())
    return sorted(storage.keys() + [f"{u['Key']}.part" for u in uploads])

"""The baseline for bench/lists.py: a plain FastAPI + SQLModel app on the same database
(BENCH_BARE_DATABASE_URL) serving the organizer's entry list the plain way — the same
filters, sort, limit and offset, the same JSON fields (authors, files, duplicate flags),
the total by ``count(*)`` — with no authentication, middleware, sessions or translations.
``/hello`` is the baseline of ``/healthz``."""

import os
import sys
from collections import defaultdict
from pathlib import Path

from fastapi import Depends, FastAPI, Response
from sqlalchemy import create_engine, func
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.entries.models import Entry, EntryFile  # noqa: E402  (the tables' mapping only)
from app.text import fold  # noqa: E402

url = os.environ["BENCH_BARE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://",
                                                      1)
engine = create_engine(url, connect_args={"check_same_thread": False}
                       if url.startswith("sqlite") else {})
app = FastAPI()
SORTS = {"code": (Entry.category_id, Entry.code, Entry.id),
         "author": (Entry.author_sort, Entry.id), "title": (Entry.title_sort, Entry.id),
         "newest": (Entry.created_at.desc(), Entry.id.desc())}
CANDIDATES = ["submitted", "accepted"]


def get_session():
    with Session(engine) as session:
        yield session


@app.get("/hello")
def hello():
    return {"status": "ok"}


@app.get("/awards/{award_id}/entries")
def entries(award_id: int, response: Response, session: Session = Depends(get_session),
            status: str | None = None, category_id: int | None = None, q: str | None = None,
            sort: str = "code", limit: int = 50, offset: int = 0):
    conditions = [Entry.award_id == award_id]
    conditions.append(Entry.status == status if status else Entry.status != "draft")
    if category_id:
        conditions.append(Entry.category_id == category_id)
    for word in fold(q or "").split():
        conditions.append(col(Entry.search_text).contains(word, autoescape=True))
    rows = session.exec(select(Entry).where(*conditions).order_by(*SORTS[sort])
                        .options(selectinload(Entry.authors), selectinload(Entry.files))
                        .offset(offset).limit(limit)).all()
    response.headers["X-Total-Count"] = str(session.exec(
        select(func.count()).select_from(Entry).where(*conditions)).one())
    hashes = {f.sha256 for e in rows if e.status in CANDIDATES for f in e.files}
    holders = defaultdict(list)
    if hashes:  # by the hash index, then by primary key (as the app does)
        files = session.exec(select(EntryFile.sha256, EntryFile.entry_id)
                             .where(col(EntryFile.sha256).in_(hashes))).all()
        others = {i: (a, s, c) for i, a, s, c in session.exec(
            select(Entry.id, Entry.award_id, Entry.status, Entry.code)
            .where(col(Entry.id).in_({f[1] for f in files}))).all()}
        for sha, entry_id in files:
            award, state, code = others[entry_id]
            if award == award_id and state in CANDIDATES:
                holders[sha].append((entry_id, code))
    out = []
    for e in rows:
        duplicates = [{"file_id": f.id, "sha256": f.sha256, "other_entry_id": other,
                       "other_code": code}
                      for f in e.files if e.status in CANDIDATES
                      for other, code in holders[f.sha256] if other != e.id]
        out.append({
            "title": e.title, "summary": e.summary, "outlet": e.outlet,
            "published_on": e.published_on, "url": e.url, "series_parts": e.series_parts,
            "id": e.id, "award_id": e.award_id, "category_id": e.category_id,
            "status": e.status, "code": e.code, "screening_reason": e.screening_reason,
            "created_at": e.created_at, "updated_at": e.updated_at,
            "submitted_at": e.submitted_at, "submitter_id": e.submitter_id,
            "authors": [{"full_name": a.full_name, "pen_name": a.pen_name, "email": a.email}
                        for a in e.authors],
            "files": [{"id": f.id, "filename": f.filename, "size": f.size,
                       "sha256": f.sha256, "kind": f.kind, "content_type": f.content_type,
                       "created_at": f.created_at} for f in e.files],
            "duplicates": duplicates,
            "flags": [f"duplicate file: same SHA-256 as {d['other_code']}"
                      for d in duplicates]})
    return out

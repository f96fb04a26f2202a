"""The blind-leak test: in a blind round, nothing a judge can reach through the API names an
author — no answer body, no error, no file download header, no Range answer's header.

Authors, pen names, e-mails, co-authors and file names are distinctive strings; every answer
is scanned for each of them, case-insensitively, with and without Vietnamese diacritics
(``app.text.fold``), percent-decoded and JSON-decoded.
"""

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import unquote

import pytest

from app.awards import service as award_service
from app.entries import files as entry_files
from app.entries import writes as entry_writes
from app.judging import queries
from app.judging import service as judging
from app.samples import pdf, png
from app.text import fold
from tests.factories import api_headers, make_award, make_round, make_user, seat, store

SUBMITTER = {"full_name": "Zyxwvu Trần", "pen_name": "Bút Danh Qwerty",
             "email": "leak-zq@example.vn"}
CO_AUTHOR = {"full_name": "Qoxwvy Đặng Thị Ưng", "pen_name": "Bút Danh Asdfgh",
             "email": "leak-co-zq@example.vn"}
FILE_NAMES = ["zq-ho-so-tac-gia.pdf", "Ảnh Zyxwvu Trần chụp.png"]
SECRETS = [SUBMITTER["full_name"], SUBMITTER["pen_name"], SUBMITTER["email"],
           CO_AUTHOR["full_name"], CO_AUTHOR["pen_name"], CO_AUTHOR["email"],
           "Zyxwvu", "Qwerty", "Qoxwvy", "Asdfgh", "leak-zq", "leak-co-zq",
           "zq-ho-so-tac-gia", "zq-ho-so", "Ảnh Zyxwvu", *FILE_NAMES]
NEEDLES = sorted({fold(s) for s in SECRETS} | {s.lower() for s in SECRETS})


def leaks(text: str) -> list[str]:
    """The secrets found in ``text`` in any of its readings."""
    readings = [text, unquote(text)]
    try:
        readings.append(json.dumps(json.loads(text), ensure_ascii=False))
    except ValueError:
        pass
    folded = " ".join(fold(r) for r in readings) + " " + " ".join(r.lower() for r in readings)
    return [n for n in NEEDLES if n in folded]


def answer_text(response) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    if response.headers.get("content-type", "").startswith("application/json"):
        return headers + "\n" + response.text
    return headers  # file bytes are the author's work, not something the server adds


def _world(session, *, blind: bool):
    now = datetime.now(UTC)
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open", max_entries_per_author=5)
    category = award_service.list_categories(session, award)[0]
    author = make_user(session, **SUBMITTER)
    from app.entries.models import CoAuthorIn, EntryCreate

    entries = []
    for i in range(2):
        entry = entry_writes.create_entry(session, award, EntryCreate(
            category_id=category.id, title=f"Chi bộ vùng cao phần {i + 1}",
            summary="Tóm tắt tác phẩm", outlet="Báo Ninh Thuận",
            published_on=datetime(2026, 3, 15).date(),
            co_authors=[CoAuthorIn(**CO_AUTHOR)]), user=author, now=now)
        entry_files.attach_file(session, entry.id, store(pdf(f"Bai {i + 1}")), FILE_NAMES[0],
                                user=author, now=now)
        entry_files.attach_file(session, entry.id, store(png(color=(i, 2, 3))), FILE_NAMES[1],
                                user=author, now=now)
        entry_writes.submit_entry(session, entry, user=author, now=now)
        entry_writes.screen_entry(session, entry, decision="accept", reason=None,
                                  actor=organizer, now=now)
        entries.append(entry)
    for target in ("closed", "judging"):
        award_service.change_status(session, award, target, actor=organizer)
    judges = [make_user(session, role="judge", full_name=f"Giám khảo {i + 1}")
              for i in range(3)]
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=2, blind=blind,
                        name="Vòng sơ khảo")
    for judge in judges:
        seat(session, round_, judge, [category], organizer=organizer)
    judging.assign_round(session, round_, actor=organizer, now=now)
    judging.move_round(session, round_, "start", actor=organizer, now=now)
    judge = judges[0]
    mine = [a.entry_id for a in queries.judge_queue(session, round_, judge)]
    return SimpleNamespace(award=award, category=category, entries=entries, round=round_,
                           judge=judge, judges=judges, organizer=organizer, author=author,
                           mine=mine, others=[e for e in entries if e.id not in mine])


def _judge_answers(client, session, w) -> list:
    """Every kind of answer the judge can get, successes and errors."""
    h = api_headers(client, w.judge)
    base = "/api/v1"
    r = w.round.id
    criteria = queries.criteria_of(session, r)
    first = w.mine[0]
    answers = [
        client.get(f"{base}/me/rounds", headers=h),
        client.get(f"{base}/me", headers=h),
        client.get(f"{base}/rounds/{r}", headers=h),
        client.get(f"{base}/rounds/{r}/assignments", headers=h),
        client.get(f"{base}/awards/{w.award.id}", headers=h),
        client.get(f"{base}/awards/{w.award.id}/categories", headers=h),
    ]
    for entry_id in w.mine:
        answers += [client.get(f"{base}/rounds/{r}/entries/{entry_id}", headers=h),
                    client.get(f"{base}/entries/{entry_id}", headers=h)]
        entry = next(e for e in w.entries if e.id == entry_id)
        for f in entry.files:
            url = f"{base}/files/{f.id}"
            answers += [client.get(url, headers=h),
                        client.get(f"{url}?inline=1", headers=h),
                        client.head(url, headers=h),
                        client.get(url, headers={**h, "Range": "bytes=10-59"}),
                        client.get(url, headers={**h, "Range": "bytes=-20"}),
                        client.get(url, headers={**h, "Range": "bytes=999999-"})]
    score = f"{base}/rounds/{r}/entries/{first}/score"
    answers += [
        client.put(score, headers=h, json={"points": {str(criteria[0].id): 30}}),
        client.put(score, headers=h, json={
            "points": {str(c.id): c.max_points for c in criteria}, "final": True,
            "comment": "Bài viết tốt"}),
        client.put(score, headers=h, json={"points": {str(criteria[0].id): 99}}),
        client.put(score, headers=h, json={"points": {str(criteria[0].id): 1}, "final": True}),
        client.put(score, headers=h, json={"points": {"999999": 1}}),
        client.put(score, headers=h, json={"points": {str(criteria[0].id): "abc"}}),
        client.put(score, headers=h, content=b"{not json", ),
        client.get(f"{base}/rounds/{r}/entries/{first}", headers=h),
    ]
    for entry in w.others:  # not assigned: every door answers an error
        answers += [client.get(f"{base}/rounds/{r}/entries/{entry.id}", headers=h),
                    client.get(f"{base}/entries/{entry.id}", headers=h),
                    client.put(f"{base}/rounds/{r}/entries/{entry.id}/score", headers=h,
                               json={"points": {}}),
                    client.post(f"{base}/rounds/{r}/entries/{entry.id}/conflict", headers=h,
                                json={"reason": "x"})]
        answers += [client.get(f"{base}/files/{f.id}", headers=h) for f in entry.files]
    for path in (f"/rounds/{r}/progress", f"/rounds/{r}/panel", f"/rounds/{r}/entries/{first}/history",
                 f"/awards/{w.award.id}/rounds", f"/awards/{w.award.id}/entries",
                 "/me/entries", f"/rounds/{r}/entries/999999", "/entries/999999",
                 "/files/999999", "/rounds/999999"):
        answers.append(client.get(f"{base}{path}", headers=h))
    conflict = f"{base}/rounds/{r}/entries/{w.mine[-1]}/conflict"
    answers += [client.post(conflict, headers=h, json={"reason": "  "}),
                client.post(conflict, headers=h, json={"reason": "Tôi quen tác giả"}),
                client.post(conflict, headers=h, json={"reason": "Lần hai"}),
                client.get(f"{base}/rounds/{r}/assignments", headers=h),
                client.get(f"{base}/me/rounds", headers=h)]
    return answers


def test_nothing_a_judge_reaches_in_a_blind_round_names_an_author(client, session):
    w = _world(session, blind=True)
    assert w.mine, "the judge has entries to look at"
    answers = _judge_answers(client, session, w)
    statuses = {a.status_code for a in answers}
    assert {200, 206, 403, 404, 416, 422} <= statuses
    assert max(statuses) < 500
    found = {f"{a.request.method} {a.request.url.path} -> {a.status_code}": leaks(answer_text(a))
             for a in answers}
    assert {k: v for k, v in found.items() if v} == {}
    names = [a.headers["content-disposition"] for a in answers
             if "content-disposition" in a.headers]
    assert names and all(w.entries[0].code.split("-")[0] in n for n in names)


def test_the_scanner_finds_the_authors_where_they_may_be_seen(client, session):
    """The same world seen by the organizer, and by a judge of a round that is not blind:
    the scan finds the names, so an empty scan above means something."""
    w = _world(session, blind=False)
    organizer = api_headers(client, w.organizer)
    entry = w.entries[0]
    assert leaks(answer_text(client.get(f"/api/v1/entries/{entry.id}", headers=organizer)))
    judge = api_headers(client, w.judge)
    seen = client.get(f"/api/v1/entries/{w.mine[0]}", headers=judge)
    assert fold(SUBMITTER["full_name"]) in leaks(answer_text(seen))
    f = next(e for e in w.entries if e.id == w.mine[0]).files[0]
    download = client.get(f"/api/v1/files/{f.id}", headers=judge)
    assert "zq-ho-so-tac-gia" in leaks(answer_text(download))


@pytest.mark.parametrize("text", ["ZYXWVU TRAN", "zyxwvu tr%E1%BA%A7n", "Bút  Danh Qwerty",
                                  '"Zyxwvu Tr\\u1ea7n"'])
def test_the_scanner_reads_every_spelling(text):
    assert leaks(text)

"""Outcomes stay sealed until publishing: before the award is published, nothing an author
or co-author can fetch — pages, API answers, error pages, mails — carries a trace of the
judging (shortlist, rounds, scores, judges' pseudonyms, prize levels). The same scan finds
those traces in the organizer's answers (so it can fail), and in the authors' own answers
once the results are published."""

import re

from sqlmodel import select

from app.mail.models import Mail
from tests.factories import api_headers, page_login
from tests.results_world import FINAL, PRELIMINARY, finish_and_publish, two_rounds

# Level names, case as written ("Giải báo chí" is no "Giải B").
LEVELS = [r"Giải [ABC]\b", r"[Kk]huyến khích", r"[Đđ]ặc biệt", r"\b[ABC] prize",
          r"[Cc]onsolation", r"[Ss]pecial prize", r"[Đđ]ạt giải", r"[Đđ]oạt giải",
          r"\b[Aa]warded", r"\bWon (a|an|the)\b"]
JUDGING = ["shortlist", "vòng trong", "Vào chung khảo", PRELIMINARY, FINAL, "sơ khảo",
           "chung khảo", "ranking", "xếp hạng"]
# The followed entry's totals (87.5 preliminary, 73.5 final) in any notation, judges'
# pseudonyms, a non-null outcome, a link to the results.
PATTERNS = [r"87[.,]50?\b", r"73[.,]50?\b", r"\bG[1-9]\b", r'"outcome":\s*\{',
            r"/awards/[^/\"]+/results", r"/certificates/"]
# Left out of the scan: CSRF tokens (random letters) and the language switch's links back
# to the address asked for.
TOKENS = re.compile(r'(name="csrf_token" value|data-csrf)="[^"]*"|href="/lang/[^"]*"')


def traces(text: str, *, levels: bool = True) -> list[str]:
    """Every trace of judging in ``text`` (its CSRF tokens left out: random letters)."""
    text = TOKENS.sub("", text)
    found = [w for w in JUDGING if w.lower() in text.lower()]
    return found + [p for p in (LEVELS if levels else []) + PATTERNS if re.search(p, text)]


def _author_answers(client, world, person) -> dict[str, tuple[int, str]]:
    """What ``person`` gets from every page and API answer they can reach about the award
    and the entry: {address: (status, body)}."""
    client.cookies.clear()
    page_login(client, person)
    award, entry = world.award, world.ours
    answers = {}
    for path in ["/", "/me", "/me/entries", "/me/entries?lang=en", f"/entries/{entry.id}",
                 f"/entries/{entry.id}?lang=en", f"/awards/{award.slug}",
                 f"/awards/{award.slug}?lang=en", f"/awards/{award.slug}/results",
                 f"/awards/{award.slug}/results?lang=en", f"/awards/{award.slug}/results.csv",
                 f"/awards/{award.slug}/results.xlsx", f"/awards/{award.slug}/results.pdf",
                 f"/awards/{award.slug}/scores.csv"]:
        response = client.get(path)
        answers[path] = (response.status_code, response.text)
    headers = api_headers(client, person)
    for path in [f"/entries/{entry.id}", "/me/entries", f"/awards/{award.id}",
                 f"/awards/{award.id}/categories", "/awards", f"/awards/{award.id}/results",
                 f"/awards/{award.id}/results.csv", f"/awards/{award.id}/results.xlsx",
                 f"/awards/{award.id}/results.pdf", f"/awards/{award.id}/scores.csv",
                 f"/awards/{award.id}/prizes", f"/rounds/{world.first.id}",
                 f"/rounds/{world.first.id}/ranking", f"/rounds/{world.first.id}/shortlist",
                 f"/rounds/{world.final.id}/ranking", f"/rounds/{world.final.id}/assignments"]:
        for lang in ("vi", "en"):
            response = client.get(f"/api/v1{path}", headers={**headers,
                                                              "Accept-Language": lang})
            answers[f"API {path} [{lang}]"] = (response.status_code, response.text)
    return answers


def _mails_to(session, address: str) -> list[Mail]:
    return list(session.exec(select(Mail).where(Mail.to == address).order_by(Mail.id)).all())


SEALED_STATUS = {
    "/awards/{slug}/results": 404, "/awards/{slug}/results?lang=en": 404,
    "/awards/{slug}/results.csv": 404, "/awards/{slug}/results.xlsx": 404,
    "/awards/{slug}/results.pdf": 404,
    "API /awards/{id}/results [vi]": 404, "API /awards/{id}/results [en]": 404,
}


def test_nothing_of_judging_reaches_the_authors_before_publishing(client, session):
    world = two_rounds(session)
    for person in (world.author, world.co_author):
        answers = _author_answers(client, world, person)
        slug, award_id = world.award.slug, world.award.id
        for template, status in SEALED_STATUS.items():
            key = template.format(slug=slug, id=award_id)
            assert answers[key][0] == status, key
        for key in (f"/awards/{slug}/scores.csv", f"API /awards/{award_id}/scores.csv [vi]",
                    f"API /awards/{award_id}/results.csv [vi]",
                    f"API /awards/{award_id}/results.pdf [vi]",
                    f"API /awards/{award_id}/results.xlsx [vi]",
                    f"API /awards/{award_id}/prizes [vi]",
                    f"API /rounds/{world.first.id}/ranking [vi]",
                    f"API /rounds/{world.first.id}/shortlist [vi]",
                    f"API /rounds/{world.final.id}/ranking [vi]", f"API /rounds/{world.first.id} [vi]",
                    f"API /rounds/{world.final.id}/assignments [vi]"):
            assert answers[key][0] in (403, 404), key
        for key in ("/me/entries", f"/entries/{world.ours.id}", f"/awards/{slug}",
                    f"API /entries/{world.ours.id} [vi]", "API /me/entries [vi]"):
            assert answers[key][0] == 200, key
        leaks = {}
        for key, (_status, body) in answers.items():
            # The award's public page lists each category's prizes (its rules): levels
            # are named there, as they are before any entry is judged.
            public_rules = key.startswith(f"/awards/{slug}") and "results" not in key \
                or key.startswith(f"API /awards/{award_id}/categories")
            found = traces(body, levels=not public_rules)
            if found:
                leaks[key] = found
        assert leaks == {}
        assert client.get(f"/api/v1/entries/{world.ours.id}",
                          headers=api_headers(client, person)).json()["outcome"] is None
        assert [e["outcome"] for e in client.get(
            "/api/v1/me/entries", headers=api_headers(client, person)).json()] == [None]
    mails = {address: _mails_to(session, address) for address in
             ("tacgia@example.vn", "dongtacgia@example.vn", "khach@example.vn")}
    assert all(mails.values())  # receipts and screening mails went out
    leaks = {f"{m.to} {m.template}": traces(f"{m.subject}\n{m.text}\n{m.html}")
             for ms in mails.values() for m in ms}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_the_same_scan_finds_the_traces_in_the_organizers_answers(client, session):
    world = two_rounds(session)
    headers = api_headers(client, world.organizer)
    page_login(client, world.organizer)
    found = set()
    for path in [f"/api/v1/rounds/{world.first.id}/ranking",
                 f"/api/v1/rounds/{world.first.id}/shortlist",
                 f"/api/v1/awards/{world.award.id}/prizes",
                 f"/api/v1/rounds/{world.final.id}"]:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        found.update(traces(response.text))
    preview = client.get(f"/awards/{world.award.slug}/results")
    assert preview.status_code == 200
    assert "Bản xem trước — chưa công bố" in preview.text
    found.update(traces(preview.text))
    assert {r"Giải [ABC]\b", "shortlist", FINAL, r"87[.,]50?\b", r"\bG[1-9]\b"} <= found


def test_once_published_the_authors_see_their_outcome(client, session):
    world = two_rounds(session)
    finish_and_publish(session, world)
    for person in (world.author, world.co_author):
        answers = _author_answers(client, world, person)
        mine = answers["/me/entries"][1]
        assert "Đạt giải C" in mine
        assert "Won a C prize" in answers["/me/entries?lang=en"][1]
        page = answers[f"/entries/{world.ours.id}"][1]
        assert "Đạt giải C" in page
        assert f'href="/awards/{world.award.slug}/results"' in page
        assert answers[f"/awards/{world.award.slug}/results"][0] == 200
        entry = client.get(f"/api/v1/entries/{world.ours.id}",
                           headers=api_headers(client, person)).json()
        assert entry["outcome"]["status"] == "awarded"
        assert entry["outcome"]["level"] == "C"
        assert re.fullmatch(r"https?://[^/]+/certificates/[A-Za-z0-9_-]{24}",
                            entry["outcome"]["certificate_url"])
        assert traces(page)  # the same scan now finds the outcome

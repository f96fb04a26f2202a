"""Every answer of the API matches its published schema, for each role (schemathesis).

A real ``giaibao serve`` runs on a fresh database seeded with an open award, its category,
an entry in each state and their files; schemathesis generates a bounded, derandomized number
of requests per operation (valid ones, and invalid ones too) with the role's bearer token,
some of them aimed at the seeded ids, and checks each response: no 5xx, a declared status
code and content type, and a body that matches the declared schema.
"""

import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session, select

from app.accounts import invitations
from app.accounts import service as accounts
from app.accounts.models import InvitationCreate, User
from app.accounts.rules import Role
from app.config import get_settings
from app.db import make_engine
from app.results.models import Certificate
from app.samples import pdf, png
from tests.conftest import fresh_database_url
from tests.factories import make_award, make_entry, make_user

# Generated requests per operation and role (more for a deeper run, by hand).
EXAMPLES = int(os.environ.get("GIAIBAO_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
ROLES = ["anonymous", Role.journalist, Role.judge, Role.organizer]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A real server on a fresh database, with the seeded ids and one user per role."""
    database_url = fresh_database_url("schemathesis")
    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="giaibao-schemathesis-")) / "server.log"
    env = dict(os.environ, GIAIBAO_DATABASE_URL=database_url, GIAIBAO_ENV="test",
               GIAIBAO_UPLOAD_DIR=str(get_settings().upload_dir))
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        with Session(engine, expire_on_commit=False) as session:
            seeded = _seed(session)
            session.commit()
        seeded["engine"] = engine
        yield base, seeded
    finally:
        engine.dispose()
        process.terminate()
        process.wait(timeout=30)


def _seed(session: Session) -> dict:
    organizer = make_user(session, role=Role.organizer)
    judge = make_user(session, role=Role.judge)
    author = make_user(session)
    award = make_award(session, organizer=organizer, status="open", max_entries_per_author=10)
    entries = [make_entry(session, award, user=author, status=status, files=[pdf(status), png()])
               for status in ("draft", "submitted", "accepted", "returned", "rejected",
                              "withdrawn")]
    files = [(entry.id, f.id) for entry in entries for f in entry.files]
    category_id = entries[0].category_id
    from tests.mail_helpers import queue_mail

    mails = [queue_mail(session, user=author), queue_mail(session, user=judge, secret=True,
                                                          status="failed", attempts=1,
                                                          last_error="550 No such user")]
    judging = _seed_judging(session, organizer=organizer, judge=judge, author=author)
    # A published award (its results public) with a certificate to verify.
    published = make_award(session, organizer=organizer, status="published")
    tokens = [c.token for c in session.exec(select(Certificate)).all()]
    invitation = invitations.invite(
        session, InvitationCreate(email="gk-moi@example.vn", full_name="Giám Khảo Mới",
                                  role=Role.judge), actor=organizer, now=datetime.now(UTC))
    # An account for the user routes to act on (deactivating a caller would end its run).
    spare = make_user(session, full_name="Lê Thị Dự Phòng")
    return {
        "users": {Role.organizer: organizer.id, Role.judge: judge.id, Role.journalist: author.id},
        "path_parameters": {
            "category_id": [category_id],
            "award_id": [award.id, judging["award_id"], published.id],
            "entry_id": [entry.id for entry in entries] + judging["entry_ids"],
            "file_id": [file_id for _, file_id in files] + judging["file_ids"],
            "round_id": judging["round_ids"],
            "judge_id": [judge.id],
            "mail_id": [mail.id for mail in mails],
            "invitation_id": [invitation.id],
            "user_id": [spare.id],
            "token": tokens + ["no-such-certificate"],
        },
        # A file belongs to one entry: both ids together.
        "files": files,
    }


def _seed_judging(session: Session, *, organizer, judge, author) -> dict:
    """An award in judging with a round scoring (the seeded judge on its panel, assigned to
    both entries) and a round in setup, so that the judging routes answer for real."""
    from app.awards import service as awards
    from app.judging import service as judging
    from tests.factories import make_round, seat

    now = datetime.now(UTC)
    award = make_award(session, organizer=organizer, status="open", max_entries_per_author=10)
    entries = [make_entry(session, award, user=author, status="accepted",
                          files=[pdf(f"cham {i}"), png()]) for i in range(2)]
    for target in ("closed", "judging"):
        awards.change_status(session, award, target, actor=organizer)
    category = awards.list_categories(session, award)[0]
    scoring = make_round(session, award, organizer=organizer, judges_per_entry=1)
    setup = make_round(session, award, organizer=organizer, judges_per_entry=1,
                       name="Vòng chung khảo", blind=False)
    for round_ in (scoring, setup):
        seat(session, round_, judge, [category], organizer=organizer)
        judging.assign_round(session, round_, actor=organizer, now=now)
    judging.move_round(session, scoring, "start", actor=organizer, now=now)
    return {"award_id": award.id, "entry_ids": [e.id for e in entries],
            "file_ids": [f.id for e in entries for f in e.files],
            "round_ids": [scoring.id, setup.id]}


def _headers(seeded, role) -> dict:
    """A new token for each operation: one may sign its token out or change the password."""
    if role not in seeded["users"]:
        return {}
    with Session(seeded["engine"]) as session:
        user = session.get(User, seeded["users"][role])
        token, _ = accounts.issue_api_token(session, user, now=datetime.now(UTC))
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def _strategy(operation, seeded):
    """Generated cases, and the same with path parameters taken from the seeded rows."""
    names = [p.name for p in operation.path_parameters]
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    options = [operation.as_strategy(generation_mode=mode) for mode in modes]
    if names == ["entry_id", "file_id"]:
        combos = [dict(zip(names, pair, strict=True)) for pair in seeded["files"]]
    else:
        combos = [dict(zip(names, values, strict=True)) for values in
                  itertools.product(*(seeded["path_parameters"][n] for n in names))]
    if names:
        options += [operation.as_strategy(path_parameters=combo) for combo in combos]
    return st.one_of(options)


def _explore(strategy, base: str, http: requests.Session, headers: dict) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case):
        case.call_and_validate(base_url=base, session=http, headers=headers, checks=CHECKS)

    check()


@pytest.mark.parametrize("role", ROLES)
def test_api_answers_match_the_schema(server, role):
    base, seeded = server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    http = requests.Session()
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        try:
            _explore(_strategy(operation, seeded), base, http, _headers(seeded, role))
        except (Exception, BaseExceptionGroup) as exc:  # every failing operation is reported
            failures.append(f"{operation.label}: {exc}")
    assert not failures, f"{len(failures)} operation(s) broke the schema as {role}:\n" + \
        "\n\n".join(failures)

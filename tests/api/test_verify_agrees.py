"""`giaibao verify-ranking` agrees with the API on generated rounds: for rounds of random
sizes, points, aggregations and missing scores, the published scores.csv recomputes to exactly
the ranking GET /rounds/{id}/ranking gives."""

import random
from datetime import UTC, datetime

import pytest

from app.judging import service as judging
from app.judging.models import RoundUpdate
from app.results import verify
from tests.factories import api_headers, make_judging, score_round


@pytest.mark.parametrize(("seed", "aggregation", "judges", "per_entry"), [
    (1, "mean", 3, 2), (2, "trimmed_mean", 6, 5), (3, "zscore", 4, 3), (4, "zscore", 5, 2),
    (5, "mean", 4, 4), (6, "trimmed_mean", 5, 5)])
def test_verify_ranking_agrees_with_the_api(client, session, seed, aggregation, judges,
                                            per_entry):
    rng = random.Random(seed)
    world = make_judging(session, entries=rng.randint(4, 9), judges=judges,
                         judges_per_entry=per_entry, start=False)
    now = datetime.now(UTC)
    judging.update_round(session, world.round, RoundUpdate(aggregation=aggregation),
                         actor=world.organizer, now=now)
    judging.move_round(session, world.round, "start", actor=world.organizer, now=now)
    skipped = world.entries[0].id  # its first judge leaves it unscored: incomplete
    seen = set()

    def points(entry, judge):
        if entry.id == skipped and not seen:
            seen.add(judge.id)
            return None
        # Coarse points, so that ties (and the criteria tie-break) happen.
        return (rng.choice([20, 30, 35, 40]), rng.choice([15, 22.5, 30]),
                rng.choice([10, 20.25, 30]))

    score_round(session, world.round, points, organizer=world.organizer)
    headers = api_headers(client, world.organizer)
    text = client.get(f"/api/v1/awards/{world.award.id}/scores.csv",
                      headers=headers).content.decode("utf-8")
    report = verify.verify_text(text)
    assert report.ok, verify.report_lines(report)
    ranking = client.get(f"/api/v1/rounds/{world.round.id}/ranking", params={"limit": 200},
                         headers=headers).json()
    assert len(ranking) == len(world.entries)
    assert [r["complete"] for r in ranking].count(False) == 1
    claimed = {}
    for line in text.lstrip("\ufeff").splitlines()[1:]:
        cells = line.split(",")
        claimed[cells[7]] = (cells[-2], cells[-1])
    for row in ranking:  # the file claims what the API answers
        rank, score = claimed[row["code"]]
        assert (int(rank) if rank else None, float(score) if score else None) == (
            row["rank"], row["score"]), row["code"]

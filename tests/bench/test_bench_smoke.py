"""Each benchmark runs to the end at a tiny size (figures printed, none judged), so that a
broken benchmark cannot pass unseen. They run at once (bench/lists.py after them, on its own: it drives wrk), each in a subprocess; on
PostgreSQL the five that use a database do so in a schema of their own, dropped at the end.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent.parent
TINY = {
    "upload.py": {"BENCH_MB": "2", "BENCH_ROUNDS": "2"},
    "mixed_load.py": {"BENCH_SECONDS": "2", "BENCH_UPLOAD_MB": "1", "BENCH_READERS": "2"},
    "export_memory.py": {"BENCH_ENTRIES": "200"},
    "mail.py": {"BENCH_JOURNALISTS": "2", "BENCH_ENTRIES_EACH": "2", "BENCH_SMTP_DELAY": "0.2",
                "BENCH_BACKLOG": "3", "BENCH_MAILS": "40"},
    "scoring.py": {"BENCH_SECONDS": "2", "BENCH_ENTRIES": "60", "BENCH_JUDGES": "6",
                   "BENCH_CATEGORIES": "2", "BENCH_CLIENTS": "4", "BENCH_ASSIGN_ENTRIES": "200",
                   "BENCH_ASSIGN_JUDGES": "6", "BENCH_ASSIGN_CATEGORIES": "2"},
    "ranking.py": {"BENCH_SIZES": "200,2000", "BENCH_CATEGORIES": "2", "BENCH_REPEAT": "2"},
    "national.py": {"BENCH_SECONDS": "4", "BENCH_ENTRIES": "48", "BENCH_JUDGES": "24",
                    "BENCH_JOURNALISTS": "12", "BENCH_USERS": "10", "BENCH_THINK": "0.2",
                    "BENCH_RAMP": "1", "BENCH_WORKERS": "1"},
}
TIMEOUT = 240


@pytest.fixture(scope="module")
def runs():
    """Starts the benchmarks together; each test waits for its own."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GIAIBAO_", "BENCH_"))}
    if TEST_DATABASE_URL.startswith("postgresql"):
        base["GIAIBAO_DATABASE_URL"] = TEST_DATABASE_URL
    procs = {name: subprocess.Popen([sys.executable, f"bench/{name}"], cwd=ROOT,
                                    env={**base, **extra}, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for name, extra in TINY.items()}
    results: dict = {}

    def result(name: str) -> str:
        if name not in results:
            proc = procs[name]
            try:
                out, err = proc.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            results[name] = (proc.returncode, out, err)
        code, out, err = results[name]
        assert code == 0, f"bench/{name} exited with {code}\n{out}\n{err[-3000:]}"
        return out

    yield result
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_upload_benchmark_runs_every_round(runs):
    out = runs("upload.py")
    assert out.splitlines()[0] == "upload of 2 MB, 2 rounds, median times"
    for label in ("bare streaming endpoint", "app API upload", "ratio app / bare",
                  "peak RSS growth, app", "peak RSS growth, bare", "app RSS now"):
        assert re.search(rf"^  {re.escape(label)} +: +\d", out, re.M), label


def test_mixed_load_benchmark_reads_beside_uploads_without_errors(runs):
    out = runs("mixed_load.py")
    assert re.match(r"reads by 2 threads for 2 s each on (SQLite|PostgreSQL); uploads of 1 MB "
                    r"by 2 thread\(s\)\n", out)
    for label in ("reads alone (baseline)", "reads beside uploads"):
        assert re.search(rf"^  {re.escape(label)} +: +\d+\.\d req/s", out, re.M), label
    uploaded = re.search(r"^  uploaded meanwhile +: +(\d+) MB", out, re.M)
    assert uploaded and int(uploaded.group(1)) >= 2
    assert re.search(r"^  errors +: 0 \[\]$", out, re.M)


def test_export_benchmark_exports_every_entry(runs):
    out = runs("export_memory.py")
    kind = "PostgreSQL" if TEST_DATABASE_URL.startswith("postgresql") else "SQLite"
    assert re.match(rf"CSV export of 200 entries \(\d+\.\d MB each\) on {kind}; ", out)
    for label in ("1 export", "4 concurrent exports"):
        assert re.search(rf"^  {label} +: RSS before +\d+\.\d MB  peak +\d+\.\d MB  after "
                         rf"+\d+\.\d MB  growth +-?\d+\.\d MB +\d+\.\d\d s per export", out,
                         re.M), label
    assert re.search(r"^  peak growth 4 / 1 +: +-?\d+\.\d\d$", out, re.M)


def test_mail_benchmark_compares_submissions_and_drains_the_outbox(runs):
    out = runs("mail.py")
    kind = "PostgreSQL" if TEST_DATABASE_URL.startswith("postgresql") else "SQLite"
    assert out.splitlines()[0] == (
        f"submissions by 2 journalists x 2 entries on {kind}; SMTP server taking 0.2 s per "
        "message; backlog of 3 mails")
    for label in ("no SMTP (baseline)", "slow SMTP"):
        assert re.search(rf"^  {re.escape(label)} +: p50 +\d+\.\d ms  p95 +\d+\.\d ms  max "
                         rf"+\d+\.\d ms  \(4 submits in \d+\.\d\d s\)$", out, re.M), label
    assert re.search(r"^  ratio p95 slow/none +: +\d+\.\d\d$", out, re.M)
    for label in ("mails, no SMTP", "mails, slow SMTP"):
        assert re.search(rf"^  {label} +: \d+ queued by the submissions; delivered meanwhile "
                         rf"\d+; outbox now: ", out, re.M), label
    assert re.search(r"^  delivered +: 40 \(40 distinct Message-IDs received\) in \d", out,
                     re.M)
    assert re.search(r"^  throughput +: +\d+\.\d mails/s$", out, re.M)


def test_scoring_benchmark_saves_scores_without_errors_and_times_assignment(runs):
    out = runs("scoring.py")
    kind = "PostgreSQL" if TEST_DATABASE_URL.startswith("postgresql") else "SQLite"
    assert re.match(rf"score saves by 4 judges for 2 s each on {kind}: 60 entries, 6 judges, "
                    r"3 per entry \(seeded in \d+\.\d s\)\n", out)
    for label in ("/healthz (baseline)", "score saves"):
        assert re.search(rf"^  {re.escape(label)} +: +\d+\.\d req/s  p50 +\d+\.\d ms  p95 "
                         rf"+\d+\.\d ms  p99 +\d+\.\d ms$", out, re.M), label
    assert re.search(r"^  ratio req/s saves/healthz: +\d+\.\d\d$", out, re.M)
    assert re.search(r"^  p95 of the saves +: +\d+\.\d ms \(target <= 50 ms\)$", out, re.M)
    saves = re.search(r"^  saves +: (\d+) \((\d+) final\)$", out, re.M)
    # How many fit in 2 s depends on the machine's load: at least one, none lost.
    assert saves and int(saves.group(1)) >= 1
    assert re.search(r"^  errors +: 0 \[\]$", out, re.M)
    assert "assignment of 200 entries to 6 judges in 2 categories, 3 per entry\n" in out
    assert re.search(r"^  rules.plan_assignment +: +\d+\.\d\d s for 600 assignments "
                     r"\(target <= 2 s\)$", out, re.M)
    assert re.search(r"^  service.assign_round +: +\d+\.\d\d s for 600 assignments, commit "
                     r"included \(target <= 2 s\)$", out, re.M)


def test_ranking_benchmark_times_both_sizes_with_the_same_statements(runs):
    out = runs("ranking.py")
    kind = "PostgreSQL" if TEST_DATABASE_URL.startswith("postgresql") else "SQLite"
    assert out.splitlines()[0] == (
        f"ranking of a closed round on {kind}: 5 judges x 5 criteria per entry, 2 categories, "
        "median of 2 calls (GET /api/v1/rounds/{id}/ranking?limit=50)")
    assert re.search(r"^  /healthz \(baseline\) +: +\d+\.\d ms$", out, re.M)
    statements = []
    for label in ("empty round (baseline)", "200 entries, first call",
                  "2000 entries, first call"):
        found = re.search(rf"^  {re.escape(label)} +: +\d+\.\d ms  (\d+) SQL statements", out,
                          re.M)
        assert found, label
        statements.append(int(found.group(1)))
    assert len(set(statements)) == 1, statements
    assert re.search(r"^  200 entries, first call .*\(1000 final scores seeded in \d+\.\d s\)$",
                     out, re.M)
    assert re.search(r"^  2000 entries, first call .*\(10000 final scores seeded in \d+\.\d "
                     r"s\)$", out, re.M)
    for size in (200, 2000):
        assert re.search(rf"^  {size} entries, again +: +\d+\.\d ms  \(a closed round's "
                         r"ranking is kept by the process\)$", out, re.M)
    assert re.search(r"^  ratio 2000 / 200 +: +\d+\.\d\d  \(first calls; entries x10; "
                     r"target <= 12 for x10\)$", out, re.M)
    assert re.search(r"^  ratio to /healthz +: +\d+\.\d \(200\), \d+\.\d \(2000\)$", out, re.M)


def test_lists_benchmark_measures_every_point_beside_the_bare_app():
    """bench/lists.py at a tiny size, on its own (it runs wrk, which CI installs: no skip
    when it is missing — the benchmark then fails)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GIAIBAO_", "BENCH_"))}
    if TEST_DATABASE_URL.startswith("postgresql"):
        base["GIAIBAO_DATABASE_URL"] = TEST_DATABASE_URL
    done = subprocess.run([sys.executable, "bench/lists.py"], cwd=ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT * 2,
                          env={**base, "BENCH_ENTRIES": "120", "BENCH_SECONDS": "1"})
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr[-3000:]}"
    out = done.stdout
    kind = "PostgreSQL" if TEST_DATABASE_URL.startswith("postgresql") else "SQLite"
    assert re.match(rf"entry lists on {kind}: 120 entries in one award \(\d+ listed, \d+ "
                    r"files, seeded in \d+\.\d s\); wrk 16 connections, 1 s per point\n", out)
    number = r" +\d+\.\d+"
    for label in ("/healthz vs /hello", "API page 1", "API status+category", "API search q",
                  "HTML page 1"):
        assert re.search(rf"^  {re.escape(label)} *:{number * 5} +\d+\.\d\d +0$", out,
                         re.M), label
    for label in ("API last page, cursor", "API last page, offset", "HTML last page, cursor"):
        assert re.search(rf"^  {re.escape(label)} *:{number * 5} +\d+\.\d\d +\d+\.\d\d +0$",
                         out, re.M), label
    for workers in ("1 worker", "2 workers"):
        assert re.search(rf"^  API page 1, {workers} *: +\d+\.\d req/s  p50 \d+\.\d ms$", out,
                         re.M), workers
    assert re.search(r"^  ratio 2 workers / 1 +: +\d+\.\d\d  \(target >= 1\.7\)$", out, re.M)

def test_national_benchmark_times_every_role_without_errors(runs):
    out = runs("national.py")
    kind = "PostgreSQL" if TEST_DATABASE_URL.startswith("postgresql") else "SQLite"
    assert re.match(rf"national scale on {kind}, 1 server process\(es\): 48 entries in 12 "
                    r"categories, 24 judges, 12 journalists \(seeded in \d+\.\d s\); 10 people "
                    r"for 4 s, think time 0.2 s on average\n", out)
    assert re.search(r"^  round 2: \d+ shortlisted entries, \d+ assignments$", out, re.M)
    # The first page of each role's journey (10 people: 4 journalists, 3 judges, 1
    # organizer, 2 of the public), after the sign-ins of the ramp-up; how far each goes in
    # 4 s depends on the machine's load.
    for page in ("GET /", "GET /me/entries", "GET /judge", "GET /admin/rounds/{round_id}/ranking",
                 "POST /login (ramp-up)", "POST /api/v1/auth/token (ramp-up)"):
        assert re.search(rf"^  {re.escape(page)} +\d+ +0 +\d+\.\d +\d+\.\d +\d+\.\d$",
                         out, re.M), page
    assert re.search(r"^  total: \d+ requests \(\d+\.\d req/s\), 0 errors$", out, re.M)
    assert re.search(r"^  load generator CPU: \d+\.\d s in \d+\.\d s \(\d+% of one core\)$",
                     out, re.M)

"""Every page of every role at national scale, under mixed load.

Run with ``make bench`` (or ``.venv/bin/python bench/national.py``), best with
GIAIBAO_DATABASE_URL naming a PostgreSQL database (a schema of its own is made in it and
dropped at the end; without it the run uses a SQLite file). Seeds (bench/dataset.py) the
national award with BENCH_ENTRIES entries (default 3,000) in 12 categories, BENCH_JUDGES
judges (default 100), two rounds (the first closed and shortlisted, the second scoring),
a few hundred journalists, next year's award open for entries and last year's published;
then starts ``giaibao serve --workers BENCH_WORKERS`` (default 2) and lets BENCH_USERS
simulated people (default 50) go through their journeys for BENCH_SECONDS (default 60),
each waiting BENCH_THINK seconds on average (default 2, uniform from 0 to twice that)
between two requests, as a person reading a page would:

  - journalists: sign in (page form), their entries, the new-entry form, create an entry,
    upload a file, submit it (pages with their CSRF tokens; one in three through the API
    with a bearer token instead);
  - judges: their rounds, the queue, an entry's scoring page, save a draft, finalise
    (pages; the API's score PUT now and then);
  - organizers: the entries list, the screening page of an entry waiting, accept or
    return it, the CSV and XLSX exports, the ranking, the calibration, the progress;
  - the public: the home page, an award's page, the results page, the results CSV.

Redirects are followed by hand, each request timed on its own. Prints, per page (its route
template, not the URL): requests, errors, p50, p95 and max; then the client's own CPU
time (the load generator shares the machine with the servers and the database). Targets:
0 errors, every page's p95 <= 200 ms. Exits with status 1 on any error.
"""

import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import CLI, free_port, run_bench, stop, wait_up  # noqa: E402
from bench.dataset import PASSWORD  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
USERS = int(os.environ.get("BENCH_USERS", "50"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "3000"))
JUDGES = int(os.environ.get("BENCH_JUDGES", "100"))
JOURNALISTS = int(os.environ.get("BENCH_JOURNALISTS", "300"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THINK = float(os.environ.get("BENCH_THINK", "2"))
RAMP = float(os.environ.get("BENCH_RAMP", str(USERS * 0.4)))
TARGET_MS = 200
# Of every 10 simulated people: 4 journalists, 3 judges, 1 organizer, 2 of the public.
MIX = ["journalist"] * 4 + ["judge"] * 3 + ["organizer"] + ["public"] * 2


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


class Forms(HTMLParser):
    """The forms of a page: action, method and fields (inputs, selects, textareas, the
    buttons' name/value pairs apart), as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": a.get("method", "get"),
                               "fields": {}, "buttons": [], "numbers": {}})
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "submit":
                form["buttons"].append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    form["fields"][name] = a.get("value", "on")
            elif kind != "file":
                form["fields"][name] = a.get("value") or ""
                if kind == "number" and "readonly" not in a:
                    form["numbers"][name] = float(a.get("max") or 10)
        elif tag == "button" and name:
            form["buttons"].append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            form["fields"][name] = ""
        elif tag == "select" and name:
            self._select = name
            form["fields"].setdefault(name, "")
        elif tag == "option" and self._select:
            if not form["fields"][self._select] and a.get("value"):
                form["fields"][self._select] = a["value"]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def form_to(html: str, action: str) -> dict:
    for form in forms_of(html):
        if form["action"].split("?")[0] == action:
            return form
    raise LookupError(f"no form to {action}")


class Stats:
    def __init__(self):
        self.ready = threading.Semaphore(0)  # one release per person signed in
        self.go = threading.Event()  # the timed window has begun
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.running = True

    def add(self, label: str, seconds: float, error: str | None) -> None:
        if not self.running:
            return
        if not self.go.is_set():
            label = f"{label} (ramp-up)"
        with self.lock:
            self.times[label].append(seconds)
            if error:
                self.errors[label].append(error)


class Person:
    """One simulated person: an HTTP client with its cookies, timing every request under
    its route template."""

    def __init__(self, base: str, stats: Stats, stop: threading.Event, rng: random.Random):
        self.client = httpx.Client(base_url=base, timeout=60, follow_redirects=False,
                                   headers={"Accept-Language": "vi"})
        self.base, self.stats, self.stop, self.rng = base, stats, stop, rng
        self.csrf = ""
        self.bearer: dict = {}
        self.number = 0  # the how-manieth person of its role

    def ready(self) -> None:
        """Signed in: waits for the timed window (the sign-ins, argon2 on purpose, are
        spread over the ramp-up as a morning's would be over an hour)."""
        self.stats.ready.release()
        self.stats.go.wait()

    def think(self) -> None:
        self.stop.wait(self.rng.uniform(0, 2 * THINK))
        if self.stop.is_set():
            raise StopIteration

    def call(self, label: str, method: str, url: str, *, expect=(200,), **kwargs):
        headers = kwargs.pop("headers", {})
        if method != "GET" and not url.startswith("/api/"):
            headers["Origin"] = self.base
        start = time.perf_counter()
        try:
            response = self.client.request(method, url, headers=headers, **kwargs)
            error = None if response.status_code in expect else \
                f"{method} {url}: {response.status_code} {response.text[:200]!r}"
        except httpx.HTTPError as err:
            response, error = None, f"{method} {url}: {err!r}"
        self.stats.add(f"{method} {label}", time.perf_counter() - start, error)
        if error:
            raise RuntimeError(error)
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.text) \
            if response.headers.get("content-type", "").startswith("text/html") else None
        if match:
            self.csrf = match.group(1)
        return response

    def page(self, label: str, url: str, **kwargs):
        self.think()
        return self.call(label, "GET", url, **kwargs)

    def post_form(self, label: str, url: str, fields: dict, *, expect=(303,)):
        """Posts a form, then (a browser's way) opens where it redirects, each timed."""
        self.think()
        response = self.call(label, "POST", url, data=fields, expect=expect)
        return response

    def follow(self, response, label: str):
        location = response.headers["location"]
        return self.call(label, "GET", location), location

    def sign_in(self, email: str) -> None:
        html = self.page("/login", "/login").text
        fields = form_to(html, "/login")["fields"]
        fields.update(email=email, password=PASSWORD)
        response = self.post_form("/login", "/login", fields)
        self.follow(response, _template(response.headers["location"]))

    def api_sign_in(self, email: str) -> None:
        self.think()
        response = self.call("/api/v1/auth/token", "POST", "/api/v1/auth/token",
                             data={"username": email, "password": PASSWORD})
        self.bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}


TEMPLATES = [
    (r"^/entries/\d+$", "/entries/{entry_id}"),
    (r"^/judge/rounds/\d+$", "/judge/rounds/{round_id}"),
    (r"^/judge/rounds/\d+/entries/\d+$", "/judge/rounds/{round_id}/entries/{entry_id}"),
    (r"^/admin/entries/\d+$", "/admin/entries/{entry_id}"),
    (r"^/admin/awards/\d+/entries$", "/admin/awards/{award_id}/entries"),
]


def _template(url: str) -> str:
    path = url.split("?")[0].split("#")[0]
    for pattern, template in TEMPLATES:
        if re.match(pattern, path):
            return template
    return path


def _pdf_bytes(rng: random.Random) -> bytes:
    from app.samples import pdf

    return pdf(f"Bai du thi {rng.getrandbits(48):x}")


def journalist(p: Person, email: str, world: dict) -> None:
    slug = world["open"]["slug"]
    award_id = world["open"]["id"]
    categories = [c for c, kinds in world["open"]["categories"] if "pdf" in kinds]
    use_api = p.number % 3 == 1  # one journalist in three (the first one on pages)
    if use_api:
        p.api_sign_in(email)
    else:
        p.sign_in(email)
    p.ready()
    while True:
        title = f"Phóng sự thử tải {p.rng.getrandbits(32):x}: Những người giữ đảo"
        if use_api:
            p.think()
            p.call("/api/v1/me/entries", "GET", "/api/v1/me/entries", headers=p.bearer)
            p.think()
            created = p.call("/api/v1/awards/{award_id}/entries", "POST",
                             f"/api/v1/awards/{award_id}/entries", expect=(201,),
                             headers=p.bearer, json={
                                 "category_id": p.rng.choice(categories), "title": title,
                                 "summary": "Ghi chép về đời sống quân và dân trên đảo.",
                                 "outlet": "Báo Quân đội nhân dân",
                                 "published_on": "2026-11-15"}).json()
            p.think()
            p.call("/api/v1/entries/{entry_id}/files", "POST",
                   f"/api/v1/entries/{created['id']}/files", expect=(201,), headers=p.bearer,
                   files={"file": ("bai-viet.pdf", _pdf_bytes(p.rng), "application/pdf")})
            p.think()
            p.call("/api/v1/entries/{entry_id}/submit", "POST",
                   f"/api/v1/entries/{created['id']}/submit", headers=p.bearer)
            p.think()
            p.call("/api/v1/entries/{entry_id}", "GET", f"/api/v1/entries/{created['id']}",
                   headers=p.bearer)
            continue
        if p.rng.random() < 0.1:  # signs out, later in again (argon2: slow on purpose)
            p.post_form("/logout", "/logout", {"csrf_token": p.csrf})
            p.sign_in(email)
        p.page("/me/entries", "/me/entries")
        html = p.page("/awards/{slug}/entries/new", f"/awards/{slug}/entries/new").text
        fields = form_to(html, f"/awards/{slug}/entries/new")["fields"]
        fields.update(category_id=str(p.rng.choice(categories)), title=title,
                      summary="Ghi chép về đời sống quân và dân trên đảo.",
                      outlet="Báo Quân đội nhân dân", published_on="2026-11-15")
        response = p.post_form("/awards/{slug}/entries/new", f"/awards/{slug}/entries/new",
                               fields)
        _page, url = p.follow(response, "/entries/{entry_id}")
        entry_path = url.split("?")[0]
        p.think()
        response = p.call("/entries/{entry_id}/files", "POST", f"{entry_path}/files",
                          expect=(303,), headers={"Origin": p.base},
                          files=[("csrf_token", (None, p.csrf)),
                                 ("file", ("bai-viet.pdf", _pdf_bytes(p.rng),
                                           "application/pdf"))])
        p.follow(response, "/entries/{entry_id}")
        response = p.post_form("/entries/{entry_id}/submit", f"{entry_path}/submit",
                               {"csrf_token": p.csrf})
        p.follow(response, "/entries/{entry_id}")


def judge(p: Person, email: str, world: dict) -> None:
    round_id = world["national"]["round2"]
    p.sign_in(email)
    p.api_sign_in(email)
    p.ready()
    while True:
        p.page("/judge", "/judge")
        html = p.page("/judge/rounds/{round_id}", f"/judge/rounds/{round_id}").text
        links = sorted(set(re.findall(rf'href="/judge/rounds/{round_id}/entries/(\d+)"', html)))
        for entry_id in p.rng.sample(links, min(3, len(links))):
            url = f"/judge/rounds/{round_id}/entries/{entry_id}"
            html = p.page("/judge/rounds/{round_id}/entries/{entry_id}", url).text
            try:
                form = form_to(html, url)
            except LookupError:
                continue
            if not form["numbers"]:
                continue  # final already: the page shows the score read-only
            fields = dict(form["fields"])
            for name, top in form["numbers"].items():
                fields[name] = str(round(p.rng.uniform(top / 2, top), 1))
            fields["comment"] = "Tác phẩm có chiều sâu, tư liệu phong phú."
            if p.rng.random() < 0.25:  # the API, as a script would
                p.think()
                points = {name.removeprefix("points."): float(v)
                          for name, v in fields.items() if name in form["numbers"]}
                p.call("/api/v1/rounds/{round_id}/entries/{entry_id}/score", "PUT",
                       f"/api/v1/rounds/{round_id}/entries/{entry_id}/score",
                       headers=p.bearer, json={"points": points, "final": False})
            else:
                response = p.post_form("/judge/rounds/{round_id}/entries/{entry_id}", url,
                                       {**fields, "action": "draft"})
                p.follow(response, "/judge/rounds/{round_id}/entries/{entry_id}")
            if p.rng.random() < 0.5:
                response = p.post_form("/judge/rounds/{round_id}/entries/{entry_id}", url,
                                       {**fields, "action": "final"})
                p.follow(response, "/judge/rounds/{round_id}/entries/{entry_id}")


def organizer(p: Person, email: str, world: dict) -> None:
    national, upcoming = world["national"], world["open"]
    p.sign_in(email)
    p.api_sign_in(email)
    p.ready()
    while True:
        p.page("/admin/rounds/{round_id}/ranking", f"/admin/rounds/{national['round1']}/ranking")
        p.page("/api/v1/rounds/{round_id}/ranking",
               f"/api/v1/rounds/{national['round1']}/ranking?limit=50", headers=p.bearer)
        p.page("/admin/rounds/{round_id}/calibration",
               f"/admin/rounds/{national['round1']}/calibration")
        p.page("/admin/rounds/{round_id}/progress",
               f"/admin/rounds/{national['round2']}/progress")
        p.page("/api/v1/rounds/{round_id}/progress",
               f"/api/v1/rounds/{national['round2']}/progress", headers=p.bearer)
        p.page("/admin/awards/{award_id}/entries", f"/admin/awards/{national['id']}/entries")
        html = p.page("/admin/awards/{award_id}/entries",
                      f"/admin/awards/{upcoming['id']}/entries?status=submitted").text
        waiting = re.findall(r'href="/admin/entries/(\d+)"', html)
        if waiting:
            entry_id = p.rng.choice(waiting)
            p.page("/admin/entries/{entry_id}", f"/admin/entries/{entry_id}")
            decision = p.rng.choice(["accept", "accept", "return"])
            fields = {"csrf_token": p.csrf, "decision": decision, "then": "next",
                      "reason": "Đề nghị bổ sung bản gốc có chữ ký của tác giả."
                      if decision == "return" else ""}
            response = p.post_form("/admin/entries/{entry_id}/screen",
                                   f"/admin/entries/{entry_id}/screen", fields)
            p.follow(response, _template(response.headers["location"]))
        p.page("/api/v1/awards/{award_id}/entries.csv",
               f"/api/v1/awards/{national['id']}/entries.csv", headers=p.bearer)
        p.page("/admin/awards/{award_id}/entries.xlsx",
               f"/admin/awards/{national['id']}/entries.xlsx")


def public(p: Person, _email: str, world: dict) -> None:
    past, national = world["published"]["slug"], world["national"]["slug"]
    p.ready()
    while True:
        p.page("/", "/")
        p.page("/awards/{slug}", f"/awards/{p.rng.choice([past, national])}")
        p.page("/awards/{slug}/results", f"/awards/{past}/results")
        if p.rng.random() < 0.3:
            p.page("/awards/{slug}/results.csv", f"/awards/{past}/results.csv")


JOURNEYS = {"journalist": journalist, "judge": judge, "organizer": organizer, "public": public}


def person(n: int, base: str, world: dict, stats: Stats, stop: threading.Event) -> None:
    role = MIX[n % len(MIX)]
    rng = random.Random(n)
    email = {"journalist": lambda: world["journalists"][n % len(world["journalists"])],
             "judge": lambda: world["judges"][n % len(world["judges"])],
             "organizer": lambda: world["organizer"], "public": lambda: ""}[role]()
    p = Person(base, stats, stop, rng)
    p.number = n // len(MIX) * MIX.count(role) + MIX[:n % len(MIX)].count(role)
    stop.wait(rng.uniform(0, RAMP))  # not everybody at the same instant
    try:
        JOURNEYS[role](p, email, world)
    except StopIteration:
        pass
    except RuntimeError:
        p.stats.ready.release()  # counted as an error already; this person stops
    finally:
        p.client.close()


def start_servers(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--workers", str(WORKERS),
                               "--no-migrate"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{base}/healthz")
    except RuntimeError:
        stop(server)
        raise
    return server, base


def main() -> None:
    run_bench("giaibao-national-", "bench_national", run)


def run(work: Path, database_url: str) -> None:
    env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url,
           "GIAIBAO_UPLOAD_DIR": str(work / "uploads"), "GIAIBAO_ENV": "dev",
           "GIAIBAO_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000"}
    env.pop("GIAIBAO_SMTP_HOST", None)
    for key in ("GIAIBAO_DATABASE_URL", "GIAIBAO_UPLOAD_DIR", "GIAIBAO_ENV"):
        os.environ[key] = env[key]
    os.environ.pop("GIAIBAO_SMTP_HOST", None)
    subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    from app.security import hash_password
    from bench.dataset import seed_national

    start = time.perf_counter()
    world = seed_national(database_url, entries=ENTRIES, judges=JUDGES,
                          journalists=JOURNALISTS, password_hash=hash_password(PASSWORD))
    seeded = time.perf_counter() - start
    if database_url.startswith("postgresql"):
        from sqlalchemy import text

        from app.db import make_engine
        engine = make_engine(database_url)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        engine.dispose()
    server, base = start_servers(env)
    stats = Stats()
    halt = threading.Event()
    try:
        people = [threading.Thread(target=person, args=(n, base, world, stats, halt))
                  for n in range(USERS)]
        for t in people:
            t.start()
        for _ in people:  # the ramp-up: everybody signs in, untimed
            stats.ready.acquire()
        stats.go.set()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        time.sleep(SECONDS)
        stats.running = False
        halt.set()
        for t in people:
            t.join()
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
    finally:
        stop(server)
    report(stats, database_url, world, seeded, wall, cpu)


def report(stats: Stats, database_url: str, world: dict, seeded: float, wall: float,
           cpu: float) -> None:
    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    total = sum(len(v) for v in stats.times.values())
    errors = [e for v in stats.errors.values() for e in v]
    print(f"national scale on {kind}, {WORKERS} server process(es): {ENTRIES} entries in 12 "
          f"categories, {JUDGES} judges, {JOURNALISTS} journalists (seeded in {seeded:.1f} s); "
          f"{USERS} people for {SECONDS:g} s, think time {THINK:g} s on average")
    print(f"  round 2: {world['shortlisted']} shortlisted entries, "
          f"{world['assignments_round2']} assignments")
    width = max([len(label) for label in stats.times] + [10])
    print(f"  {'page':<{width}}  {'requests':>8}  {'errors':>6}  {'p50 ms':>7}  "
          f"{'p95 ms':>7}  {'max ms':>7}")
    slow = []
    labels = sorted(stats.times, key=lambda k: ("(ramp-up)" in k, k.split(" ", 1)[1] + k))
    for label in labels:
        times = stats.times[label]
        p95 = percentile(times, 0.95) * 1000
        if p95 > TARGET_MS and "(ramp-up)" not in label:
            slow.append(label)
        print(f"  {label:<{width}}  {len(times):>8}  {len(stats.errors[label]):>6}  "
              f"{statistics.median(times) * 1000:>7.1f}  {p95:>7.1f}  "
              f"{max(times) * 1000:>7.1f}")
    print(f"  total: {total} requests ({total / wall:.1f} req/s), {len(errors)} errors")
    print(f"  pages over the {TARGET_MS} ms p95 target: {len(slow)} {slow}")
    print(f"  load generator CPU: {cpu:.1f} s in {wall:.1f} s "
          f"({100 * cpu / wall:.0f}% of one core)")
    if errors:
        print("  first errors:")
        for e in errors[:5]:
            print(f"    {e}")
        raise SystemExit("some requests failed: the figures above are not to be trusted")


if __name__ == "__main__":
    main()

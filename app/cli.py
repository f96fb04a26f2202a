"""The ``giaibao`` command: serve, worker, migrate, create-user, demo, export-results,
verify-ranking, backup, restore."""

import argparse
import logging
import sys
import threading
from pathlib import Path

from app.config import get_settings

ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)


def migrate(database_url: str | None = None) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    command.upgrade(config, "head")
    analyze_database(database_url)


def analyze_database(database_url: str | None = None) -> None:
    """ANALYZE on PostgreSQL (app.db.analyze): after migrating and after any bulk load."""
    from app.db import analyze, get_engine, make_engine

    if database_url:
        engine = make_engine(database_url)
        try:
            analyze(engine)
        finally:
            engine.dispose()
    else:
        analyze(get_engine())


def sweep_uploads() -> list[str]:
    """Deletes what crashes left in the storage: ``.part`` files no running process is
    writing (an object store: multipart uploads that stopped receiving parts), and finished
    files no row points at (see ``LocalStorage.sweep`` and ``S3Storage.sweep``)."""
    from sqlmodel import Session

    from app.db import get_read_engine
    from app.entries.files import referenced_files
    from app.storage import get_storage

    with Session(get_read_engine()) as session:  # never takes SQLite's write lock
        referenced = referenced_files(session)
    return get_storage().sweep(referenced)


def start_periodic_sweep(interval_seconds: float) -> threading.Event:
    """Runs ``sweep_uploads`` every ``interval_seconds`` in a daemon thread until the
    returned event is set. A failing sweep is logged and tried again next time."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval_seconds):
            try:
                removed = sweep_uploads()
            except Exception:
                log.exception("the periodic upload sweep failed")
                continue
            if removed:
                log.warning("removed %d orphan upload(s): %s", len(removed), ", ".join(removed))

    threading.Thread(target=run, name="upload-sweep", daemon=True).start()
    return stop


def sweep_login_counters() -> int:
    """Deletes failed-login counters idle for longer than the throttling window."""
    from sqlmodel import Session

    from app.accounts.service import sweep_login_counters as sweep
    from app.db import get_engine, utcnow

    with Session(get_engine()) as session:
        removed = sweep(session, now=utcnow())
        session.commit()
    return removed


def _serve(args) -> None:
    import uvicorn

    if not args.no_migrate:
        migrate()
    removed = sweep_uploads()
    if removed:
        print(f"Removed {len(removed)} orphan upload(s) left by an earlier run.")
    minutes = get_settings().upload_sweep_minutes
    if minutes > 0:
        start_periodic_sweep(minutes * 60)
    sweep_login_counters()
    sender = start_mail_sender()
    try:
        # Several worker processes share the port; every state they share lives in the
        # database and the storage, so any of them may answer any request.
        uvicorn.run("app.main:app", host=args.host, port=args.port, proxy_headers=True,
                    reload=args.reload, workers=None if args.reload else args.workers)
    finally:
        if sender is not None:
            sender.stop()
            sender.thread.join(get_settings().smtp_timeout_seconds + 5)


def start_mail_sender():
    """The mail sender in a daemon thread of this process, when ``GIAIBAO_MAIL_WORKER`` is
    on and an SMTP server is configured; otherwise mails stay queued in the outbox."""
    settings = get_settings()
    if not settings.mail_worker:
        return None
    if not settings.smtp_configured:
        print("No SMTP server configured (GIAIBAO_SMTP_HOST): mails are kept in the outbox "
              "(/admin/outbox) and not sent.")
        return None
    from app.mail.worker import start_in_thread

    return start_in_thread(settings)


def _worker(args) -> None:
    import asyncio
    import signal

    from app.mail.worker import Sender

    settings = get_settings()
    if not settings.smtp_configured:
        print("No SMTP server configured: set GIAIBAO_SMTP_HOST.", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sender = Sender(settings=settings)
    if args.once:
        report = asyncio.run(sender.deliver_due())
        print(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")
        return

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, sender.stop)
        print(f"Mail sender {sender.worker_id} running (SIGTERM or Ctrl-C stops it).")
        await sender.run()

    asyncio.run(run())


def _create_user(args) -> None:
    from sqlmodel import Session

    from app.accounts import service
    from app.accounts.models import UserCreate
    from app.db import get_engine
    from app.errors import DomainError
    from app.i18n import gettext

    with Session(get_engine()) as session:
        try:
            user = service.create_user(
                session,
                UserCreate(email=args.email, password=args.password, full_name=args.name,
                           role=args.role),
                actor=None,
            )
        except DomainError as err:
            print(err.translated(gettext), file=sys.stderr)
            sys.exit(2)
        session.commit()
        print(f"{user.role} {user.email} (id {user.id})")


def _demo(args) -> None:
    from app.demo import load_demo

    from app.demo import ACCOUNTS, DEMO_PASSWORD

    created = load_demo(only_if_empty=args.if_empty)
    if created:
        analyze_database()
    if created is None:
        print("The database already holds data; the demo was not loaded again.")
        print("Demo accounts, if this database holds the demo (password for all: "
              f"{DEMO_PASSWORD}):")
    else:
        print(f"Demo awards loaded: /awards/{created['award']} (open for entries), "
              f"/awards/{created['judging_award']} (in judging, its preliminary round "
              "scoring: sign in as a judge to score) and "
              f"/awards/{created['published_award']}/results (published).")
        print(f"Accounts (password for all: {DEMO_PASSWORD}):")
    for role, email, *_ in ACCOUNTS:
        print(f"  {role:<11} {email}")


def _verify_ranking(args) -> None:
    """Exit 0 when every ranking in the file is the one its scores give, 1 when one is not,
    2 when the file cannot be read as scores.csv."""
    from app.results import verify

    try:
        report = verify.verify_file(args.file)
    except verify.UnreadableScores as err:
        print(str(err), file=sys.stderr)
        sys.exit(2)
    print("\n".join(verify.report_lines(report)))
    sys.exit(0 if report.ok else 1)


def _export_results(args) -> None:
    from sqlmodel import Session, select

    from app.awards.models import Award
    from app.db import get_read_engine
    from app.i18n import gettext
    from app.results import exports

    with Session(get_read_engine()) as session:
        award = session.exec(select(Award).where(Award.slug == args.slug)).first()
        if award is None:
            print(gettext("No such award."), file=sys.stderr)
            sys.exit(2)
        export = exports.results_file(session, award, args.format)
    output = Path(args.output or export.filename)
    try:
        output.write_bytes(export.content)
    except OSError as err:
        print(f"{output}: {err.strerror or err}", file=sys.stderr)
        sys.exit(2)
    print(f"{output} ({len(export.content)} bytes)")


def _backup(args) -> None:
    from app.backup import create_backup
    from app.errors import DomainError
    from app.i18n import gettext

    try:
        summary = create_backup(args.path)
    except DomainError as err:  # refused, or the storage cannot be read
        print(err.translated(gettext), file=sys.stderr)
        sys.exit(2)
    except OSError as err:
        print(f"{args.path}: {err.strerror or err}", file=sys.stderr)
        sys.exit(2)
    print(f"{summary.path}: {sum(summary.rows.values())} rows in {len(summary.rows)} tables, "
          f"{summary.files} files ({summary.file_bytes} bytes), schema {summary.revision}, "
          f"from {summary.dialect}.")
    for key in summary.skipped:
        print(f"  not in the archive (no longer in the storage): {key}")


def _restore(args) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from app.backup import restore_backup
    from app.errors import DomainError
    from app.i18n import gettext

    migrate()  # the schema, if the database has none yet
    try:
        summary = restore_backup(args.path)
    except DomainError as err:  # refused, or the storage cannot be written (undone)
        print(err.translated(gettext), file=sys.stderr)
        sys.exit(2)
    except SQLAlchemyError as err:  # the database refused a row: everything was undone
        print(f"The database refused the restore; nothing was restored: {err}", file=sys.stderr)
        sys.exit(1)
    analyze_database()  # statistics of the restored rows, not of the empty tables
    print(f"Restored {args.path} (schema {summary.revision}, made on {summary.dialect}): "
          f"{summary.files} files ({summary.file_bytes} bytes), "
          f"{sum(summary.rows.values())} rows:")
    for name, count in summary.rows.items():
        if count:
            print(f"  {name:<16} {count}")


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="giaibao", description="Giải báo chí portal")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--reload", action="store_true")
    serve.add_argument("--workers", type=_positive, default=1, metavar="N",
                       help="server processes sharing the port (default 1)")
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate first")
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="deliver the outbox by SMTP until stopped")
    worker.add_argument("--once", action="store_true", help="send what is due, then exit")
    worker.set_defaults(func=_worker)

    mig = sub.add_parser("migrate", help="upgrade the database to the newest schema")
    mig.set_defaults(func=lambda args: migrate())

    sw = sub.add_parser("sweep-uploads", help="delete stored files that no entry points at")
    sw.set_defaults(func=lambda args: print(f"Removed {len(sweep_uploads())} orphan file(s)."))

    cu = sub.add_parser("create-user", help="create an account with a role")
    cu.add_argument("--email", required=True)
    cu.add_argument("--password", required=True)
    cu.add_argument("--name", required=True)
    cu.add_argument("--role", default="journalist", choices=["journalist", "judge", "organizer"])
    cu.set_defaults(func=_create_user)

    demo = sub.add_parser("demo", help="load the demo award (Ninh Thuận 2021)")
    demo.add_argument("--if-empty", action="store_true", help="only into an empty database")
    demo.set_defaults(func=_demo)

    ex = sub.add_parser("export-results", help="write an award's results as CSV, XLSX or PDF")
    ex.add_argument("slug", metavar="AWARD_SLUG")
    ex.add_argument("--format", choices=["csv", "xlsx", "pdf"], default="csv")
    ex.add_argument("--output", metavar="PATH", help="default: ket-qua-<slug>.<format>")
    ex.set_defaults(func=_export_results)

    vr = sub.add_parser("verify-ranking",
                        help="recompute the rankings of a scores.csv and compare them")
    vr.add_argument("file", metavar="scores.csv")
    vr.set_defaults(func=_verify_ranking)

    bk = sub.add_parser("backup", help="write the database and the stored files to one archive")
    bk.add_argument("path", metavar="PATH", help="a new .tar (or .tar.gz) file")
    bk.set_defaults(func=_backup)

    rs = sub.add_parser("restore", help="rebuild an empty installation from a backup archive")
    rs.add_argument("path", metavar="PATH")
    rs.set_defaults(func=_restore)

    args = parser.parse_args(argv)
    if args.func is _verify_ranking:  # reads a file only: no settings, no database
        args.func(args)
        return
    get_settings()
    args.func(args)


if __name__ == "__main__":
    main()

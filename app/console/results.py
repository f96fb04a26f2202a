"""The organizer's results console: a round's ranking and its judges' calibration, the
shortlist, the prize allocation with each entry's decision, and publishing.

Thin pages over app.results (the same service and query functions as the API): a form is
read into the API's schemas, a refusal shows the page again with the message where it
belongs, a success redirects (post/redirect/get).
"""

import math
from collections import defaultdict
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlmodel import select

from app.accounts import service as accounts
from app.accounts.models import User
from app.awards.models import Category
from app.awards import service as awards
from app.awards.rules import AwardStatus
from app.deps import (
    FormDep,
    Id,
    Now,
    Offset,
    OptionalId,
    PageOrganizer,
    SessionDep,
    page_csrf,
)
from app.errors import N_, DomainError, Invalid, NotFound
from app.i18n import format_number, gettext
from app.judging import queries as judging
from app.judging.models import Round
from app.judging.rules import AGGREGATION_LABELS, ROUND_STATUS_LABELS, RoundStatus
from app.results import queries, rules, service
from app.results.models import AllocateIn, PrizeIn, ShortlistIn
from app.text import parse_int
from app.web import form_error, redirect, render, templates

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)

NO_PRIZE = ""  # the level select's value for "no prize"


# --- Numbers -------------------------------------------------------------------------------

def format_signed(value: float | None, digits: int = 2) -> str:
    """An offset with its sign: +4,50, −3,00, 0,00."""
    if value is None:
        return "—"
    rounded = round(value, digits) + 0.0
    text = format_number(abs(rounded), digits)
    return f"+{text}" if rounded > 0 else (f"−{text}" if rounded < 0 else text)


templates.env.filters["points"] = format_number
templates.env.filters["signed_points"] = format_signed


def parse_number(raw) -> float | None:
    """A number typed in a form, with a decimal comma or point; None when it is not one."""
    text = str(raw or "").strip().replace(" ", "").replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# --- Shared --------------------------------------------------------------------------------

def _round_and_award(session, round_id: int, organizer: User):
    round_ = judging.get_round(session, round_id, viewer=organizer)
    return round_, awards.get_award(session, round_.award_id, viewer=organizer)


def _status(err) -> int:
    return err.status_code if isinstance(err, DomainError) else 422


def _round_categories(session, award, ranking: dict) -> list:
    """The award's categories that have entries in the round, in the award's order."""
    return [c for c in awards.list_categories(session, award) if c.id in ranking]


# --- Ranking and shortlist -----------------------------------------------------------------

def _later_rounds(session, round_: Round) -> list[Round]:
    return list(session.exec(select(Round).where(Round.source_round_id == round_.id)
                             .order_by(Round.id)).all())


# The all-categories view shows each category's top; one category's view is paged.
TOP_PER_CATEGORY = 20
RANKING_PAGE = 100


def _ranking_page(request, session, round_: Round, award, *, category_id: int | None = None,
                  offset: int = 0, status_code: int = 200, **extra):
    size = TOP_PER_CATEGORY if category_id is None else RANKING_PAGE
    offset = 0 if category_id is None else max(0, offset)
    if category_id is not None:
        category = session.get(Category, category_id)
        if category is None or category.award_id != award.id:
            raise NotFound(N_("No such category."))
    sections = queries.ranking_sections(session, round_, category_id=category_id,
                                        offset=offset, limit=size)
    total = sections.totals.get(category_id, 0) if category_id is not None else 0
    if offset and offset >= total:  # past the end (an old address): its last page
        offset = max(0, (total - 1) // size * size)
        sections = queries.ranking_sections(session, round_, category_id=category_id,
                                            offset=offset, limit=size)
    categories = _round_categories(session, award, sections.totals)
    shown = [c for c in categories if category_id is None or c.id == category_id]
    context = {
        "award": award, "round": round_, "categories": categories, "shown": shown,
        "rows": sections.rows, "totals": sections.totals, "category_id": category_id,
        "offset": offset, "page_size": size,
        "closed": round_.status == RoundStatus.closed,
        "shortlisted": sections.shortlisted,
        "later": _later_rounds(session, round_),
        "far_any": sections.far_any,
        "criteria": [c.name for c in judging.criteria_of(session, round_.id)],
        "AGGREGATION": AGGREGATION_LABELS, "ROUND_STATUS": ROUND_STATUS_LABELS,
        "params": request.query_params, "shortlist_form": {"mode": "top"},
    }
    context.update(extra)
    return render(request, "console/results/ranking.html", context, status_code=status_code)


@router.get("/admin/rounds/{round_id}/ranking")
def ranking_page(round_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer,
                 category_id: OptionalId = None, offset: Offset = 0):
    round_, award = _round_and_award(session, round_id, organizer)
    return _ranking_page(request, session, round_, award, category_id=category_id,
                         offset=offset)


def _shortlist_in(form: dict) -> ShortlistIn:
    """The shortlist form as the API's schema: top N per category, or a minimum score."""
    category_id = None
    if form["category_id"]:
        category_id = parse_int(form["category_id"])
        if category_id is None or category_id < 1:
            raise Invalid(N_("Choose a category of the round."), field="category_id")
    if form["mode"] == "score":
        value = parse_number(form["min_score"])
        if value is None:
            raise Invalid(N_("Enter the minimum score as a number, e.g. 75.5."),
                          field="min_score")
        rules.check_shortlist_rule(None, value)
        return ShortlistIn(min_score=value, category_id=category_id)
    top_n = parse_int(form["top_n"])
    if top_n is None:
        raise Invalid(N_("Enter how many entries of each category go on, e.g. 10."),
                      field="top_n")
    rules.check_shortlist_rule(top_n, None)
    return ShortlistIn(top_n=top_n, category_id=category_id)


@router.post("/admin/rounds/{round_id}/shortlist")
def shortlist(round_id: Id, request: Request, form_data: FormDep, session: SessionDep,
              organizer: PageOrganizer, now: Now):
    round_, _award = _round_and_award(session, round_id, organizer)
    form = {name: str(form_data.get(name) or "").strip()
            for name in ("mode", "top_n", "min_score", "category_id")}
    form["mode"] = "score" if form["mode"] == "score" else "top"
    try:
        result = service.shortlist(session, round_, _shortlist_in(form), actor=organizer,
                                   now=now)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        round_, award = _round_and_award(session, round_id, organizer)
        return _ranking_page(request, session, round_, award, status_code=_status(err),
                             shortlist_error=message, errors=errors, shortlist_form=form)
    return redirect(f"/admin/rounds/{round_id}/ranking?done=shortlisted"
                    f"&n={result.shortlisted}#shortlist")


# --- Calibration ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    """One judge's offset drawn around the zero line (SVG user units)."""
    judge: str
    offset: float | None
    x: float
    width: float
    y: float
    label_x: float
    anchor: str


CHART_WIDTH, CHART_LEFT, CHART_RIGHT, ROW = 640, 60, 90, 30


def offset_bars(judges) -> tuple[list[Bar], float, float, float]:
    """The bars of the calibration chart, the zero line's x, the half-width of the scale in
    points, and the chart's height: lenient judges to the right, severe to the left."""
    span = max([abs(j.offset) for j in judges if j.offset is not None] + [1.0])
    span = math.ceil(span)
    zero = CHART_LEFT + (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / 2
    half = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / 2
    bars = []
    for i, j in enumerate(judges):
        y = 10 + i * ROW
        if j.offset is None:
            bars.append(Bar(j.judge, None, zero, 0, y, zero + 6, "start"))
            continue
        length = abs(j.offset) / span * half
        if j.offset >= 0:
            bars.append(Bar(j.judge, j.offset, zero, length, y, zero + length + 6, "start"))
        else:
            bars.append(Bar(j.judge, j.offset, zero - length, length, y, zero - length - 6,
                            "end"))
    return bars, zero, span, 10 + len(judges) * ROW + 24


@router.get("/admin/rounds/{round_id}/calibration")
def calibration_page(round_id: Id, request: Request, session: SessionDep,
                     organizer: PageOrganizer):
    round_, award = _round_and_award(session, round_id, organizer)
    result, judge_names = queries.calibration(session, round_)
    by_pseudonym = {name: judge_id for judge_id, name in judge_names.items()}
    full = accounts.full_names(session, by_pseudonym.values())
    names = {name: full[judge_id] for name, judge_id in by_pseudonym.items()}
    bars, zero, span, height = offset_bars(result.judges)
    return render(request, "console/results/calibration.html", {
        "award": award, "round": round_, "calibration": result, "names": names,
        "bars": bars, "zero": zero, "span": span, "height": height,
        "chart_width": CHART_WIDTH, "half": (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / 2,
        "ROUND_STATUS": ROUND_STATUS_LABELS})


# --- Prizes --------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuotaUse:
    level: str
    used: int
    quota: int

    @property
    def vacant(self) -> int:
        return max(self.quota - self.used, 0)


def _prize_sections(session, award) -> list[dict]:
    """Per category (the award's order): its decisions by rank and its quota usage."""
    rows = queries.prize_rows(session, award)
    by_category: dict[int, list] = defaultdict(list)
    for row in rows:
        by_category[row.category_id].append(row)
    sections = []
    for category in awards.list_categories(session, award):
        decisions = by_category.get(category.id, [])
        quota = category.prize_quota or {}
        sections.append({
            "category": category, "rows": decisions,
            "usage": [QuotaUse(level, sum(1 for r in decisions if r.level == level),
                               int(quota.get(level, 0))) for level in rules.CATEGORY_LEVELS]})
    return sections


def _prizes_page(request, session, award, *, status_code: int = 200, **extra):
    allocation = queries.allocation_of(session, award.id)
    sections = _prize_sections(session, award)
    special_used = sum(1 for s in sections for r in s["rows"] if r.level == rules.SPECIAL)
    published = award.status == AwardStatus.published
    context = {
        "award": award, "allocation": allocation,
        "allocation_round": session.get(Round, allocation.round_id) if allocation else None,
        "sections": sections, "rounds": queries.closed_rounds(session, award.id),
        "special": QuotaUse(rules.SPECIAL, special_used, award.special_prize_quota),
        "published": published, "may_allocate": award.status == AwardStatus.judging,
        "levels": [level for level in rules.LEVELS
                   if level != rules.SPECIAL or award.special_prize_quota > 0],
        "LEVELS": rules.LEVELS, "LEVEL_LABELS": rules.LEVEL_LABELS,
        "params": request.query_params, "allocate_form": {}, "prize_errors": {},
        "prize_forms": {},
    }
    if allocation is not None and not context["allocate_form"]:
        context["allocate_form"] = {
            "round_id": str(allocation.round_id),
            **{f"min_{level}": format_number(value)
               for level, value in (allocation.min_score or {}).items()}}
    context.update(extra)
    return render(request, "console/results/prizes.html", context, status_code=status_code)


@router.get("/admin/awards/{award_id}/prizes")
def prizes_page(award_id: Id, request: Request, session: SessionDep,
                organizer: PageOrganizer):
    award = awards.get_award(session, award_id, viewer=organizer)
    return _prizes_page(request, session, award)


def _allocate_in(form: dict) -> AllocateIn:
    round_id = parse_int(form["round_id"])
    if round_id is None or round_id < 1:
        raise Invalid(N_("Choose a closed round to allocate from."), field="round_id")
    min_score = {}
    for level in rules.LEVELS:
        raw = form[f"min_{level}"]
        if not raw:
            continue
        value = parse_number(raw)
        if value is None or value < 0:
            raise Invalid(N_("The minimum score for a level must be a number from 0."),
                          field=f"min_{level}")
        min_score[level] = value
    return AllocateIn(round_id=round_id, min_score=min_score)


@router.post("/admin/awards/{award_id}/prizes/allocate")
def allocate(award_id: Id, request: Request, form_data: FormDep, session: SessionDep,
             organizer: PageOrganizer, now: Now):
    award = awards.get_award(session, award_id, viewer=organizer)
    form = {name: str(form_data.get(name) or "").strip()
            for name in ("round_id", *(f"min_{level}" for level in rules.LEVELS))}
    try:
        service.allocate(session, award, _allocate_in(form), actor=organizer, now=now)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        award = awards.get_award(session, award_id, viewer=organizer)
        return _prizes_page(request, session, award, status_code=_status(err),
                            allocate_error=message, errors=errors, allocate_form=form)
    return redirect(f"/admin/awards/{award_id}/prizes?done=allocated")


@router.post("/admin/entries/{entry_id}/prize")
def set_prize(entry_id: Id, request: Request, form_data: FormDep, session: SessionDep,
              organizer: PageOrganizer, now: Now):
    entry = service.get_prize_entry(session, entry_id)
    award = awards.get_award(session, entry.award_id, viewer=organizer)
    level = str(form_data.get("level") or "").strip()
    reason = str(form_data.get("reason") or "")
    try:
        seen = ({"expected_level": str(form_data.get("expected_level") or "") or None}
                if "expected_level" in form_data else {})  # the level the page showed
        data = PrizeIn(level=level or None, reason=reason or None, **seen)
        service.set_prize(session, entry, data, actor=organizer, now=now)
    except (DomainError, ValidationError) as err:
        message, errors = form_error(session, err)
        award = awards.get_award(session, award.id, viewer=organizer)
        return _prizes_page(request, session, award, status_code=_status(err),
                            prize_errors={entry_id: {"message": message, "fields": errors}},
                            prize_forms={entry_id: {"level": level, "reason": reason}})
    return redirect(f"/admin/awards/{award.id}/prizes?done=prize#entry-{entry_id}")


# --- Publishing ----------------------------------------------------------------------------

def _publish_page(request, session, award, *, status_code: int = 200, error=None,
                  reason: str = ""):
    blocker = None
    if award.status == AwardStatus.judging and error is None:
        try:
            service.check_publishable(session, award)
        except DomainError as err:
            blocker = err.translated(gettext)
    elif award.status not in (AwardStatus.judging, AwardStatus.published):
        blocker = gettext(N_("The results can be published once the award is in judging."))
    prizes = queries.prizes_of(session, award.id)
    return render(request, "console/results/publish.html", {
        "award": award, "error": error, "blocker": blocker, "reason": reason,
        "awarded": sum(1 for p in prizes if p.level is not None),
        "authors": len(service.outcome_recipients(session, award)),
        "unranked": service.unranked_codes(session, award),
    }, status_code=status_code)


@router.get("/admin/awards/{award_id}/publish")
def confirm_publish(award_id: Id, request: Request, session: SessionDep,
                    organizer: PageOrganizer):
    """The confirmation (a page of its own, so that it works without JavaScript)."""
    award = awards.get_award(session, award_id, viewer=organizer)
    if award.status == AwardStatus.published:
        return redirect(f"/admin/awards/{award_id}/prizes")
    return _publish_page(request, session, award)


@router.post("/admin/awards/{award_id}/publish")
def publish(award_id: Id, request: Request, form_data: FormDep, session: SessionDep,
            organizer: PageOrganizer, now: Now):
    award = awards.get_award(session, award_id, viewer=organizer)
    reason = str(form_data.get("reason") or "")
    try:
        awards.change_status(session, award, AwardStatus.published, actor=organizer,
                             reason=reason.strip() or None, now=now)
    except DomainError as err:
        message, _ = form_error(session, err)
        award = awards.get_award(session, award_id, viewer=organizer)
        if award.status == AwardStatus.published:  # a second click: the first one did it
            return redirect(f"/admin/awards/{award_id}/prizes?done=published")
        return _publish_page(request, session, award, status_code=err.status_code,
                             error=message, reason=reason)
    return redirect(f"/admin/awards/{award_id}/prizes?done=published")

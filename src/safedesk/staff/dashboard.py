"""The owners' dashboard: conversations per day, how replies were decided, review accuracy, topics
that reach people and recurring incorrect answers. Charts are SVG drawn here (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from safedesk.domain import Role, Topic
from safedesk.staff.accounts import as_utc, utcnow
from safedesk.staff.inbox import queue_counts
from safedesk.staff.review import RecurringAnswer, ReviewStats, recurring_incorrect, review_stats
from safedesk.storage.models import Conversation, Message

LANE_LABELS = {
    "answer": "Answered by AI",
    "human": "Handed to a person",
    "verify": "Identity verification",
    "refuse": "Refused",
}
PERIODS = (7, 30, 90)


def topic_label(topic: str | None) -> str:
    if not topic:
        return "(none)"
    try:
        return Topic(topic).value.replace("_", " ").capitalize()
    except ValueError:
        return topic


@dataclass(frozen=True, slots=True)
class Dashboard:
    days: int
    since: datetime
    per_day: list[tuple[date, int]]
    conversations: int
    lanes: list[tuple[str, int]]  # (lane, count of replies) in LANE_LABELS order
    replies: int
    review: ReviewStats
    topics_to_people: list[tuple[str, int]]
    recurring: list[RecurringAnswer]
    open_tasks: dict[str, int]

    def share(self, count: int) -> str:
        return f"{100 * count / self.replies:.0f}%" if self.replies else "–"


def collect(
    session: Session, *, days: int = 30, timezone: str = "UTC", disclosure: str = "", now: datetime | None = None
) -> Dashboard:
    """The dashboard's figures. `disclosure`: the AI disclosure a conversation's first reply starts with,
    left out when equal answers are grouped."""
    zone = ZoneInfo(timezone)
    now = now or utcnow()
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, tzinfo=zone).astimezone(UTC)

    per_day = dict.fromkeys((first_day + timedelta(days=i) for i in range(days)), 0)
    # Count per UTC hour in SQL (at most 24 x days groups), then put each hour on its local day.
    hour = _hour_bucket(session)
    for bucket, count in session.execute(
        select(hour, func.count()).where(Conversation.created_at >= since).group_by(hour)
    ):
        started = _parse_hour(bucket)
        if started is None:
            continue
        day = started.astimezone(zone).date()
        if day in per_day:
            per_day[day] += int(count)

    # The pipeline's reply to each customer message carries the lane the policy chose.
    question = aliased(Message)
    lane_counts = dict.fromkeys(LANE_LABELS, 0)
    for lane, count in session.execute(
        select(Message.lane, func.count())
        .join(question, question.id == Message.reply_to)
        .where(
            Message.role == Role.ASSISTANT.value,
            Message.status == "delivered",
            question.role == Role.CUSTOMER.value,
            Message.created_at >= since,
        )
        .group_by(Message.lane)
    ):
        if lane in lane_counts:
            lane_counts[lane] = int(count)

    topics = [
        (topic_label(topic), int(count))
        for topic, count in session.execute(
            select(Message.topic, func.count())
            .where(Message.role == Role.CUSTOMER.value, Message.lane == "human", Message.created_at >= since)
            .group_by(Message.topic)
            .order_by(func.count().desc())
            .limit(8)
        )
    ]
    return Dashboard(
        days=days,
        since=since,
        per_day=list(per_day.items()),
        conversations=sum(per_day.values()),
        lanes=list(lane_counts.items()),
        replies=sum(lane_counts.values()),
        review=review_stats(session, since),
        topics_to_people=topics,
        recurring=recurring_incorrect(session, since=since, disclosure=disclosure),
        open_tasks=queue_counts(session),
    )


def _hour_bucket(session: Session) -> Any:
    """The UTC hour a conversation started, as an SQL expression (SQLite or PostgreSQL)."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H:00:00", Conversation.created_at)
    return func.date_trunc("hour", Conversation.created_at)


def _parse_hour(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError:
        return None


# ---- SVG --------------------------------------------------------------------------------------


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def column_chart(points: list[tuple[date, int]], *, title: str, width: int = 1000, height: int = 240) -> Markup:
    """Columns per day with a y axis (0, half, max) and a date label every few days."""
    left, right, top, bottom = 44, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((v for _, v in points), default=0))
    n = max(1, len(points))
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.75)
    label_every = max(1, round(n / 10))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = top + plot_h - fraction * plot_h
        value = round(peak * fraction)
        parts.append(f'<line class="chart-grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    for i, (day, value) in enumerate(points):
        x = left + i * slot + (slot - bar_w) / 2
        h = 0 if peak == 0 else plot_h * value / peak
        y = top + plot_h - h
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
            f"<title>{escape(day.isoformat())}: {value}</title></rect>"
        )
        if (n - 1 - i) % label_every == 0:  # counted from the newest day, so today is always labelled
            parts.append(
                f'<text class="chart-axis" x="{x + bar_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                f"{escape(day.strftime('%d %b'))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def bar_list(items: list[tuple[str, int]], *, title: str, width: int = 560, css: str = "chart-bar") -> Markup:
    """Horizontal bars with a label, the count and the share of the total."""
    row_h, label_w, value_w = 26, 190, 90
    total = sum(v for _, v in items)
    peak = max((v for _, v in items), default=0)
    height = max(row_h, row_h * len(items)) + 4
    bar_space = width - label_w - value_w
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if not items:
        parts.append('<text class="chart-axis" x="0" y="18">No data yet</text></svg>')
        return Markup("".join(parts))  # noqa: S704 - constant text
    for i, (label, value) in enumerate(items):
        y = i * row_h + 4
        w = 0 if peak == 0 else bar_space * value / peak
        share = f"{100 * value / total:.0f}%" if total else "0%"
        parts.append(f'<text class="chart-label" x="0" y="{y + 16}">{escape(label)}</text>')
        parts.append(
            f'<rect class="{escape(css)}" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}">'
            f"<title>{escape(label)}: {value} ({share})</title></rect>"
        )
        parts.append(
            f'<text class="chart-value" x="{label_w + w + 6:.1f}" y="{y + 16}">{value} · {escape(share)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def charts(dashboard: Dashboard) -> dict[str, Markup]:
    return {
        "per_day": column_chart(dashboard.per_day, title=f"Conversations per day, last {dashboard.days} days"),
        "lanes": bar_list(
            [(LANE_LABELS[lane], count) for lane, count in dashboard.lanes], title="How replies were decided"
        ),
        "topics": bar_list(dashboard.topics_to_people, title="Topics that reached a person", css="chart-bar alt"),
        "review": bar_list(
            [
                ("Correct", dashboard.review.correct),
                ("Incorrect", dashboard.review.incorrect),
                ("Unsafe", dashboard.review.unsafe),
            ],
            title="Review verdicts",
            css="chart-bar review",
        ),
    }

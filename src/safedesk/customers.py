"""Customer records from a business's customers.csv, for identity verification and verified lookups.

Records are NEVER given to a model. The desk uses them for two things only: to find the record a
customer names (by email, order number or phone), so a one-time code can be sent to the contact
ON FILE; and, once the customer is verified, for narrow read-only lookups (see
`safedesk.verification.ALLOWED_LOOKUP_FIELDS`).

customers.csv: `id,name,email,phone,order_id,order_status,delivery_date`. A customer with several
orders has one row per order (same id, same contact details). Lookups normalise their keys: emails
lower-cased, order numbers without punctuation and upper-cased ("no 240518" finds "NO-240518"),
phone numbers to E.164 (numbers without a country code are read in the business's first region).
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers

from safedesk.errors import ConfigError

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("id", "email", "phone")
_EMAIL_SHAPE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_FIELD_SHAPE = re.compile(r"^[\w .,:/()+#'-]*$")  # order status / date: plain text only


def normalize_email(value: str) -> str:
    return value.strip().lower()


def normalize_order_id(value: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", value.upper())


def normalize_phone(value: str, regions: Iterable[str] = ("US",)) -> str | None:
    """E.164 form of a phone number, or None when it is not a valid number in any of `regions`."""
    value = value.strip()
    if not value:
        return None
    candidates = [None] if value.startswith("+") else [r.upper() for r in regions]
    for region in candidates:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    order_status: str
    delivery_date: str  # ISO date, or "" when not known


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """One customer. Contact details are kept out of repr() so they never land in a log line."""

    id: str
    name: str = field(repr=False)
    email: str = field(repr=False)  # normalised; "" when none on file
    phone: str = field(repr=False)  # E.164; "" when none on file
    orders: tuple[Order, ...] = ()

    def order(self, order_id: str) -> Order | None:
        key = normalize_order_id(order_id)
        return next((o for o in self.orders if normalize_order_id(o.order_id) == key), None)


class CustomerDirectory:
    """Read-only lookups over customer records by normalised email, order number or phone.

    An email or phone shared by several customer ids is ambiguous: lookups by it find nobody (the
    desk must never send one person's code to another), and loading logs a warning.
    """

    def __init__(self, records: Iterable[CustomerRecord] = (), regions: Iterable[str] = ("US",)) -> None:
        self.regions = tuple(regions) or ("US",)
        self._by_id: dict[str, CustomerRecord] = {}
        self._by_email: dict[str, set[str]] = {}
        self._by_phone: dict[str, set[str]] = {}
        self._by_order: dict[str, str] = {}
        for record in records:
            if record.id in self._by_id:
                raise ValueError(f"customer {record.id!r} given twice")
            self._by_id[record.id] = record
            if record.email:
                self._by_email.setdefault(record.email, set()).add(record.id)
            if record.phone:
                self._by_phone.setdefault(record.phone, set()).add(record.id)
            for order in record.orders:
                key = normalize_order_id(order.order_id)
                other = self._by_order.setdefault(key, record.id)
                if other != record.id:
                    raise ValueError(f"order {order.order_id!r} belongs to two customers ({other}, {record.id})")
        shared = sum(1 for ids in (*self._by_email.values(), *self._by_phone.values()) if len(ids) > 1)
        if shared:
            log.warning(
                "%d email addresses or phone numbers are shared by several customers; "
                "they cannot be used to identify anyone",
                shared,
            )

    # ---- loading --------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | str, regions: Iterable[str] = ("US",)) -> CustomerDirectory:
        """Read customers.csv. A missing file is an empty directory; a malformed one is a ConfigError."""
        path = Path(path)
        regions = tuple(regions) or ("US",)
        if not path.is_file():
            return cls((), regions)
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(_read_rows(path, handle, regions))
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
        except csv.Error as exc:
            raise ConfigError(f"{path}: not valid CSV: {exc}") from None
        merged: dict[str, CustomerRecord] = {}
        for line, record in rows:
            known = merged.get(record.id)
            if known is None:
                merged[record.id] = record
                continue
            if (known.name, known.email, known.phone) != (record.name, record.email, record.phone):
                raise ConfigError(
                    f"{path} line {line}: customer {record.id} has different contact details than on an earlier line"
                )
            merged[record.id] = CustomerRecord(
                known.id, known.name, known.email, known.phone, known.orders + record.orders
            )
        try:
            return cls(merged.values(), regions)
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    # ---- lookups --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[CustomerRecord]:
        return iter(self._by_id.values())

    def get(self, customer_id: str | None) -> CustomerRecord | None:
        return self._by_id.get(customer_id) if customer_id else None

    def by_email(self, email: str) -> CustomerRecord | None:
        return self._unique(self._by_email.get(normalize_email(email)))

    def by_phone(self, phone: str) -> CustomerRecord | None:
        e164 = normalize_phone(phone, self.regions)
        return self._unique(self._by_phone.get(e164)) if e164 else None

    def by_order(self, order_id: str) -> CustomerRecord | None:
        customer_id = self._by_order.get(normalize_order_id(order_id))
        return self._by_id.get(customer_id) if customer_id else None

    def has_order_key(self, normalized: str) -> bool:
        return normalized in self._by_order

    def _unique(self, ids: set[str] | None) -> CustomerRecord | None:
        if not ids or len(ids) != 1:
            return None
        return self._by_id[next(iter(ids))]


def _read_rows(path: Path, handle: Iterable[str], regions: tuple[str, ...]) -> Iterator[tuple[int, CustomerRecord]]:
    reader = csv.DictReader(handle)
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ConfigError(
            f"{path}: missing column(s) {', '.join(missing)} "
            "(expected id,name,email,phone,order_id,order_status,delivery_date)"
        )
    reader.fieldnames = columns
    for row in reader:
        line = reader.line_num

        def get(key: str, row: dict[str, str | None] = row) -> str:
            return (row.get(key) or "").strip()

        customer_id = get("id")
        if not customer_id:
            raise ConfigError(f"{path} line {line}: a customer needs an id")
        email = normalize_email(get("email"))
        if email and not _EMAIL_SHAPE.match(email):
            raise ConfigError(f"{path} line {line}: {customer_id}: the email address is not valid")
        raw_phone = get("phone")
        phone = normalize_phone(raw_phone, regions) if raw_phone else ""
        if phone is None:
            raise ConfigError(
                f"{path} line {line}: {customer_id}: the phone number is not valid "
                f"(give it with a country code, e.g. +47 ..., or set business.regions)"
            )
        orders: tuple[Order, ...] = ()
        if get("order_id"):
            status, date = get("order_status"), get("delivery_date")
            for name, value in (("order_status", status), ("delivery_date", date), ("order_id", get("order_id"))):
                if not _FIELD_SHAPE.match(value) or len(value) > 100:
                    raise ConfigError(f"{path} line {line}: {customer_id}: {name} must be short plain text")
            orders = (Order(get("order_id"), status, date),)
        yield line, CustomerRecord(customer_id, get("name"), email, phone, orders)

"""Asterisk CDR files in their real layouts, generated from a seeded random source (tests, bench).

Layouts: cdr_csv's Master.csv (16 columns; `uniqueid` and `userfield` appended only with
`loguniqueid`/`loguserfield`), cdr_sqlite3_custom's default `cdr` table (`calldate`,
`source`/`destination`, no answer or end column) and a cdr_adaptive_odbc-style `cdr` table
with the standard column names.
"""

from __future__ import annotations

import csv
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

EXTENSIONS = ("150", "151", "152", "160", "162", "170")
TRUNK = "SIP/mts-trunk"
_TIME = "%Y-%m-%d %H:%M:%S"
# The call_status each disposition is expected to give.
STATUS = {
    "ANSWERED": "answered",
    "NO ANSWER": "no_answer",
    "BUSY": "busy",
    "FAILED": "failed",
    "CONGESTION": "failed",
}


@dataclass(frozen=True)
class Cdr:
    """One record, with the standard CDR column names."""

    src: str
    dst: str
    dcontext: str
    clid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    duration: int
    billsec: int
    disposition: str
    uniqueid: str
    userfield: str = ""
    accountcode: str = ""
    amaflags: str = "DOCUMENTATION"

    @property
    def answer(self) -> str:
        if self.disposition != "ANSWERED":
            return ""
        return (self.start + timedelta(seconds=self.duration - self.billsec)).strftime(_TIME)

    @property
    def end(self) -> str:
        return (self.start + timedelta(seconds=self.duration)).strftime(_TIME)


@dataclass(frozen=True)
class Totals:
    calls: int
    answered: int
    billsec: int
    duration: int


def generate(count: int, *, seed: int, first: datetime) -> list[Cdr]:
    """`count` calls from `first` on, incoming, outgoing and internal, every disposition."""
    rng = random.Random(seed)
    records = []
    at = first
    for index in range(count):
        at += timedelta(seconds=rng.randint(5, 90))
        records.append(_record(rng, index, at))
    return records


def _record(rng: random.Random, index: int, at: datetime) -> Cdr:
    kind = rng.choices(("incoming", "outgoing", "internal"), weights=(6, 3, 1))[0]
    disposition = rng.choices(
        ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"), weights=(70, 15, 8, 4, 3)
    )[0]
    ring = rng.randint(0, 30)
    billsec = rng.randint(0, 600) if disposition == "ANSWERED" else 0
    duration = ring + billsec
    ext = rng.choice(EXTENSIONS)
    external = f"8916{rng.randint(1000000, 9999999)}"
    seq = f"{index:08x}"
    uniqueid = f"{int(at.timestamp())}.{index}"
    if kind == "incoming":
        channel, dstchannel, src, dst = f"{TRUNK}-{seq}", f"SIP/{ext}-{seq}", external, ext
        context = "from-trunk"
    elif kind == "outgoing":
        channel, dstchannel, src, dst = f"SIP/{ext}-{seq}", f"{TRUNK}-{seq}", ext, external
        context = "from-internal"
    else:
        other = rng.choice([e for e in EXTENSIONS if e != ext])
        channel, dstchannel, src, dst = f"SIP/{ext}-{seq}", f"SIP/{other}-{seq}", ext, other
        context = "from-internal"
    if disposition in ("FAILED", "CONGESTION"):
        dstchannel = ""
    return Cdr(
        src=src,
        dst=dst,
        dcontext=context,
        clid=f'"{src}" <{src}>',
        channel=channel,
        dstchannel=dstchannel,
        lastapp="Dial",
        lastdata=f"SIP/{dst},30,tT",
        start=at,
        duration=duration,
        billsec=billsec,
        disposition=disposition,
        uniqueid=uniqueid,
        userfield=rng.choice(("", "vip", "callback")),
    )


def totals(records: list[Cdr]) -> Totals:
    answered = [r for r in records if r.disposition == "ANSWERED"]
    return Totals(
        calls=len(records),
        answered=len(answered),
        billsec=sum(r.billsec for r in answered),
        duration=sum(r.duration for r in records),
    )


def csv_fields(record: Cdr, *, uniqueid: bool, userfield: bool) -> list[str | int]:
    """One Master.csv line's fields, in cdr_csv's order."""
    fields: list[str | int] = [
        record.accountcode,
        record.src,
        record.dst,
        record.dcontext,
        record.clid,
        record.channel,
        record.dstchannel,
        record.lastapp,
        record.lastdata,
        record.start.strftime(_TIME),
        record.answer,
        record.end,
        record.duration,
        record.billsec,
        record.disposition,
        record.amaflags,
    ]
    if uniqueid:
        fields.append(record.uniqueid)
    if userfield:
        fields.append(record.userfield)
    return fields


def write_master_csv(
    path: Path, records: list[Cdr], *, uniqueid: bool = False, userfield: bool = False
) -> None:
    """cdr_csv quotes every text field and leaves the numbers bare."""
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        for record in records:
            writer.writerow(csv_fields(record, uniqueid=uniqueid, userfield=userfield))


SQLITE3_CUSTOM_COLUMNS = (
    "calldate",
    "clid",
    "source",
    "destination",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "userfield",
)


def write_sqlite3_custom(path: Path, records: list[Cdr]) -> None:
    """cdr_sqlite3_custom's table: `AcctId INTEGER PRIMARY KEY` and the configured columns."""
    conn = sqlite3.connect(path)
    with conn:
        columns = ", ".join(f"{c} TEXT" for c in SQLITE3_CUSTOM_COLUMNS)
        conn.execute(f"CREATE TABLE IF NOT EXISTS cdr (AcctId INTEGER PRIMARY KEY, {columns})")
        marks = ", ".join("?" for _ in SQLITE3_CUSTOM_COLUMNS)
        conn.executemany(
            f"INSERT INTO cdr ({', '.join(SQLITE3_CUSTOM_COLUMNS)}) VALUES ({marks})",
            [
                (
                    r.start.strftime(_TIME),
                    r.clid,
                    r.src,
                    r.dst,
                    r.dcontext,
                    r.channel,
                    r.dstchannel,
                    r.lastapp,
                    r.lastdata,
                    r.duration,
                    r.billsec,
                    r.disposition,
                    r.amaflags,
                    r.accountcode,
                    r.uniqueid,
                    r.userfield,
                )
                for r in records
            ],
        )
    conn.close()


def write_adaptive_odbc(path: Path, records: list[Cdr]) -> None:
    """A cdr_adaptive_odbc-style table: the standard names, `start`/`answer`/`end` included."""
    names = (
        "accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start,"
        ' answer, "end", duration, billsec, disposition, amaflags, uniqueid, userfield'
    )
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f"CREATE TABLE cdr ({names})")
        conn.executemany(
            f"INSERT INTO cdr ({names}) VALUES ({', '.join('?' * 18)})",
            [tuple(csv_fields(r, uniqueid=True, userfield=True)) for r in records],
        )
    conn.close()

"""The backup's values by column type: every column of the app has a codec, and each kind of
value comes back identical through JSON (no database)."""

import enum
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.backup import _codecs, decode_row, encode_row, tables
from app.db import UTCDateTime


class Level(enum.Enum):
    A = "giải A"
    KK = "khuyến khích"


metadata = sa.MetaData()
SAMPLE = sa.Table(
    "sample", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("big", sa.BigInteger),
    sa.Column("at", UTCDateTime),
    sa.Column("naive", sa.DateTime),
    sa.Column("offset", sa.DateTime(timezone=True)),
    sa.Column("day", sa.Date),
    sa.Column("doc", sa.JSON),
    sa.Column("raw", sa.LargeBinary),
    sa.Column("level", sa.Enum(Level)),
    sa.Column("plain_enum", sa.Enum("draft", "open", name="status")),
    sa.Column("money", sa.Numeric(12, 2)),
    sa.Column("ratio", sa.Float),
    sa.Column("flag", sa.Boolean),
    sa.Column("name", sa.String(50)),
    sa.Column("text", sa.Text),
    sa.Column("ident", sa.Uuid),
)

VALUES = {
    "id": 2_147_483_647,
    "big": 9_007_199_254_740_993,
    "at": datetime(2026, 11, 29, 4, 36, 47, 123456, tzinfo=UTC),
    "naive": datetime(2021, 10, 31, 23, 59, 59, 999999),
    "offset": datetime(2026, 1, 1, 7, 0, tzinfo=timezone(timedelta(hours=7))),
    "day": date(2020, 11, 1),
    "doc": {"A": 1, "KK": [4, 0.5, None, True], "tên": "Khánh Hòa"},
    "raw": bytes(range(256)),
    "level": Level.KK,
    "plain_enum": "open",
    "money": Decimal("1234567890.10"),
    "ratio": 0.1 + 0.2,
    "flag": False,
    "name": "Nguyễn Thị Thanh Hương",
    "text": "dòng 1\ndòng 2 \u202e",
    "ident": uuid.UUID("12345678-1234-5678-1234-567812345678"),
}


def test_every_kind_of_value_comes_back_identical_through_json():
    codecs = _codecs(SAMPLE)
    line = json.dumps(encode_row(codecs, [VALUES[c.name] for c in SAMPLE.columns]),
                      ensure_ascii=False, allow_nan=False)
    back = decode_row(codecs, json.loads(line))
    assert back == VALUES
    assert [type(back[k]) for k in VALUES] == [type(v) for v in VALUES.values()]
    assert back["at"].utcoffset() == timedelta(0)
    assert back["offset"].utcoffset() == timedelta(hours=7)
    assert back["naive"].tzinfo is None


def test_nulls_stay_null():
    codecs = _codecs(SAMPLE)
    row = encode_row(codecs, [None] * len(SAMPLE.columns))
    assert decode_row(codecs, json.loads(json.dumps(row))) == dict.fromkeys(VALUES)


def test_every_column_of_the_app_has_a_codec():
    assert sum(len(_codecs(t)) for t in tables()) == sum(len(t.columns) for t in tables())


def test_an_unknown_column_type_is_refused():
    table = sa.Table("odd", sa.MetaData(), sa.Column("span", sa.Interval))
    with pytest.raises(TypeError, match=r"no backup codec for odd\.span"):
        _codecs(table)

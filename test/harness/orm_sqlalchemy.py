# Run by test/harness/orm.sh: SQLAlchemy (Debian python3-sqlalchemy 1.4) reflects and maps
# segments.members, segments.overview and one segment_members view as a segments_reader login, the
# way docs/bi.md#orms shows, and reads rows. Views have no primary key in the catalog: the natural
# key is declared. A reader may not select the personal columns, so only the readable ones are
# reflected. Any SQLAlchemy warning (e.g. a type it cannot map) is an error.
import sys
import warnings
from decimal import Decimal

from sqlalchemy import Column, MetaData, Table, Text, create_engine, func, select, text
from sqlalchemy.ext.automap import automap_base
from sqlalchemy.orm import Session

warnings.simplefilter("error")
url, segment, expected_members = sys.argv[1], sys.argv[2], int(sys.argv[3])
engine = create_engine(url, future=True)

def readable_columns(conn, rel):
    return [r[0] for r in conn.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:rel AS regclass) AND attnum > 0"
        " AND NOT attisdropped AND has_column_privilege(attrelid, attnum, 'SELECT') ORDER BY attnum"),
        {"rel": rel})]

metadata = MetaData()
with engine.connect() as conn:
    assert conn.execute(text("SELECT pg_has_role('segments_reader', 'MEMBER')")).scalar(), "not a reader"
    assert not conn.execute(text("SELECT pg_has_role('segments_pii', 'MEMBER')")).scalar(), "must not be pii"
    view_rel = 'segment_members."%s"' % segment.replace('"', '""')
    view_cols = readable_columns(conn, view_rel)
    Table("members", metadata, Column("segment", Text, primary_key=True),
          Column("customer_id", Text, primary_key=True), schema="segments", autoload_with=conn)
    Table("overview", metadata, Column("segment", Text, primary_key=True), schema="segments", autoload_with=conn)
    Table(segment, metadata, Column("customer_id", Text, primary_key=True), schema="segment_members",
          autoload_with=conn, include_columns=view_cols)

Base = automap_base(metadata=metadata)
Base.prepare()
Member, Overview, SegmentMember = Base.classes.members, Base.classes.overview, Base.classes[segment]

with Session(engine) as s:
    n = s.scalar(select(func.count()).select_from(Member).where(Member.segment == segment))
    assert n == expected_members, f"members: ORM counted {n}, SQL {expected_members}"
    first = s.scalars(select(Member).where(Member.segment == segment).order_by(Member.customer_id).limit(3)).all()
    assert len(first) == min(3, n)
    ov = s.get(Overview, segment)
    assert ov is not None and ov.customers == n and isinstance(ov.owner, str), (ov and ov.owner)
    assert isinstance(ov.revenue, Decimal)
    rows = s.scalars(select(SegmentMember).order_by(SegmentMember.revenue.desc())).all()
    assert len(rows) == n, f"member view: {len(rows)} rows, expected {n}"
    one = s.get(SegmentMember, first[0].customer_id)  # lookup by the declared natural key
    assert one is not None and one.customer_id == first[0].customer_id
    assert "email" not in view_cols and "revenue" in view_cols
    print(f"ok - SQLAlchemy {__import__('sqlalchemy').__version__} as a reader: mapped segments.members,"
          f" segments.overview and segment_members.\"{segment}\" ({len(view_cols)} readable columns),"
          f" {n} members read, overview.owner = {ov.owner!r} (str), lookup by customer_id works")

#!/usr/bin/env bash
# ORMs read segments through the reader role (docs/bi.md#orms): SQLAlchemy (Debian) and Sequelize
# (npm) each reflect and map segments.members, segments.overview and a segment_members view with
# their natural keys as a login that has segments_reader only, and read the rows
# (test/harness/orm_sqlalchemy.py, test/harness/orm_node/sequelize.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/lib/pg.sh
trap pgs_stop EXIT
pgs_setup
pgs_start "shared_preload_libraries = 'pg_segments'" "pg_segments.scheduler_enabled = off"
pgs_demo_shop orm_shop 3000 300 11
pgs_psql -c "SELECT segments.create_segment('Repeat buyers', rule => 'orders >= 2')" \
  -c "CREATE ROLE orm_reader LOGIN IN ROLE segments_reader" >/dev/null
members=$(pgs_psql -At -c "SELECT count(*) FROM segments.membership m JOIN segments.segments s ON s.id = m.segment_id WHERE s.name = 'Repeat buyers'")
[ "$members" -gt 0 ] || fail "the test segment is empty"
# Debian's interpreter: the python3-sqlalchemy and python3-psycopg2 packages are installed for it.
/usr/bin/python3 test/harness/orm_sqlalchemy.py \
  "postgresql+psycopg2://orm_reader@/orm_shop?host=$PGS_SOCK&port=$PGS_PORT" 'Repeat buyers' "$members" \
  || fail "SQLAlchemy as a reader"
bash scripts/npm-ci test/harness/orm_node > /dev/null
node test/harness/orm_node/sequelize.mjs "$PGS_SOCK" "$PGS_PORT" orm_shop orm_reader 'Repeat buyers' "$members" \
  || fail "Sequelize as a reader"

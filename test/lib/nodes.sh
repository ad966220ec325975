# Extra clusters beside a harness's main server (pg.sh), in the same install tree: e.g. the shards of
# test/harness/shards.sh. Each node NAME lives in $PGS_ROOT/node-NAME and listens on its own port,
# on the Unix socket directory $PGS_SOCK only. Source after pg.sh (and after pgs_setup).

# pgs_node_start NAME PORT [conf lines...]: a fresh cluster (what pgs_start does for the main one).
pgs_node_start() {
  local name=$1 port=$2
  shift 2
  (PGS_DATA=$PGS_ROOT/node-$name PGS_PORT=$port; pgs_start "$@")
}
# pgs_node_ctl NAME start|stop|...: pg_ctl on an existing node.
pgs_node_ctl() {
  local name=$1
  shift
  (PGS_DATA=$PGS_ROOT/node-$name; pgs_ctl "$@")
}
pgs_node_stop() { (PGS_DATA=$PGS_ROOT/node-$1; pgs_stop_quiet); }
# pgs_node_psql PORT [psql args...]
pgs_node_psql() {
  local port=$1
  shift
  PGPORT=$port pgs_psql "$@"
}

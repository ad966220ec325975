// Shared by the data loaders: one query against the shop database as the dashboard's login.
// Connection from the standard libpq variables (PGHOST may be a Unix-socket directory, PGPORT,
// PGDATABASE, PGUSER, PGPASSWORD): bi/build sets them; the login needs segments_reader (docs/bi.md#the-login).
import pg from "pg";

// numeric and bigint arrive as strings by default; the charts want numbers.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export async function rows(sql) {
  const client = new pg.Client({application_name: "pg_segments dashboard build"});
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

export async function emit(sql) {
  process.stdout.write(JSON.stringify(await rows(sql)));
}

// Run by test/harness/orm.sh: Sequelize (npm, with pg) reflects segments.members, segments.overview
// and one segment_members view (describeTable), maps them as models with their natural keys declared
// (views have none in the catalog), as a segments_reader login, and reads rows. A reader may not
// select the personal columns, so the model of the member view has only the readable ones.
import fs from "node:fs";
import {DataTypes, QueryTypes, Sequelize} from "sequelize";

const [host, port, database, user, segment, expectedArg] = process.argv.slice(2);
const expected = Number(expectedArg);
const db = new Sequelize(database, user, null, {dialect: "postgres", host, port: Number(port), logging: false});
const fail = (msg) => { console.error(`FAIL: Sequelize: ${msg}`); process.exit(1); };

// The reflected column types as Sequelize types (for reading, the driver parses the values).
const types = {"TEXT": DataTypes.TEXT, "BIGINT": DataTypes.BIGINT, "INTEGER": DataTypes.INTEGER,
               "NUMERIC": DataTypes.DECIMAL, "BOOLEAN": DataTypes.BOOLEAN, "DOUBLE PRECISION": DataTypes.DOUBLE,
               "TIMESTAMP WITH TIME ZONE": DataTypes.DATE};
async function model(name, schema, keys) {
  const readable = new Set((await db.query(
    `SELECT attname FROM pg_attribute WHERE attrelid = CAST($1 AS regclass) AND attnum > 0
       AND NOT attisdropped AND has_column_privilege(attrelid, attnum, 'SELECT')`,
    {bind: [`${schema}."${name.replaceAll('"', '""')}"`], type: QueryTypes.SELECT})).map((r) => r.attname));
  const described = await db.getQueryInterface().describeTable({tableName: name, schema});
  const attributes = {};
  for (const [col, d] of Object.entries(described)) {
    if (!readable.has(col)) continue;
    attributes[col] = {type: types[d.type] || DataTypes.TEXT, primaryKey: keys.includes(col)};
  }
  return db.define(name, attributes, {schema, tableName: name, timestamps: false, freezeTableName: true});
}

const {version} = JSON.parse(fs.readFileSync(new URL("node_modules/sequelize/package.json", import.meta.url)));
const [{reader, pii}] = await db.query(
  "SELECT pg_has_role('segments_reader', 'MEMBER') AS reader, pg_has_role('segments_pii', 'MEMBER') AS pii",
  {type: QueryTypes.SELECT});
if (!reader || pii) fail("the login must be a reader without segments_pii");
const Member = await model("members", "segments", ["segment", "customer_id"]);
const Overview = await model("overview", "segments", ["segment"]);
const SegmentMember = await model(segment, "segment_members", ["customer_id"]);

const n = await Member.count({where: {segment}});
if (n !== expected) fail(`members: counted ${n}, SQL ${expected}`);
const rows = await SegmentMember.findAll({order: [["revenue", "DESC"]]});
if (rows.length !== expected) fail(`member view: ${rows.length} rows, expected ${expected}`);
const first = rows[0].get({plain: true});
if ("email" in first || !("revenue" in first)) fail("the member view's model must have revenue and no email");
const one = await SegmentMember.findByPk(first.customer_id);  // by the declared natural key
if (!one || one.customer_id !== first.customer_id) fail("findByPk on customer_id");
const ov = await Overview.findByPk(segment);
if (!ov || Number(ov.customers) !== n || typeof ov.owner !== "string") fail(`overview row ${JSON.stringify(ov)}`);
console.log(`ok - Sequelize ${version} as a reader:` +
  ` mapped segments.members, segments.overview and segment_members."${segment}" (${Object.keys(SegmentMember.getAttributes()).length}` +
  ` readable columns), ${n} members read, findByPk on customer_id works, overview.owner = '${ov.owner}' (string)`);
await db.close();

-- BTYD models by hand and their parameter tables (docs/predictive.md).

CREATE OR REPLACE FUNCTION @extschema@.bgnbd_model(r double precision, alpha double precision, a double precision, b double precision, unit text DEFAULT 'weeks')
RETURNS @extschema@.bgnbd_model LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT ROW(r, alpha, a, b, NULL, NULL, NULL, NULL, 'hand-made', unit, NULL, NULL, NULL)::@extschema@.bgnbd_model $$;
COMMENT ON FUNCTION @extschema@.bgnbd_model(double precision, double precision, double precision, double precision, text) IS
  'A BG/NBD model from given parameters (e.g. published ones), with status ''hand-made'' and no fit statistics';
CREATE OR REPLACE FUNCTION @extschema@.mbgnbd_model(r double precision, alpha double precision, a double precision, b double precision, unit text DEFAULT 'weeks')
RETURNS @extschema@.mbgnbd_model LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT ROW(r, alpha, a, b, NULL, NULL, NULL, NULL, 'hand-made', unit, NULL, NULL, NULL)::@extschema@.mbgnbd_model $$;
COMMENT ON FUNCTION @extschema@.mbgnbd_model(double precision, double precision, double precision, double precision, text) IS
  'A MBG/NBD model from given parameters (e.g. published ones), with status ''hand-made'' and no fit statistics';
CREATE OR REPLACE FUNCTION @extschema@.paretonbd_model(r double precision, alpha double precision, s double precision, beta double precision, unit text DEFAULT 'weeks')
RETURNS @extschema@.paretonbd_model LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT ROW(r, alpha, s, beta, NULL, NULL, NULL, NULL, 'hand-made', unit, NULL, NULL, NULL)::@extschema@.paretonbd_model $$;
COMMENT ON FUNCTION @extschema@.paretonbd_model(double precision, double precision, double precision, double precision, text) IS
  'A Pareto/NBD model from given parameters (e.g. published ones), with status ''hand-made'' and no fit statistics';
CREATE OR REPLACE FUNCTION @extschema@.bgbb_model(alpha double precision, beta double precision, gamma double precision, delta double precision, unit text DEFAULT 'periods')
RETURNS @extschema@.bgbb_model LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT ROW(alpha, beta, gamma, delta, NULL, NULL, NULL, NULL, 'hand-made', unit, NULL, NULL, NULL)::@extschema@.bgbb_model $$;
COMMENT ON FUNCTION @extschema@.bgbb_model(double precision, double precision, double precision, double precision, text) IS
  'A BG/BB model from given parameters (e.g. published ones), with status ''hand-made'' and no fit statistics';
CREATE OR REPLACE FUNCTION @extschema@.gammagamma_model(p double precision, q double precision, gamma double precision)
RETURNS @extschema@.gammagamma_model LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$ SELECT ROW(p, q, gamma, NULL, NULL, NULL, NULL, 'hand-made', NULL, NULL, NULL)::@extschema@.gammagamma_model $$;
COMMENT ON FUNCTION @extschema@.gammagamma_model(double precision, double precision, double precision) IS
  'A Gamma-Gamma model from given parameters (e.g. published ones), with status ''hand-made'' and no fit statistics';
CREATE OR REPLACE FUNCTION @extschema@.model_summary(model @extschema@.bgnbd_model)
RETURNS TABLE (parameter text, estimate double precision, std_error double precision, lower_95 double precision, upper_95 double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p.name, p.value, p.se, p.value - 1.959963984540054 * p.se, p.value + 1.959963984540054 * p.se
  FROM unnest(ARRAY['r', 'alpha', 'a', 'b'], ARRAY[(model).r, (model).alpha, (model).a, (model).b], (model).std_errors) AS p(name, value, se)
$$;
COMMENT ON FUNCTION @extschema@.model_summary(@extschema@.bgnbd_model) IS
  'The BG/NBD model''s parameters with standard errors (observed information) and 95% Wald intervals estimate +- 1.96 se, as lifetimes'' summary';
CREATE OR REPLACE FUNCTION @extschema@.model_summary(model @extschema@.mbgnbd_model)
RETURNS TABLE (parameter text, estimate double precision, std_error double precision, lower_95 double precision, upper_95 double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p.name, p.value, p.se, p.value - 1.959963984540054 * p.se, p.value + 1.959963984540054 * p.se
  FROM unnest(ARRAY['r', 'alpha', 'a', 'b'], ARRAY[(model).r, (model).alpha, (model).a, (model).b], (model).std_errors) AS p(name, value, se)
$$;
COMMENT ON FUNCTION @extschema@.model_summary(@extschema@.mbgnbd_model) IS
  'The MBG/NBD model''s parameters with standard errors (observed information) and 95% Wald intervals estimate +- 1.96 se, as lifetimes'' summary';
CREATE OR REPLACE FUNCTION @extschema@.model_summary(model @extschema@.paretonbd_model)
RETURNS TABLE (parameter text, estimate double precision, std_error double precision, lower_95 double precision, upper_95 double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p.name, p.value, p.se, p.value - 1.959963984540054 * p.se, p.value + 1.959963984540054 * p.se
  FROM unnest(ARRAY['r', 'alpha', 's', 'beta'], ARRAY[(model).r, (model).alpha, (model).s, (model).beta], (model).std_errors) AS p(name, value, se)
$$;
COMMENT ON FUNCTION @extschema@.model_summary(@extschema@.paretonbd_model) IS
  'The Pareto/NBD model''s parameters with standard errors (observed information) and 95% Wald intervals estimate +- 1.96 se, as lifetimes'' summary';
CREATE OR REPLACE FUNCTION @extschema@.model_summary(model @extschema@.bgbb_model)
RETURNS TABLE (parameter text, estimate double precision, std_error double precision, lower_95 double precision, upper_95 double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p.name, p.value, p.se, p.value - 1.959963984540054 * p.se, p.value + 1.959963984540054 * p.se
  FROM unnest(ARRAY['alpha', 'beta', 'gamma', 'delta'], ARRAY[(model).alpha, (model).beta, (model).gamma, (model).delta], (model).std_errors) AS p(name, value, se)
$$;
COMMENT ON FUNCTION @extschema@.model_summary(@extschema@.bgbb_model) IS
  'The BG/BB model''s parameters with standard errors (observed information) and 95% Wald intervals estimate +- 1.96 se, as lifetimes'' summary';
CREATE OR REPLACE FUNCTION @extschema@.model_summary(model @extschema@.gammagamma_model)
RETURNS TABLE (parameter text, estimate double precision, std_error double precision, lower_95 double precision, upper_95 double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p.name, p.value, p.se, p.value - 1.959963984540054 * p.se, p.value + 1.959963984540054 * p.se
  FROM unnest(ARRAY['p', 'q', 'gamma'], ARRAY[(model).p, (model).q, (model).gamma], (model).std_errors) AS p(name, value, se)
$$;
COMMENT ON FUNCTION @extschema@.model_summary(@extschema@.gammagamma_model) IS
  'The Gamma-Gamma model''s parameters with standard errors (observed information) and 95% Wald intervals estimate +- 1.96 se, as lifetimes'' summary';

// Each segment's 200 members with the highest predicted CLV, with their CLV so far: segments.members
// joined with segments.customers on the natural key customer_id.
import {emit} from "./db.js";
await emit(`SELECT segment, customer_id, joined_at, clv, predicted_clv, p_alive, orders, lifecycle, value_band
            FROM (SELECT m.segment, m.customer_id, m.joined_at, c.revenue AS clv, c.predicted_clv,
                         round(c.p_alive::numeric, 3) AS p_alive, c.orders, c.lifecycle::text AS lifecycle,
                         c.value_band::text AS value_band,
                         row_number() OVER (PARTITION BY m.segment ORDER BY c.predicted_clv DESC NULLS LAST, m.customer_id) AS rank
                  FROM segments.members m JOIN segments.customers c ON c.customer_id = m.customer_id) x
            WHERE rank <= 200 ORDER BY segment, rank`);

// One row per segment (segments.overview).
import {emit} from "./db.js";
await emit(`SELECT segment, coalesce(pack, 'custom') AS pack, status, customers, revenue, added_revenue,
                   avg_clv, facts_stale
            FROM segments.overview ORDER BY customers DESC, segment`);

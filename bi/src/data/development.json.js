// Size, joins, leaves and added revenue at every refresh (segments.segment_development).
import {emit} from "./db.js";
await emit(`SELECT segment, as_of, size, joined, "left", added_revenue
            FROM segments.segment_development ORDER BY segment, as_of`);

// New, returning and lapsed customers per month, last 12 months (segments.new_returning_lapsed_monthly).
import {emit} from "./db.js";
await emit(`SELECT to_char(period_start, 'YYYY-MM') AS month, status, customers, orders, revenue
            FROM segments.new_returning_lapsed_monthly ORDER BY period_start, status`);

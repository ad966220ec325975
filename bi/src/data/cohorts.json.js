// The last 24 monthly cohorts, months 0-12 (segments.cohort_retention).
import {emit} from "./db.js";
await emit(`SELECT to_char(cohort, 'YYYY-MM') AS cohort, period_number, cohort_size, active_customers, retention
            FROM segments.cohort_retention
            WHERE cohort >= (SELECT max(cohort) FROM segments.cohort_retention) - interval '23 months'
              AND period_number <= 12
            ORDER BY cohort, period_number`);

// Life cycle x value band over all customers (segments.lifecycle_value_matrix).
import {emit} from "./db.js";
await emit(`SELECT lifecycle, value_band, lifecycle_order, value_band_order, contacts, customers, revenue
            FROM segments.lifecycle_value_matrix ORDER BY lifecycle_order, value_band_order`);

#include "value_band.h"

#include <cmath>

#include "errors.h"

namespace pgs::core {

ValueBand value_band(double value, double reference) {
    if (!std::isfinite(value))
        fail(ErrorKind::invalid_argument, "value_band needs a finite value",
             "NaN or infinite order values cannot be banded; filter them out.");
    if (!std::isfinite(reference) || reference <= 0)
        fail(ErrorKind::invalid_argument, "value_band reference must be a positive, finite number",
             "The reference is the average order value of all customers; it must be above zero.");
    // Compare value against multiples of the reference rather than dividing, so 75/100 is exactly medium.
    if (value < 0.75 * reference) return ValueBand::low;
    if (value <= 1.25 * reference) return ValueBand::medium;
    if (value <= 2.5 * reference) return ValueBand::high;
    return ValueBand::very_high;
}

}  // namespace pgs::core

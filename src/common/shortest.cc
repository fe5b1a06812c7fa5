// The one C++ file (style.md B11): shortest round-trip text of floats and
// doubles in ECMAScript Number.prototype.toString layout, through Debian's
// libdouble-conversion, as the canonical dump requires (vectors README).
// Flags: EMIT_POSITIVE_EXPONENT_SIGN only (no UNIQUE_ZERO, so -0 stays
// "-0"); decimal notation for exponents -6..21.
#include <double-conversion/double-conversion.h>

#include <cstring>

extern "C" {
size_t hollow__shortest_double(double v, char *buf, size_t cap);
size_t hollow__shortest_float(float v, char *buf, size_t cap);
}

namespace {
const double_conversion::DoubleToStringConverter &converter()
{
    static const double_conversion::DoubleToStringConverter conv(
        double_conversion::DoubleToStringConverter::EMIT_POSITIVE_EXPONENT_SIGN,
        "Infinity", "NaN", 'e', -6, 21, 6, 0);
    return conv;
}

size_t finish(double_conversion::StringBuilder &sb, size_t cap)
{
    int n = sb.position();
    sb.Finalize();
    return n >= 0 && static_cast<size_t>(n) < cap ? static_cast<size_t>(n) : 0;
}
} // namespace

size_t hollow__shortest_double(double v, char *buf, size_t cap)
{
    double_conversion::StringBuilder sb(buf, static_cast<int>(cap));
    converter().ToShortest(v, &sb);
    return finish(sb, cap);
}

size_t hollow__shortest_float(float v, char *buf, size_t cap)
{
    double_conversion::StringBuilder sb(buf, static_cast<int>(cap));
    converter().ToShortestSingle(v, &sb);
    return finish(sb, cap);
}

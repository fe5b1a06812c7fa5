// Decimal text to the nearest double or float, exactly rounded and
// independent of the C locale, through libdouble-conversion (the library
// src/common/shortest.cc already uses for the other direction). The text
// must be a JSON number, or NaN, Infinity, -Infinity (what Java writes).
#include <double-conversion/double-conversion.h>

#include <cmath>
#include <cstring>
#include <limits>

extern "C" {
#include "import/import_int.h"
}

namespace
{

bool json_number(const char *p, size_t len)
{
    size_t i = 0;
    if (i < len && p[i] == '-')
        i++;
    if (i >= len)
        return false;
    if (p[i] == '0') {
        i++;
    } else if (p[i] >= '1' && p[i] <= '9') {
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
    } else {
        return false;
    }
    if (i < len && p[i] == '.') {
        size_t d = ++i;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t d = i;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == len;
}

bool special(double *out, const char *p, size_t len)
{
    if (len == 3 && memcmp(p, "NaN", 3) == 0)
        *out = std::numeric_limits<double>::quiet_NaN();
    else if (len == 8 && memcmp(p, "Infinity", 8) == 0)
        *out = std::numeric_limits<double>::infinity();
    else if (len == 9 && memcmp(p, "-Infinity", 9) == 0)
        *out = -std::numeric_limits<double>::infinity();
    else
        return false;
    return true;
}

const double_conversion::StringToDoubleConverter &converter()
{
    static const double_conversion::StringToDoubleConverter conv(
        double_conversion::StringToDoubleConverter::NO_FLAGS, 0.0, 0.0,
        nullptr, nullptr);
    return conv;
}

} // namespace

extern "C" bool hollow__parse_double(double *out, const char *p, size_t len)
{
    if (special(out, p, len))
        return true;
    if (len > INT32_MAX || !json_number(p, len))
        return false;
    int used = 0;
    *out = converter().StringToDouble(p, (int)len, &used);
    return (size_t)used == len;
}

extern "C" bool hollow__parse_float(float *out, const char *p, size_t len)
{
    double d;
    if (special(&d, p, len)) {
        *out = (float)d;
        return true;
    }
    if (len > INT32_MAX || !json_number(p, len))
        return false;
    int used = 0;
    *out = converter().StringToFloat(p, (int)len, &used);
    return (size_t)used == len;
}

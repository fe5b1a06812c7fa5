/* Shortest round-trip float text (src/common/shortest.cc). Each returns the
 * length written into buf (NUL-terminated), 0 if cap is too small; 32 bytes
 * always suffice. NaN prints "NaN", infinities "Infinity"/"-Infinity". */
#ifndef HOLLOW_SRC_COMMON_SHORTEST_H
#define HOLLOW_SRC_COMMON_SHORTEST_H

#include <stddef.h>

size_t hollow__shortest_double(double v, char *buf, size_t cap);
size_t hollow__shortest_float(float v, char *buf, size_t cap);

#endif

/*
 * hollow/common.h - export macro, basic types, allocator hooks.
 *
 * Every other public header includes this one. Nothing here allocates or
 * fails; the allocator must be installed before any other hollow call.
 */
#ifndef HOLLOW_COMMON_H
#define HOLLOW_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HOLLOW_STATIC_DEFINE)
#define HOLLOW_API
#elif defined(__GNUC__)
#define HOLLOW_API __attribute__((visibility("default")))
#else
#define HOLLOW_API
#endif

/**
 * An ordinal: the index of a record within its type (blob-format.md §0.3).
 * Ordinals fit in 31 bits; HOLLOW_ORDINAL_NONE means "no record".
 */
typedef int32_t hollow_ordinal;
#define HOLLOW_ORDINAL_NONE ((hollow_ordinal)-1)

/**
 * A borrowed run of UTF-8 text: not NUL-terminated. When it comes from a
 * read state it stays valid while that state is pinned.
 */
typedef struct hollow_str {
    const char *ptr;
    size_t len;
} hollow_str;

/** A borrowed run of bytes; same lifetime rules as hollow_str. */
typedef struct hollow_bytes {
    const uint8_t *ptr;
    size_t len;
} hollow_bytes;

/**
 * Allocator hooks. All heap memory of the library goes through these.
 * `opaque` is passed back unchanged. The functions must be thread-safe and
 * follow malloc/realloc/free semantics (realloc(NULL, n) allocates,
 * free(NULL) is a no-op).
 */
typedef struct hollow_allocator {
    void *(*malloc_fn)(void *opaque, size_t size);
    void *(*realloc_fn)(void *opaque, void *ptr, size_t size);
    void (*free_fn)(void *opaque, void *ptr);
    void *opaque;
} hollow_allocator;

/**
 * Install an allocator; NULL restores the C library's malloc/realloc/free.
 *
 * Threads: call it before any other hollow call and never while another
 * thread uses the library.
 */
HOLLOW_API void hollow_set_allocator(const hollow_allocator *a);

/** Library version as MAJOR*10000 + MINOR*100 + PATCH, at run time. */
HOLLOW_API int hollow_version_number(void);

/** Library version as "MAJOR.MINOR.PATCH", a static string. */
HOLLOW_API const char *hollow_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_COMMON_H */

/*
 * The library snippet of the README, as a program: print the title of
 * every Movie in a snapshot.
 *
 *   read_titles SNAPSHOT
 *
 * A snapshot without a Movie type, or a Movie without a title, is an
 * error with a message (exit 1), never a crash.
 */
#include <stdio.h>
#include <string.h>

#include "hollow/hollow.h"

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fputs("usage: read_titles SNAPSHOT\n", help ? stdout : stderr);
        return help ? 0 : 2;
    }
    const char *path = argv[1];
    /* README: begin */
    hollow_read_state *rs;
    if (hollow_read_state_open(&rs, path, NULL) < 0) {
        fprintf(stderr, "%s\n", hollow_error_last()->message);
        return 1;
    }
    const hollow_type *movie = hollow_read_state_type(rs, "Movie");
    int title = hollow_schema_field_index(hollow_type_schema(movie), "title");
    if (movie == NULL || title < 0) {
        fprintf(stderr, "%s: no Movie type with a title field\n", path);
        hollow_read_state_release(rs);
        return 1;
    }
    for (hollow_ordinal o = hollow_type_next_ordinal(movie, 0); o >= 0;
         o = hollow_type_next_ordinal(movie, o + 1)) {
        char buf[256];
        hollow_str s;
        if (hollow_object_string(&s, buf, sizeof buf, movie, o, (size_t)title) == 0)
            printf("%.*s\n", (int)s.len, s.ptr);
    }
    hollow_read_state_release(rs);
    /* README: end */
    return 0;
}

/* Whole-file input for hollow-cli commands (input.h). */
#include "input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

const char *cli_input_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "standard input" : path;
}

int cli_read_input(uint8_t **out, size_t *len, const char *path,
                   const char *cmd)
{
    *out = NULL;
    *len = 0;
    bool std_in = strcmp(path, "-") == 0;
    FILE *f = std_in ? stdin : fopen(path, "rb");
    if (f == NULL)
        return cli_fail(cmd, 1, "cannot read %s: %s", path, strerror(errno));
    /* read to the end whatever the file is: a pipe's size is unknown */
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    int err = buf == NULL ? ENOMEM : 0;
    while (err == 0) {
        if (n == cap) {
            uint8_t *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (nb == NULL) {
                err = ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
    }
    if (!std_in)
        fclose(f);
    if (err != 0) {
        free(buf);
        return cli_fail(cmd, 1, "cannot read %s: %s", cli_input_name(path),
                        strerror(err));
    }
    *out = buf;
    *len = n;
    return 0;
}

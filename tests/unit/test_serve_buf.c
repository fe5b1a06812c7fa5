/*
 * The explorer's response buffer (src/cli/serve/buf.c): HTML, JSON and URL
 * escaping of values that come from the data, invalid UTF-8, and the cap
 * that bounds what one request may allocate.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "testhelp.h"

/* the buffer's text, NUL-terminated, freed by the caller */
static char *text(sbuf *b)
{
    sb_put(b, "", 1);
    ck_assert(!b->over);
    size_t n;
    return sb_take(b, &n);
}

START_TEST(serve_buf_html_escapes)
{
    sbuf b;
    sb_init(&b, 1 << 16);
    sb_htmls(&b, "<script>alert(1)</script> & \"q\" 'a'");
    char *s = text(&b);
    ck_assert_str_eq(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; "
                        "&quot;q&quot; &#39;a&#39;");
    free(s);
    /* invalid UTF-8, a lone surrogate and control bytes never pass */
    sb_init(&b, 1 << 16);
    sb_html(&b, "a\xff" "b\xed\xa0\x80" "c\x01" "d\0e", 11);
    s = text(&b);
    ck_assert_str_eq(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c&#xFFFD;d&#xFFFD;e");
    free(s);
    /* valid multibyte text is kept */
    sb_init(&b, 1 << 16);
    sb_htmls(&b, "caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x8E\xAC");
    s = text(&b);
    ck_assert_str_eq(s, "caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x8E\xAC");
    free(s);
}
END_TEST

START_TEST(serve_buf_json_escapes)
{
    sbuf b;
    sb_init(&b, 1 << 16);
    sb_json(&b, "\"a\\b\"\n\t</script>\xff\xed\xa0\x80", 20);
    char *s = text(&b);
    ck_assert_str_eq(s, "\"\\\"a\\\\b\\\"\\n\\u0009\\u003c/script>\\ufffd"
                        "\\ud800\"");
    free(s);
}
END_TEST

START_TEST(serve_buf_url_encodes)
{
    sbuf b;
    sb_init(&b, 1 << 16);
    sb_url(&b, "a b/c?d=e&f\"<\xC3\xA9-_.~");
    char *s = text(&b);
    ck_assert_str_eq(s, "a%20b%2Fc%3Fd%3De%26f%22%3C%C3%A9-_.~");
    free(s);
}
END_TEST

START_TEST(serve_buf_cap_bounds_growth)
{
    sbuf b;
    sb_init(&b, 100);
    for (int i = 0; i < 30; i++)
        sb_puts(&b, "0123456789");
    ck_assert(b.over);
    ck_assert_uint_le(b.len, 100);
    ck_assert_uint_le(b.cap_alloc, 100);
    /* once over, nothing more is appended */
    size_t len = b.len;
    sb_printf(&b, "%d", 1);
    ck_assert_uint_eq(b.len, len);
    sb_free(&b);
    /* a formatted append larger than the small stack buffer */
    sb_init(&b, 1 << 16);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sb_printf(&b, "<%s>", big);
    ck_assert(!b.over);
    ck_assert_uint_eq(b.len, sizeof big + 1);
    ck_assert_int_eq(b.data[0], '<');
    ck_assert_int_eq(b.data[b.len - 1], '>');
    sb_free(&b);
}
END_TEST

static Suite *serve_buf_suite(void)
{
    Suite *s = suite_create("serve_buf");
    TCase *tc = tcase_create("escape");
    tcase_add_test(tc, serve_buf_html_escapes);
    tcase_add_test(tc, serve_buf_json_escapes);
    tcase_add_test(tc, serve_buf_url_encodes);
    suite_add_tcase(s, tc);
    tc = tcase_create("bounds");
    tcase_add_test(tc, serve_buf_cap_bounds_growth);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ht_run_suite(serve_buf_suite());
}

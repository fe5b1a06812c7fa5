/*
 * movies_gen.c - the exact generator of bench-dataset.md.
 *
 * Every draw happens in the order the document gives, from one SplitMix64
 * stream: the actors, then movie(0..N-1) (version 1), then the appended
 * movie(N..N+floor(N/200)-1) of version 2. The order of draws is the
 * contract with the Java generator: reordering two draws changes every
 * record after them. Nothing here depends on the library.
 */
#include "movies_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ rng */

void movies_rng_init(movies_rng *r, uint64_t seed) { r->state = seed; }

uint64_t movies_rng_next(movies_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t movies_rng_below(movies_rng *r, uint64_t m)
{
    return movies_rng_next(r) % m;
}

/* ---------------------------------------------------------------- pools */

const char *const movies_genres[MOVIES_GENRE_COUNT] = {
    "Action",    "Adventure",  "Animation", "Biography", "Comedy",
    "Crime",     "Documentary", "Drama",    "Family",    "Fantasy",
    "Film-Noir", "History",    "Horror",    "Music",     "Musical",
    "Mystery",   "Romance",    "Sci-Fi",    "Short",     "Sport",
    "Thriller",  "War",        "Western",   "Anime",     "Kids",
    "Reality",   "Talk-Show",  "Game-Show", "News",      "Experimental"};

const char *const movies_words[MOVIES_WORD_COUNT] = {
    "the",      "of",     "and",    "night",   "day",    "love",   "war",
    "man",      "woman",  "city",   "last",    "first",  "dark",   "light",
    "return",   "rise",   "fall",   "king",    "queen",  "secret", "lost",
    "found",    "blood",  "fire",   "ice",     "star",   "moon",   "sun",
    "river",    "road",   "house",  "garden",  "dream",  "game",   "story",
    "life",     "death",  "time",   "world",   "heart",  "ghost",  "shadow",
    "storm",    "silence", "voice", "island",  "mountain", "ocean", "summer",
    "winter",   "spring", "autumn", "golden",  "silver", "red",    "blue",
    "green",    "black",  "white",  "little",  "big",    "great",  "final",
    "beyond"};

const char *const movies_syllables[MOVIES_SYLLABLE_COUNT] = {
    "ka", "ro", "mi", "ta", "ne", "lo", "sa", "vi", "de", "an", "el",
    "or", "ya", "zu", "po", "ri", "ha", "ku", "me", "so", "la", "ti",
    "no", "be", "ga", "fe", "jo", "wi", "xa", "qu", "ce", "du"};

const char *const movies_sources[MOVIES_SOURCE_COUNT] = {
    "imdb", "rt", "metacritic", "letterboxd", "tmdb", "douban", "kinopoisk",
    "filmaffinity"};

/* -------------------------------------------------------------- records */

uint32_t movies_actor_count(uint64_t n)
{
    return n / 10 > 0 ? (uint32_t)(n / 10) : 1;
}

uint64_t movies_v2_count(uint64_t n)
{
    return n - (n + 199) / 200 + n / 200;
}

void movies_gen_actor(movies_rng *r, int32_t a, movies_actor *out)
{
    memset(out, 0, sizeof *out);
    unsigned ns = 2 + (unsigned)movies_rng_below(r, 3);
    size_t len = 0;
    for (unsigned k = 0; k < ns; k++) {
        const char *s = movies_syllables[movies_rng_below(r, MOVIES_SYLLABLE_COUNT)];
        size_t sl = strlen(s);
        memcpy(out->name + len, s, sl);
        len += sl;
    }
    out->name[len] = '\0';
    if (out->name[0] >= 'a' && out->name[0] <= 'z')
        out->name[0] = (char)(out->name[0] - 'a' + 'A');
    out->name_len = (uint8_t)len;
    out->id = a;
}

void movies_gen_movie(movies_rng *r, uint64_t i, uint32_t actor_count,
                      movies_movie *out)
{
    memset(out, 0, sizeof *out);
    out->id = MOVIES_ID_BASE + MOVIES_ID_STEP * (int64_t)i;

    unsigned nw = 1 + (unsigned)movies_rng_below(r, 4);
    size_t len = 0;
    for (unsigned k = 0; k < nw; k++) {
        const char *w = movies_words[movies_rng_below(r, MOVIES_WORD_COUNT)];
        size_t wl = strlen(w);
        if (k > 0)
            out->title[len++] = ' ';
        memcpy(out->title + len, w, wl);
        len += wl;
    }
    out->title[len] = '\0';
    out->title_len = (uint8_t)len;

    out->year = 1920 + (int32_t)movies_rng_below(r, 105);

    unsigned ng = (unsigned)movies_rng_below(r, 4);
    for (unsigned k = 0; k < ng; k++)
        out->genres[k] = (uint8_t)movies_rng_below(r, MOVIES_GENRE_COUNT);
    out->genre_count = (uint8_t)ng;

    /* a set: first occurrence kept, in first-draw order */
    unsigned na = (unsigned)movies_rng_below(r, 9);
    unsigned nact = 0;
    for (unsigned k = 0; k < na; k++) {
        int32_t a = (int32_t)movies_rng_below(r, actor_count);
        unsigned j = 0;
        while (j < nact && out->actors[j] != a)
            j++;
        if (j == nact)
            out->actors[nact++] = a;
    }
    out->actor_count = (uint8_t)nact;

    /* a map: a repeated key overwrites the value, keeps its first position */
    unsigned nr = (unsigned)movies_rng_below(r, 4);
    unsigned nrat = 0;
    for (unsigned k = 0; k < nr; k++) {
        uint8_t src = (uint8_t)movies_rng_below(r, MOVIES_SOURCE_COUNT);
        uint8_t tenths = (uint8_t)movies_rng_below(r, 101);
        unsigned j = 0;
        while (j < nrat && out->rating_sources[j] != src)
            j++;
        if (j == nrat)
            out->rating_sources[nrat++] = src;
        out->rating_tenths[j] = tenths;
    }
    out->rating_count = (uint8_t)nrat;
}

void movies_remaster(movies_movie *out, const movies_movie *in)
{
    static const char suffix[] = MOVIES_REMASTERED;
    *out = *in;
    out->year = in->year + 1;
    memcpy(out->title + in->title_len, suffix, sizeof suffix); /* with NUL */
    out->title_len = (uint8_t)(in->title_len + sizeof suffix - 1);
}

/* ------------------------------------------------------------- datasets */

void movies_data_free(movies_data *d)
{
    free(d->actors);
    free(d->v1);
    free(d->v2);
    free(d->v2_own);
    memset(d, 0, sizeof *d);
}

int movies_data_generate(movies_data *d, uint64_t n, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->seed = seed;
    d->actor_count = movies_actor_count(n);
    size_t added = (size_t)(n / 200);
    size_t remastered = (size_t)((n + 99) / 200); /* i % 200 == 100, i < n */
    d->actors = malloc(d->actor_count * sizeof *d->actors);
    d->v1 = malloc((n > 0 ? n : 1) * sizeof *d->v1);
    d->v2_count = (size_t)movies_v2_count(n);
    d->v2 = malloc((d->v2_count > 0 ? d->v2_count : 1) * sizeof *d->v2);
    d->v2_own = malloc((added + remastered > 0 ? added + remastered : 1) *
                       sizeof *d->v2_own);
    if (d->actors == NULL || d->v1 == NULL || d->v2 == NULL || d->v2_own == NULL) {
        movies_data_free(d);
        return -1;
    }

    /* version 1 */
    movies_rng_init(&d->rng, seed);
    for (uint32_t a = 0; a < d->actor_count; a++)
        movies_gen_actor(&d->rng, (int32_t)a, &d->actors[a]);
    for (uint64_t i = 0; i < n; i++)
        movies_gen_movie(&d->rng, i, d->actor_count, &d->v1[i]);
    d->v1_count = (size_t)n;

    /* version 2: drop i%200==0, remaster i%200==100, append movie(N+k) */
    size_t c = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (i % 200 == 0)
            continue;
        if (i % 200 == 100) {
            movies_movie *m = &d->v2_own[d->v2_own_count++];
            movies_remaster(m, &d->v1[i]);
            d->v2[c++] = m;
        } else {
            d->v2[c++] = &d->v1[i];
        }
    }
    for (size_t k = 0; k < added; k++) {
        movies_movie *m = &d->v2_own[d->v2_own_count++];
        movies_gen_movie(&d->rng, n + k, d->actor_count, m);
        d->v2[c++] = m;
    }
    return c == d->v2_count ? 0 : -1;
}

size_t movies_next_version(movies_movie *out, const movies_movie *cur,
                           size_t count, uint64_t n, uint32_t actor_count,
                           movies_rng *r, uint64_t *next)
{
    size_t c = 0;
    for (size_t i = 0; i < count; i++) {
        if (i % 200 == 0)
            continue;
        if (i % 200 == 100) {
            if (cur[i].title_len + sizeof MOVIES_REMASTERED - 1 <= MOVIES_MAX_TITLE) {
                movies_remaster(&out[c++], &cur[i]);
            } else { /* remastered too often: the title is full */
                out[c] = cur[i];
                out[c++].year++;
            }
        } else {
            out[c++] = cur[i];
        }
    }
    for (uint64_t k = 0; k < n / 200; k++)
        movies_gen_movie(r, (*next)++, actor_count, &out[c++]);
    return c;
}

/* ----------------------------------------------------------------- json */

/* appends to a bounded buffer; `*ok` turns false on overflow */
typedef struct jbuf {
    char *p;
    size_t len, cap;
    int ok;
} jbuf;

static void jput(jbuf *b, const char *s, size_t n)
{
    if (!b->ok || b->len + n + 1 > b->cap) {
        b->ok = 0;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jputs(jbuf *b, const char *s) { jput(b, s, strlen(s)); }

/* the pools and generated strings hold only letters, digits, ' ', '-', '(' and ')' */
static void jstr(jbuf *b, const char *s)
{
    jput(b, "\"", 1);
    jputs(b, s);
    jput(b, "\"", 1);
}

static void jint(jbuf *b, long long v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", v);
    jput(b, t, (size_t)n);
}

size_t movies_json_line(char *buf, size_t cap, const movies_actor *actors,
                        const movies_movie *m, movies_format_double_fn fmt)
{
    jbuf b = {buf, 0, cap, cap > 0};
    jputs(&b, "{\"id\":");
    jint(&b, m->id);
    jputs(&b, ",\"title\":");
    jstr(&b, m->title);
    jputs(&b, ",\"year\":");
    jint(&b, m->year);
    jputs(&b, ",\"genres\":[");
    for (unsigned k = 0; k < m->genre_count; k++) {
        if (k > 0)
            jput(&b, ",", 1);
        jstr(&b, movies_genres[m->genres[k]]);
    }
    jputs(&b, "],\"actors\":[");
    for (unsigned k = 0; k < m->actor_count; k++) {
        const movies_actor *a = &actors[m->actors[k]];
        jputs(&b, k > 0 ? ",{\"id\":" : "{\"id\":");
        jint(&b, a->id);
        jputs(&b, ",\"name\":");
        jstr(&b, a->name);
        jput(&b, "}", 1);
    }
    jputs(&b, "],\"ratings\":[");
    for (unsigned k = 0; k < m->rating_count; k++) {
        char t[32];
        jputs(&b, k > 0 ? ",[" : "[");
        jstr(&b, movies_sources[m->rating_sources[k]]);
        jput(&b, ",", 1);
        jput(&b, t, fmt(t, sizeof t, movies_rating_value(m, k)));
        jput(&b, "]", 1);
    }
    jputs(&b, "]}");
    return b.ok ? b.len : 0;
}

/* -------------------------------------------------------------- lookups */

void movies_lookup_init(movies_rng *lr, uint64_t seed)
{
    movies_rng_init(lr, seed ^ 0x5DEECE66DULL);
}

int64_t movies_lookup_next(movies_rng *lr, uint64_t n)
{
    return MOVIES_ID_BASE +
           MOVIES_ID_STEP * (int64_t)movies_rng_below(lr, n + n / 200);
}

int movies_v2_has_id(uint64_t n, int64_t id)
{
    if (id < MOVIES_ID_BASE || (id - MOVIES_ID_BASE) % MOVIES_ID_STEP != 0)
        return 0;
    uint64_t i = (uint64_t)((id - MOVIES_ID_BASE) / MOVIES_ID_STEP);
    if (i < n)
        return i % 200 != 0;
    return i < n + n / 200;
}

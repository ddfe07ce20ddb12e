/*
 * table: aligned columns for arun-ctl's output to people.
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

struct table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, row 0 is the header */
};

struct table *table_new(size_t ncols, const char *const *header)
{
    struct table *t = calloc(1, sizeof *t);
    if (!t || ncols > TABLE_COLS_MAX) {
        free(t);
        return NULL;
    }
    t->ncols = ncols;
    if (table_add(t, header) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

/* A copy of s cut to TABLE_CELL_MAX bytes (not inside a UTF-8 sequence),
 * with newlines and tabs shown as spaces so a row stays one line. */
static char *cell_copy(const char *s)
{
    if (!s)
        s = "-";
    size_t n = strlen(s);
    int cut = n > TABLE_CELL_MAX;
    if (cut) {
        n = TABLE_CELL_MAX - 3;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *c = malloc(n + 4);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        c[i] = s[i] == '\n' || s[i] == '\t' || s[i] == '\r' ? ' ' : s[i];
    strcpy(c + n, cut ? "..." : "");
    return c;
}

int table_add(struct table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, cap * t->ncols * sizeof *nc);
        if (!nc)
            return -1;
        t->cells = nc;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!(row[i] = cell_copy(cells[i]))) {
            while (i > 0)
                free(row[--i]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void table_print(struct table *t, FILE *f)
{
    size_t w[TABLE_COLS_MAX] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t cw = width(t->cells[r * t->ncols + i]);
            if (cw > w[i])
                w[i] = cw;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * t->ncols + i];
            int last = i + 1 == t->ncols;
            fprintf(f, "%s%s", s, last ? "\n" : "  ");
            for (size_t pad = width(s); !last && pad < w[i]; pad++)
                fputc(' ', f);
        }
    }
    for (size_t k = 0; k < t->nrows * t->ncols; k++)
        free(t->cells[k]);
    free(t->cells);
    free(t);
}

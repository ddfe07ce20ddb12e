/*
 * whitelist: loading the folder's *.py names and checking requested names.
 */
#include "whitelist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Returns 1 if entry name is a whitelisted script file of dir. */
static int is_script(int dfd, const char *name)
{
    size_t len = strlen(name);
    if (len <= 3 || strcmp(name + len - 3, ".py") != 0 || name[0] == '.')
        return 0;
    if (strcmp(name, "__init__.py") == 0 || len - 3 > WHITELIST_NAME_MAX)
        return 0;
    struct stat st;
    /* follows symlinks: a link to a script elsewhere is the admin's choice */
    return fstatat(dfd, name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

int whitelist_load(struct whitelist *wl, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    char *dircopy = strdup(dir);
    if (!dircopy)
        goto fail;
    struct dirent *e;
    /* errno is reset before each readdir: only readdir's own failure
     * counts, not a stat of an entry that vanished or dangles */
    while ((errno = 0, e = readdir(d))) {
        if (!is_script(dirfd(d), e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                goto fail;
            names = grown;
        }
        names[n] = strndup(e->d_name, strlen(e->d_name) - 3);
        if (!names[n])
            goto fail;
        n++;
    }
    if (errno)
        goto fail;
    closedir(d);
    if (n > 1) /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(names, n, sizeof *names, cmp_names);
    whitelist_free(wl);
    wl->dir = dircopy;
    wl->names = names;
    wl->n = n;
    return 0;
fail:;
    int saved = errno ? errno : ENOMEM;
    closedir(d);
    free_names(names, n);
    free(dircopy);
    errno = saved;
    return -1;
}

void whitelist_free(struct whitelist *wl)
{
    free_names(wl->names, wl->n);
    free(wl->dir);
    wl->names = NULL;
    wl->dir = NULL;
    wl->n = 0;
}

int whitelist_contains(const struct whitelist *wl, const char *name)
{
    if (!wl->n)
        return 0;
    return bsearch(&name, wl->names, wl->n, sizeof *wl->names, cmp_names) != NULL;
}

int whitelist_normalise(const char *script, char out[WHITELIST_NAME_MAX + 1],
                        char reason[256])
{
    size_t len = strlen(script);
    if (len >= 3 && strcmp(script + len - 3, ".py") == 0)
        len -= 3;
    const char *why = NULL;
    if (len == 0)
        why = "script name is empty";
    else if (len > WHITELIST_NAME_MAX)
        why = "script name is too long";
    else if (memchr(script, '/', len) || memchr(script, '\\', len))
        why = "script name contains a path separator";
    else if (strstr(script, ".."))
        why = "script name contains '..'";
    else if (script[0] == '.')
        why = "script name starts with '.'";
    else if (len == 8 && memcmp(script, "__init__", 8) == 0)
        why = "__init__ is a package marker, not a script";
    else if (strspn(script, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789_.-") < len)
        why = "script name has characters other than A-Za-z0-9_.-";
    if (why) {
        snprintf(reason, 256, "%s", why);
        return -1;
    }
    memcpy(out, script, len);
    out[len] = '\0';
    return 0;
}

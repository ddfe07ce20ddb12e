/*
 * whitelist: the scripts arun may run, which are exactly the *.py files of
 * one folder (but __init__.py). Names are kept sorted without ".py".
 * Nothing outside that folder can be named: '/', '..' and __init__ are
 * refused before the folder is even looked at.
 */
#ifndef ARUN_WHITELIST_H
#define ARUN_WHITELIST_H

#include <stddef.h>

#define WHITELIST_NAME_MAX 128

struct whitelist {
    char *dir;     /* owned */
    char **names;  /* sorted, owned, without ".py" */
    size_t n;
};

/* Scans dir and fills *wl (which must be zeroed or previously loaded: the
 * old list is replaced only when the scan succeeds). Returns 0, or -1 with
 * errno set (the folder could not be read). */
int whitelist_load(struct whitelist *wl, const char *dir);

/* Frees the lists and the folder name. */
void whitelist_free(struct whitelist *wl);

/* Returns 1 if name (already normalised, no ".py") is on the list. */
int whitelist_contains(const struct whitelist *wl, const char *name);

/* Normalises a requested script name: strips one trailing ".py" and checks
 * that what is left can only name a file directly inside the folder.
 * Returns 0 with the name in out, or -1 with a reason. */
int whitelist_normalise(const char *script, char out[WHITELIST_NAME_MAX + 1],
                        char reason[256]);

#endif

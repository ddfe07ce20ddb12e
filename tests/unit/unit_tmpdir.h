/*
 * unit_tmpdir: the temp folder each file-touching unit test works in,
 * removed with everything in it afterwards. Header-only, for the test
 * binaries.
 */
#ifndef ARUN_UNIT_TMPDIR_H
#define ARUN_UNIT_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything under it. Returns 0, or -1. */
static inline int unit_rmtree(const char *dir)
{
    return nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif

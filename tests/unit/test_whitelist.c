/*
 * test_whitelist: whitelist_load in a mkdtemp folder (sorted names without
 * ".py"; __init__.py, non-.py files, dot-files, subfolders and over-long
 * names left out; a symlink to a script kept; reload sees added and
 * removed files; a missing folder fails with errno and keeps the old
 * list), whitelist_contains, and whitelist_normalise (accepts "name" and
 * "name.py", refuses empty, ".py", paths, "..", __init__, absolute paths,
 * dot-names, spaces and names over 128 characters).
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "whitelist.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/arun-unit-wl-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return unit_rmtree(dir);
}

static void touch(const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static void rm(const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(unlink(p), 0);
}

static void subdir(const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void expect_names(const struct whitelist *wl, const char *const *want, size_t n)
{
    if (wl->n != n) {
        for (size_t i = 0; i < wl->n; i++)
            print_error("  have %s\n", wl->names[i]);
    }
    assert_int_equal(wl->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(wl->names[i], want[i]);
}

static void test_load_filters_and_sorts(void **state)
{
    (void)state;
    touch("zeta.py");
    touch("calibration.py");
    touch("Alpha.py");
    touch("b_2.py");
    touch("__init__.py");
    touch("notes.txt");
    touch("compiled.pyc");
    touch("backup.py.bak");
    touch("py");
    touch(".py");
    touch(".hidden.py");
    subdir("pkg");
    subdir("folder.py");
    subdir("__pycache__");
    char longname[160];
    memset(longname, 'l', 129);
    strcpy(longname + 129, ".py");
    touch(longname);  /* 129 characters before .py: not nameable */
    char maxname[160];
    memset(maxname, 'm', 128);
    strcpy(maxname + 128, ".py");
    touch(maxname);
    char maxbare[129];
    memset(maxbare, 'm', 128);
    maxbare[128] = '\0';

    struct whitelist wl = {0};
    assert_int_equal(whitelist_load(&wl, dir), 0);
    assert_string_equal(wl.dir, dir);
    const char *want[] = {"Alpha", "b_2", "calibration", maxbare, "zeta"};
    expect_names(&wl, want, 5);

    assert_int_equal(whitelist_contains(&wl, "calibration"), 1);
    assert_int_equal(whitelist_contains(&wl, "zeta"), 1);
    assert_int_equal(whitelist_contains(&wl, "Alpha"), 1);
    assert_int_equal(whitelist_contains(&wl, "alpha"), 0);
    assert_int_equal(whitelist_contains(&wl, "calibration.py"), 0);
    assert_int_equal(whitelist_contains(&wl, "__init__"), 0);
    assert_int_equal(whitelist_contains(&wl, "notes"), 0);
    assert_int_equal(whitelist_contains(&wl, "pkg"), 0);
    assert_int_equal(whitelist_contains(&wl, "folder"), 0);
    assert_int_equal(whitelist_contains(&wl, ""), 0);
    whitelist_free(&wl);
    assert_null(wl.names);
    assert_null(wl.dir);
    assert_int_equal(wl.n, 0);
    assert_int_equal(whitelist_contains(&wl, "zeta"), 0);
}

static void test_empty_folder(void **state)
{
    (void)state;
    struct whitelist wl = {0};
    assert_int_equal(whitelist_load(&wl, dir), 0);
    assert_int_equal(wl.n, 0);
    assert_int_equal(whitelist_contains(&wl, "x"), 0);
    whitelist_free(&wl);
}

static void test_symlink_to_script(void **state)
{
    (void)state;
    touch("real.py");
    char target[512], link[512];
    snprintf(target, sizeof target, "%s/real.py", dir);
    snprintf(link, sizeof link, "%s/linked.py", dir);
    assert_int_equal(symlink(target, link), 0);
    struct whitelist wl = {0};
    assert_int_equal(whitelist_load(&wl, dir), 0);
    const char *want[] = {"linked", "real"};
    expect_names(&wl, want, 2);
    whitelist_free(&wl);
}

static void test_reload(void **state)
{
    (void)state;
    touch("a.py");
    touch("b.py");
    struct whitelist wl = {0};
    assert_int_equal(whitelist_load(&wl, dir), 0);
    const char *want1[] = {"a", "b"};
    expect_names(&wl, want1, 2);

    touch("c.py");
    rm("a.py");
    assert_int_equal(whitelist_load(&wl, dir), 0);
    const char *want2[] = {"b", "c"};
    expect_names(&wl, want2, 2);
    assert_int_equal(whitelist_contains(&wl, "a"), 0);
    assert_int_equal(whitelist_contains(&wl, "c"), 1);

    /* a folder that cannot be read: failure, old list kept */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/does-not-exist", dir);
    errno = 0;
    assert_int_equal(whitelist_load(&wl, missing), -1);
    assert_int_equal(errno, ENOENT);
    expect_names(&wl, want2, 2);
    assert_string_equal(wl.dir, dir);
    assert_int_equal(whitelist_contains(&wl, "b"), 1);

    /* a file, not a folder */
    char file[128];
    snprintf(file, sizeof file, "%s/b.py", dir);
    assert_int_equal(whitelist_load(&wl, file), -1);
    assert_int_equal(errno, ENOTDIR);
    expect_names(&wl, want2, 2);
    whitelist_free(&wl);

    /* a fresh list and a missing folder */
    struct whitelist empty = {0};
    assert_int_equal(whitelist_load(&empty, missing), -1);
    assert_int_equal(empty.n, 0);
    assert_null(empty.names);
    whitelist_free(&empty);
}

/* A dangling symlink named *.py is not a script: it must be skipped, not
 * make the whole scan fail (the same happens when a file is removed
 * between readdir and the stat). */
static void test_dangling_symlink_skipped(void **state)
{
    (void)state;
    touch("good.py");
    char link[512];
    snprintf(link, sizeof link, "%s/broken.py", dir);
    assert_int_equal(symlink("/nonexistent/arun-target.py", link), 0);
    struct whitelist wl = {0};
    int rc = whitelist_load(&wl, dir);
    if (rc != 0)
        print_error("whitelist_load failed: %s\n", strerror(errno));
    assert_int_equal(rc, 0);
    const char *want[] = {"good"};
    expect_names(&wl, want, 1);
    whitelist_free(&wl);
}

static void norm_ok(const char *in, const char *want)
{
    char out[WHITELIST_NAME_MAX + 1];
    char reason[256] = "";
    int rc = whitelist_normalise(in, out, reason);
    if (rc != 0)
        print_error("whitelist_normalise(\"%s\") refused: %s\n", in, reason);
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
}

static void norm_bad(const char *in)
{
    char out[WHITELIST_NAME_MAX + 1];
    char reason[256] = "";
    int rc = whitelist_normalise(in, out, reason);
    if (rc != -1)
        print_error("whitelist_normalise(\"%s\") accepted as \"%s\"\n", in, out);
    assert_int_equal(rc, -1);
    assert_true(reason[0] != '\0');
}

static void test_normalise(void **state)
{
    (void)state;
    norm_ok("calibration", "calibration");
    norm_ok("calibration.py", "calibration");
    norm_ok("risk_report-v2", "risk_report-v2");
    norm_ok("x.py.py", "x.py"); /* only one ".py" is stripped */
    norm_ok("a.b", "a.b");
    char name[200];
    memset(name, 'n', 128);
    name[128] = '\0';
    norm_ok(name, name);
    strcpy(name + 128, ".py");
    name[128 + 3] = '\0';
    char want[129];
    memset(want, 'n', 128);
    want[128] = '\0';
    norm_ok(name, want);

    norm_bad("");
    norm_bad(".py");
    norm_bad("a/b");
    norm_bad("a/b.py");
    norm_bad("../x");
    norm_bad("..");
    norm_bad("..py");
    norm_bad("__init__");
    norm_bad("__init__.py");
    norm_bad("/abs");
    norm_bad("/etc/passwd.py");
    norm_bad(".hidden");
    norm_bad(".hidden.py");
    norm_bad("with space");
    norm_bad("with space.py");
    norm_bad(" lead");
    norm_bad("tab\there");
    norm_bad("a\\b");
    norm_bad("caf\xC3\xA9");
    norm_bad("x;rm");
    memset(name, 'n', 129);
    name[129] = '\0';
    norm_bad(name);
    strcpy(name + 129, ".py");
    norm_bad(name);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_load_filters_and_sorts),
        T(test_empty_folder),
        T(test_symlink_to_script),
        T(test_reload),
        T(test_dangling_symlink_skipped),
        cmocka_unit_test(test_normalise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

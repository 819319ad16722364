/* driver.c - a main for the fuzz targets without libFuzzer (gcc builds):
 *
 *   fuzz-TARGET FILE|DIR...
 *
 * feeds each FILE, and each file in each DIR (in name order), to
 * LLVMFuzzerTestOneInput() once. The stages' messages go to stderr with
 * the sanitizers' reports (tests/fuzz/run shows them when a replay
 * fails). A crash stops it there;
 * otherwise it prints "TARGET: N inputs" and exits 0.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "io.h"

static unsigned long inputs;

static int
run_file(const char *path)
{
    struct ss_buf b = {0};
    int rc = ss_io_slurp(path, &b);

    if (rc < 0) {
        fprintf(stderr, "fuzz: %s: %s\n", path, strerror(-rc));
        ss_buf_release(&b);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)b.data, b.len);
    ss_buf_release(&b);
    inputs++;
    return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int
run_dir(const char *dir)
{
    struct dirent **names;
    char path[4096];
    int n = scandir(dir, &names, NULL, by_name), rc = 0;

    if (n < 0) {
        fprintf(stderr, "fuzz: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && rc == 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
            rc = run_file(path);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/');
    struct stat st;
    int rc = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc && rc == 0; i++) {
        if (stat(argv[i], &st) < 0 && errno == ENOENT)
            continue; /* an empty corpus is a missing folder in git */
        rc = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
    }
    fprintf(stderr, "%s: %lu inputs\n", name ? name + 1 : argv[0], inputs);
    return rc == 0 ? 0 : 1;
}

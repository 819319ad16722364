/* ops-cli - drive lib/num, lib/acc and lib/keytab from the command line
 * for tests/unit.bats.
 *
 *   ops-cli fold OP V...        fold values, print the result
 *   ops-cli window OP W V...    a sliding sum of W one-value partials by
 *                               merge and unmerge, printing each result
 *   ops-cli codec OP V...       fold, encode, decode, print the result
 *   ops-cli keytab < script     lines "+k" insert/count, "-k" delete,
 *                               "c" compact, "l" list keys and counts,
 *                               "rN" reserve room for N more keys, "s"
 *                               say whether the table grew since
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acc.h"
#include "keytab.h"

static int
fold(enum ss_op op, struct ss_acc *a, const char *v)
{
    int rc = ss_acc_add(a, op, v, strlen(v), ',');

    if (rc == -EINVAL)
        printf("'%s' is not a number\n", v);
    else if (rc == -ERANGE)
        printf("overflow at '%s'\n", v);
    return rc;
}

static void
show(enum ss_op op, const struct ss_acc *a)
{
    struct ss_buf b = {0};

    ss_acc_format(a, op, &b);
    printf("%.*s\n", (int)b.len, b.data);
    ss_buf_release(&b);
}

static int
run_window(enum ss_op op, int w, int argc, char **argv)
{
    struct ss_acc total = {0}, *parts = calloc((size_t)argc, sizeof(*parts));

    for (int i = 0; i < argc; i++) {
        if (fold(op, &parts[i], argv[i]) < 0)
            return 1;
        ss_acc_merge(&total, &parts[i], op, ',');
        if (i >= w)
            ss_acc_unmerge(&total, &parts[i - w], op);
        show(op, &total);
    }
    for (int i = 0; i < argc; i++)
        ss_acc_release(&parts[i]);
    free(parts);
    ss_acc_release(&total);
    return 0;
}

static int
run_keytab(void)
{
    struct ss_keytab t;
    char line[256];
    size_t slots = 0, cap = 0; /* the sizes at the last "r" */

    ss_keytab_init(&t, sizeof(long), NULL);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t n = strcspn(line, "\n"), cur = 0, klen;
        const char *k;
        long *v;
        int created;

        line[n] = '\0';
        if (line[0] == '+') {
            v = ss_keytab_get(&t, line + 1, n - 1, &created);
            ++*v;
        } else if (line[0] == '-') {
            printf("del %s %d\n", line + 1, ss_keytab_del(&t, line + 1, n - 1));
        } else if (line[0] == 'c') {
            ss_keytab_compact(&t);
        } else if (line[0] == 'r') {
            if (ss_keytab_reserve(&t, strtoul(line + 1, NULL, 10)) < 0)
                printf("reserve %s: no memory\n", line + 1);
            slots = t.slots;
            cap = t.cap_ents;
        } else if (line[0] == 's') {
            printf("%s\n",
                   t.slots == slots && t.cap_ents == cap ? "kept" : "grew");
        } else if (line[0] == 'l') {
            printf("%zu keys:", ss_keytab_count(&t));
            while ((v = ss_keytab_next(&t, &cur, &k, &klen)) != NULL)
                printf(" %.*s=%ld", (int)klen, k, *v);
            printf("\n");
        }
    }
    ss_keytab_release(&t);
    return 0;
}

int
main(int argc, char **argv)
{
    struct ss_acc a = {0}, b = {0};
    struct ss_buf enc = {0};
    enum ss_op op;

    if (argc >= 2 && strcmp(argv[1], "keytab") == 0)
        return run_keytab();
    if (argc < 3 || ss_op_lookup(argv[2], &op) < 0) {
        fprintf(stderr, "usage: ops-cli fold|window|codec OP ...\n");
        return 2;
    }
    if (strcmp(argv[1], "window") == 0)
        return run_window(op, atoi(argv[3]), argc - 4, argv + 4);
    for (int i = 3; i < argc; i++)
        if (fold(op, &a, argv[i]) < 0)
            return 1;
    if (strcmp(argv[1], "codec") == 0) {
        ss_acc_encode(&a, &enc);
        if (ss_acc_decode(&b, enc.data, enc.len) != (int)enc.len)
            printf("decode failed\n");
        show(op, &b);
    } else {
        show(op, &a);
    }
    ss_acc_release(&a);
    ss_acc_release(&b);
    ss_buf_release(&enc);
    return 0;
}

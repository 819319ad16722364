/* pstate-cli - drive lib/pstate from a script, for tests/pstate.bats: the
 * one reader of a partition's position that sstream-source --kafka and
 * the tests share.
 *
 *   pstate-cli read DIR TOPIC P      "none", or "open|closed TIME NEXT"
 *                                    (ss_pstate_read(); NEXT "none" when
 *                                    there is no line)
 *   pstate-cli recover DIR TOPIC P   "next N", or "none" when there is no
 *                                    checkpoint (ss_pstate_recover()); exit
 *                                    1 when no line fits
 *   pstate-cli hold DIR TOPIC P MS   take the partition (waiting up to MS
 *                                    ms), print "held" and where its state
 *                                    stands ("expect TIME NEXT" or "expect
 *                                    none"), then run stdin's commands:
 *                                        line TIME NEXT   ss_pstate_line()
 *                                        die              exit at once, as
 *                                                         kill -9 would
 *                                    and at the end release it, closed.
 * Exit 1 when a call fails (it has said why), 2 for a bad command line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "pstate.h"

static int
usage(void)
{
    fputs("usage: pstate-cli read|recover DIR TOPIC P\n"
          "       pstate-cli hold DIR TOPIC P MS < commands\n",
          stderr);
    return 2;
}

static int
read_pos(const char *dir, const char *topic, int32_t p)
{
    struct ss_pstate_pos pos;

    if (ss_pstate_read(dir, topic, p, &pos) < 0)
        return 1;
    if (!pos.known)
        printf("none\n");
    else if (pos.next == SS_PSTATE_NONE)
        printf("%s none\n", pos.closed ? "closed" : "open");
    else
        printf("%s %" PRId64 " %" PRId64 "\n", pos.closed ? "closed" : "open",
               pos.time, pos.next);
    return 0;
}

static int
recover(const char *dir, const char *topic, int32_t p)
{
    int64_t next;
    int rc = ss_pstate_recover(dir, topic, p, &next);

    if (rc < 0)
        return 1;
    if (rc == 0)
        printf("none\n");
    else
        printf("next %" PRId64 "\n", next);
    return 0;
}

static int
hold(const char *dir, const char *topic, int32_t p, int64_t ms)
{
    struct ss_pstate ps;
    char line[256];
    long long t, n;
    int64_t time, next;
    int rc;

    if (ss_pstate_hold(&ps, dir, topic, strlen(topic), p, ms) < 0)
        return 1;
    if ((rc = ss_pstate_expect(&ps, &time, &next)) < 0)
        return 1;
    if (rc == 1)
        printf("held\nexpect %" PRId64 " %" PRId64 "\n", time, next);
    else
        printf("held\nexpect none\n");
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        if (strcmp(line, "die\n") == 0)
            _exit(9);
        if (sscanf(line, "line %lld %lld", &t, &n) != 2)
            return ss_diag("bad command '%s'", line), 2;
        if (ss_pstate_line(&ps, t, n) < 0)
            return 1;
    }
    return ss_pstate_release(&ps, 1) < 0;
}

int
main(int argc, char **argv)
{
    int32_t p;

    ss_diag_init(argv[0]);
    if (argc < 5)
        return usage();
    p = (int32_t)strtol(argv[4], NULL, 10);
    if (strcmp(argv[1], "read") == 0 && argc == 5)
        return read_pos(argv[2], argv[3], p);
    if (strcmp(argv[1], "recover") == 0 && argc == 5)
        return recover(argv[2], argv[3], p);
    if (strcmp(argv[1], "hold") == 0 && argc == 6)
        return hold(argv[2], argv[3], p, strtoll(argv[5], NULL, 10));
    return usage();
}

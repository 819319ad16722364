/* top.c - sstream-sink --top N: ranking per batch, plain lines, and the
 * live view on a terminal (top.h).
 *
 * The live view is curses, not escape codes of our own: terminfo knows
 * the terminal, and ncurses redraws only what changed. Curses is not
 * thread-safe, so every curses call, from the sink's thread or from the
 * signal thread, holds the one mutex.
 */
#include "top.h"

#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arena.h"
#include "diag.h"
#include "dur.h"
#include "io.h"
#include "num.h"
#include "rank.h"

#define HEAD_ROWS 3 /* two lines of figures and a blank one */

/* A row on screen: its text in shown_text, terminal-safe. */
struct row {
    size_t koff, klen, voff, vlen;
    double v; /* the value, for the bar */
    int is_num;
};

struct ss_top {
    size_t n;
    const struct ss_timefmt *tf;
    struct ss_arena arena; /* the batch's keys and values */
    struct ss_buf items;   /* struct ss_rank_item per record */
    size_t count;
    /* the live view */
    int live;
    SCREEN *scr;
    FILE *in; /* /dev/null: curses reads no keys here */
    pthread_mutex_t mu;
    pthread_t thr;
    int thr_live, stop;
    sigset_t sigs;                      /* what the thread waits for */
    char head[2][SS_TIMEFMT_MAX + 128]; /* the figures */
    struct ss_buf rows, text;           /* what is on screen, for a redraw */
    size_t nrows, total;                /* rows shown; records in the batch */
    int held_fd;                        /* the real stderr while held, or -1 */
    FILE *held;                         /* the messages meanwhile */
};

/* ---- ranking ---- */

int
ss_top_frame(struct ss_top *t, const struct ss_frame *f)
{
    struct ss_rec_iter it;
    struct ss_rec r;

    if (!(f->flags & SS_FRAME_KEYED) && f->count > 0)
        return ss_diag("--top needs key/value records (make them with "
                       "sstream-map --count-by-value, --pair or --key-field)");
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        struct ss_rank_item e;
        struct ss_rec c = r;

        /* parts of a batch do not outlive their read: copy */
        if ((c.key = ss_arena_dup(&t->arena, r.key, r.klen)) == NULL ||
            (c.val = ss_arena_dup(&t->arena, r.val, r.vlen)) == NULL)
            return -ENOMEM;
        ss_rank_item_init(&e, &c, 0, t->count++);
        if (ss_buf_append(&t->items, &e, sizeof(e)) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* ---- plain lines ---- */

static int
put_lines(struct ss_top *t, int64_t time, const struct ss_rank_item *e,
          size_t n, struct ss_buf *out)
{
    char tb[SS_TIMEFMT_MAX];

    ss_timefmt_format(t->tf, time, tb);
    for (size_t i = 0; i < n; i++)
        if (ss_buf_printf(out, "%s\t%zu\t", tb, i + 1) < 0 ||
            ss_buf_append(out, e[i].r.key, e[i].r.klen) < 0 ||
            ss_buf_putc(out, '\t') < 0 ||
            ss_buf_append(out, e[i].r.val, e[i].r.vlen) < 0 ||
            ss_buf_putc(out, '\n') < 0)
            return -ENOMEM;
    return 0;
}

/* ---- the live view ---- */

/* Bytes a terminal would act on, and those of other characters (the
 * view counts one column per byte), become '?'. */
static int
put_safe(struct ss_buf *b, const char *p, size_t n, size_t *off)
{
    *off = b->len;
    if (ss_buf_reserve(b, n) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        b->data[b->len + i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    ss_buf_commit(b, n);
    return 0;
}

/* "-" for an unknown figure. */
static const char *
figure(int64_t v, const char *unit, char *buf, size_t n)
{
    if (v < 0)
        return "-";
    snprintf(buf, n, "%" PRId64 "%s", v, unit);
    return buf;
}

/* The slowest stage of the trail, "#2 window 30 ms", or "-". */
static void
slowest(const struct ss_stats_batch *b, char *buf, size_t n)
{
    struct ss_frame f = {.trail = b->trail, .ntrail = b->ntrail};
    struct ss_frame_stage e, slow = {.ms = 0};
    unsigned at = 0;

    snprintf(buf, n, "-");
    for (unsigned i = 0; i < b->ntrail; i++) {
        ss_frame_trail_get(&f, i, &e);
        if (i == 0 || e.ms > slow.ms) {
            slow = e;
            at = i;
        }
    }
    if (b->ntrail > 0)
        snprintf(buf, n, "#%u %s %" PRIu32 " ms", at + 1, slow.name, slow.ms);
}

static void
set_head(struct ss_top *t, const struct ss_stats_batch *b)
{
    char tb[SS_TIMEFMT_MAX], in[32], out[32], delay[32], slow[48];
    int64_t rate = -1, e2e = -1;

    if (b->interval > 0)
        rate = (int64_t)((double)b->records_in * 1000.0 / b->interval + 0.5);
    if (b->closed_ms != 0 && (e2e = ss_dur_now_ms() - b->closed_ms) < 0)
        e2e = 0;
    ss_timefmt_format(t->tf, b->time, tb);
    slowest(b, slow, sizeof(slow));
    snprintf(t->head[0], sizeof(t->head[0]), "Time: %s%s   top %zu of %zu keys",
             tb, t->tf->kind == SS_TIMEFMT_MS ? " ms" : "", t->n, t->total);
    snprintf(t->head[1], sizeof(t->head[1]),
             "records/s in %s, out %s   delay %s   slowest %s",
             figure(ss_stats_ingest_rate(b), "", in, sizeof(in)),
             figure(rate, "", out, sizeof(out)),
             figure(e2e, " ms", delay, sizeof(delay)), slow);
}

/* Keep the top rows, terminal-safe, for this draw and any redraw. */
static int
keep_rows(struct ss_top *t, const struct ss_rank_item *e, size_t n)
{
    ss_buf_reset(&t->rows);
    ss_buf_reset(&t->text);
    t->nrows = 0;
    for (size_t i = 0; i < n; i++) {
        struct row w = {
            .is_num = e[i].is_num, .klen = e[i].r.klen, .vlen = e[i].r.vlen};

        if (w.is_num)
            w.v = ss_num_double(&e[i].num);
        if (put_safe(&t->text, e[i].r.key, e[i].r.klen, &w.koff) < 0 ||
            put_safe(&t->text, e[i].r.val, e[i].r.vlen, &w.voff) < 0 ||
            ss_buf_append(&t->rows, &w, sizeof(w)) < 0)
            return -ENOMEM;
        t->nrows++;
    }
    return 0;
}

static size_t
digits(size_t v)
{
    size_t n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static size_t
min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* One row: rank, key, bar, value; the bar takes the columns the others
 * leave, in proportion to the largest value shown. */
static void
draw_row(struct ss_top *t, int y, size_t i, size_t keyw, size_t valw,
         size_t barw, double max)
{
    const struct row *w = (const struct row *)(void *)t->rows.data + i;
    size_t kl = min_size(w->klen, keyw), vl = min_size(w->vlen, valw);
    size_t bar = 0;

    mvprintw(y, 0, "%*zu ", (int)digits(t->n), i + 1);
    addnstr(t->text.data + w->koff, (int)kl);
    move(y, (int)(digits(t->n) + 1 + keyw + 1));
    if (w->is_num && w->v > 0 && max > 0) {
        bar = (size_t)((double)barw * (w->v / max) + 0.5);
        bar = bar == 0 ? 1 : min_size(bar, barw);
    }
    for (size_t k = 0; k < bar; k++)
        addch('#');
    move(y, (int)(digits(t->n) + 1 + keyw + 1 + barw + 1 + (valw - vl)));
    addnstr(t->text.data + w->voff, (int)vl);
}

/* The whole screen from the kept rows; with the mutex held. Columns:
 * keys up to a third of the width, values up to a quarter, the bar the
 * rest; rows as many as fit under the figures. */
static void
draw(struct ss_top *t)
{
    const struct row *w = (const struct row *)(void *)t->rows.data;
    size_t cols = COLS > 0 ? (size_t)COLS : 1;
    size_t fit = LINES > HEAD_ROWS ? (size_t)LINES - HEAD_ROWS : 0;
    size_t show = min_size(t->nrows, fit), keyw = 1, valw = 1, barw = 0;
    size_t fixed;
    double max = 0;

    for (size_t i = 0; i < show; i++) {
        keyw = w[i].klen > keyw ? w[i].klen : keyw;
        valw = w[i].vlen > valw ? w[i].vlen : valw;
        if (w[i].is_num && w[i].v > max)
            max = w[i].v;
    }
    keyw = min_size(keyw, cols / 3 > 1 ? cols / 3 : 1);
    valw = min_size(valw, cols / 4 > 1 ? cols / 4 : 1);
    fixed = digits(t->n) + 1 + keyw + 1 + 1 + valw;
    barw = cols > fixed + 1 ? cols - fixed - 1 : 0;
    erase();
    mvaddnstr(0, 0, t->head[0], (int)cols);
    mvaddnstr(1, 0, t->head[1], (int)cols);
    if (t->nrows == 0 && LINES > HEAD_ROWS)
        mvaddnstr(HEAD_ROWS, 0, "(no records)", (int)cols);
    for (size_t i = 0; i < show; i++)
        draw_row(t, (int)(HEAD_ROWS + i), i, keyw, valw, barw, max);
    refresh();
}

int
ss_top_end(struct ss_top *t, const struct ss_stats_batch *b, struct ss_buf *out)
{
    struct ss_rank_item *e = (struct ss_rank_item *)(void *)t->items.data;
    size_t n = t->count;
    int rc = 0;

    ss_rank_sort(e, n, 0, 1);
    t->total = n;
    if (n > t->n)
        n = t->n;
    if (!t->live) {
        rc = put_lines(t, b->time, e, n, out);
    } else {
        pthread_mutex_lock(&t->mu);
        set_head(t, b);
        if ((rc = keep_rows(t, e, n)) == 0)
            draw(t);
        pthread_mutex_unlock(&t->mu);
    }
    ss_buf_reset(&t->items);
    ss_arena_reset(&t->arena);
    t->count = 0;
    return rc;
}

/* ---- the terminal ---- */

/* Leave curses; with the mutex held. The screen goes back to what it
 * was (the alternate screen is left) and the tty modes are restored. */
static void
leave(struct ss_top *t)
{
    if (t->scr == NULL)
        return;
    endwin();
    delscreen(t->scr);
    t->scr = NULL;
}

/* Messages written while the view was up go to the real stderr now. */
static void
release_stderr(struct ss_top *t)
{
    char b[4096];
    size_t n;

    if (t->held_fd < 0)
        return;
    dup2(t->held_fd, STDERR_FILENO);
    close(t->held_fd);
    t->held_fd = -1;
    rewind(t->held);
    while ((n = fread(b, 1, sizeof(b), t->held)) > 0)
        if (ss_io_write_all(STDERR_FILENO, b, n) < 0)
            break;
    fclose(t->held);
    t->held = NULL;
}

static void
resize(struct ss_top *t)
{
    struct winsize ws;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
        ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    draw(t);
}

/* The signal thread: SIGWINCH redraws; a signal that ends the process
 * restores the terminal first, then ends it as it would have. */
static void *
watch(void *arg)
{
    struct ss_top *t = arg;
    sigset_t one;
    int sig;

    for (;;) {
        if (sigwait(&t->sigs, &sig) != 0)
            continue;
        pthread_mutex_lock(&t->mu);
        if (t->stop) {
            pthread_mutex_unlock(&t->mu);
            return NULL;
        }
        if (sig == SIGWINCH) {
            resize(t);
            pthread_mutex_unlock(&t->mu);
            continue;
        }
        leave(t);
        release_stderr(t);
        signal(sig, SIG_DFL);
        sigemptyset(&one);
        sigaddset(&one, sig);
        pthread_sigmask(SIG_UNBLOCK, &one, NULL);
        raise(sig);
        pthread_mutex_unlock(&t->mu); /* not reached */
    }
}

/* The signals the thread takes: SIGWINCH, and those of SIGINT, SIGTERM
 * and SIGHUP that would end the process (not the ignored ones: a sink
 * ignores SIGINT to drain its pipeline, lib/stage). */
static void
watch_set(sigset_t *s)
{
    static const int ends[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;

    sigemptyset(s);
    sigaddset(s, SIGWINCH);
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
        if (sigaction(ends[i], NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
            sigaddset(s, ends[i]);
}

/* A terminal stderr would print over the view, and the view's end would
 * wipe what it printed: hold the messages in a file until then. */
static void
hold_stderr(struct ss_top *t)
{
    if (!isatty(STDERR_FILENO) || (t->held = tmpfile()) == NULL)
        return;
    if ((t->held_fd = dup(STDERR_FILENO)) < 0 ||
        dup2(fileno(t->held), STDERR_FILENO) < 0) {
        if (t->held_fd >= 0)
            close(t->held_fd);
        t->held_fd = -1;
        fclose(t->held);
        t->held = NULL;
    }
}

static int
go_live(struct ss_top *t)
{
    if ((t->in = fopen("/dev/null", "r")) == NULL)
        return ss_diag_err(-errno, "--top: /dev/null");
    watch_set(&t->sigs);
    /* blocked before the thread and curses start: only sigwait() takes
     * them, never a handler in the middle of a draw */
    pthread_sigmask(SIG_BLOCK, &t->sigs, NULL);
    if ((t->scr = newterm(NULL, stdout, t->in)) == NULL) {
        pthread_sigmask(SIG_UNBLOCK, &t->sigs, NULL);
        return ss_diag("--top: cannot draw on this terminal (TERM='%s')",
                       getenv("TERM") ? getenv("TERM") : "");
    }
    noecho();      /* keys typed do not land in the view */
    typeahead(-1); /* the input is not a keyboard: never wait on it */
    curs_set(0);
    hold_stderr(t);
    t->head[0][0] = t->head[1][0] = '\0';
    draw(t);
    if (pthread_create(&t->thr, NULL, watch, t) != 0) {
        leave(t);
        release_stderr(t);
        return ss_diag("--top: cannot start the resize thread");
    }
    t->thr_live = 1;
    return 0;
}

int
ss_top_new(size_t n, const struct ss_timefmt *tf, struct ss_top **out)
{
    struct ss_top *t = calloc(1, sizeof(*t));

    *out = t;
    if (t == NULL)
        return ss_diag_err(-ENOMEM, "--top");
    t->n = n;
    t->tf = tf;
    t->held_fd = -1;
    pthread_mutex_init(&t->mu, NULL);
    t->live = isatty(STDOUT_FILENO);
    return t->live ? go_live(t) : 0;
}

void
ss_top_free(struct ss_top *t)
{
    if (t == NULL)
        return;
    if (t->thr_live) {
        pthread_mutex_lock(&t->mu);
        t->stop = 1;
        pthread_mutex_unlock(&t->mu);
        pthread_kill(t->thr, SIGWINCH);
        pthread_join(t->thr, NULL);
    }
    leave(t);
    release_stderr(t);
    if (t->in != NULL)
        fclose(t->in);
    pthread_mutex_destroy(&t->mu);
    ss_arena_release(&t->arena);
    ss_buf_release(&t->items);
    ss_buf_release(&t->rows);
    ss_buf_release(&t->text);
    free(t);
}

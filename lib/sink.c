/* sink.c - sstream-sink's text outputs, and the output operations of
 * lib/out_*.c (files, foreach, a server) run after them on each batch.
 *
 * Output is built in one buffer and written when a batch ends (and when
 * the buffer passes OUT_FLUSH), so a live pipeline shows each batch as it
 * arrives and a fast one writes in large blocks.
 */
#include "sink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "frame.h"
#include "io.h"
#include "json.h"
#include "lazy.h"
#include "num.h"
#include "out.h"
#include "top.h"
#include "wal.h"

#define OUT_FLUSH (256 * 1024)

struct sink {
    const struct ss_sink_config *cfg;
    const struct ss_frame_reader *rd;
    struct ss_buf out;
    size_t printed; /* records of this batch shown by --print */
    int tty;
    struct ss_out *outs; /* --save-as-text-files, --foreach, --connect */
    struct ss_top *top;  /* --top */
    struct ss_wal_committer com; /* --commit */
    struct ss_stats *stats;      /* the stage's (lib/stage) */
    uint64_t written;            /* bytes written to stdout, for --stats */
    uint64_t counted;            /* 'written' when the last batch ended */
    int64_t kafka_committed;     /* the newest batch of the commit topic */
};

void
ss_sink_config_init(struct ss_sink_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = SS_SINK_PRINT;
    cfg->print_n = 10;
    cfg->connect_timeout = SS_SINK_CONNECT_TIMEOUT;
    cfg->post_retries = SS_SINK_POST_RETRIES;
    cfg->qos = 1;
}

static int
flush_out(struct sink *s)
{
    int rc = ss_io_write_all(STDOUT_FILENO, s->out.data, s->out.len);

    s->written += s->out.len;
    ss_buf_reset(&s->out);
    return rc;
}

static void
put(struct ss_buf *b, const char *p, size_t n)
{
    ss_buf_append(b, p, n);
}

/* A value as Spark's print() shows it: a float (decimal text with a
 * point or an exponent) as Java's Double.toString() writes it, 3.0 and
 * 1.0E10; anything else, integers included, as it is. */
static int
print_value(struct ss_buf *b, const char *p, size_t n)
{
    char text[SS_NUM_TEXT_MAX];
    double d;

    if (ss_num_is_float_text(p, n, &d))
        return ss_buf_append(b, text, ss_num_format_java(d, text));
    return ss_buf_append(b, p, n);
}

/* What --print adds to the time of an update (man/sstream.5 "UPDATES"):
 * a whole new value replaces the batch printed before, late records add
 * to it. */
static const char *
update_mark(uint32_t flags)
{
    if (!(flags & SS_FRAME_UPDATE))
        return "";
    return (flags & SS_FRAME_WHOLE) ? " (update: replaces)" : " (update: adds)";
}

/* Spark's DStream.print(): println of each element, tuples as (k,v). */
static void
print_frame(struct sink *s, const struct ss_frame *f, int first)
{
    struct ss_rec_iter it;
    struct ss_rec r;

    if (first) {
        const struct ss_timefmt *tf = &s->cfg->time_format;
        char t[SS_TIMEFMT_MAX];

        ss_timefmt_format(tf, f->time, t);
        ss_buf_printf(&s->out,
                      "-------------------------------------------\n"
                      "Time: %s%s%s\n"
                      "-------------------------------------------\n",
                      t, tf->kind == SS_TIMEFMT_MS ? " ms" : "",
                      update_mark(f->flags));
        s->printed = 0;
    }
    ss_frame_iter_init(&it, f);
    while (s->printed <= s->cfg->print_n && ss_frame_iter_next(&it, &r)) {
        if (s->printed++ == s->cfg->print_n) {
            put(&s->out, "...\n", 4);
            break;
        }
        if (r.key != NULL) {
            ss_buf_putc(&s->out, '(');
            put(&s->out, r.key, r.klen);
            ss_buf_putc(&s->out, ',');
            if (f->flags & SS_FRAME_PAIRS)
                ss_out_print_pair(&s->out, f->flags, r.val, r.vlen,
                                  print_value);
            else
                print_value(&s->out, r.val, r.vlen);
            put(&s->out, ")\n", 2);
        } else {
            print_value(&s->out, r.val, r.vlen);
            ss_buf_putc(&s->out, '\n');
        }
    }
}

/* --lines, --tsv for an outer join's frame: its sides with the marker
 * of a missing one (ss_out_value()); off the hot path. */
static int
outer_frame(struct sink *s, const struct ss_frame *f, const char *tbuf,
            size_t tlen)
{
    struct ss_rec_iter it;
    struct ss_rec r;
    int rc;

    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        if (ss_buf_append(&s->out, tbuf, tlen) < 0 ||
            (r.key != NULL && (ss_buf_append(&s->out, r.key, r.klen) < 0 ||
                               ss_buf_putc(&s->out, '\t') < 0)) ||
            ss_out_value(&s->out, f->flags, r.val, r.vlen) < 0 ||
            ss_buf_putc(&s->out, '\n') < 0)
            return -ENOMEM;
        if (s->out.len >= OUT_FLUSH && (rc = flush_out(s)) < 0)
            return rc;
    }
    return 0;
}

static int
text_frame(struct sink *s, const struct ss_frame *f)
{
    char tbuf[SS_TIMEFMT_MAX + 1];
    size_t tlen = ss_timefmt_format(&s->cfg->time_format, f->time, tbuf);
    struct ss_rec_iter it;
    struct ss_rec r;
    int rc;

    tbuf[tlen++] = '\t';
    if (s->cfg->mode != SS_SINK_TSV) {
        tlen = 0;
        /* -EBADMSG falls through to the reader's check, which says so */
        if ((rc = ss_out_lines_at_once(&s->out, f)) != 0 && rc != -EBADMSG)
            return rc < 0 ? rc : 0;
    }
    if ((rc = ss_frame_reader_check(s->rd, f)) < 0)
        return rc;
    if (f->flags & (SS_FRAME_OPT_LEFT | SS_FRAME_OPT_RIGHT))
        return outer_frame(s, f, tbuf, tlen);
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        size_t n = tlen + (r.key ? r.klen + 1 : 0) + r.vlen + 1;
        char *p;

        /* One reserve and in-place copies per record: this loop is the
         * sink's hot path, and a call per field doubled its time. */
        if ((rc = ss_buf_reserve(&s->out, n)) < 0)
            return rc;
        p = s->out.data + s->out.len;
        memcpy(p, tbuf, tlen);
        p += tlen;
        if (r.key != NULL) {
            memcpy(p, r.key, r.klen);
            p += r.klen;
            *p++ = '\t';
        }
        memcpy(p, r.val, r.vlen);
        p[r.vlen] = '\n';
        ss_buf_commit(&s->out, n);
        if (s->out.len >= OUT_FLUSH && (rc = flush_out(s)) < 0)
            return rc;
    }
    return 0;
}

/* --json: an object per record, a line each (JSON Lines), for jq and
 * log shippers; the key only for key/value records. */
static int
json_frame(struct sink *s, const struct ss_frame *f)
{
    struct ss_rec_iter it;
    struct ss_rec r;
    int rc;

    if ((rc = ss_frame_reader_check(s->rd, f)) < 0)
        return rc;
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        ss_buf_printf(&s->out, "{\"time\":%" PRId64, f->time);
        if (r.key != NULL && (ss_buf_append(&s->out, ",\"key\":", 7) < 0 ||
                              ss_json_string(&s->out, r.key, r.klen) < 0))
            return -ENOMEM;
        if (ss_buf_append(&s->out, ",\"value\":", 9) < 0 ||
            ((f->flags & (SS_FRAME_OPT_LEFT | SS_FRAME_OPT_RIGHT))
                 ? ss_out_json_pair(&s->out, f->flags, r.val, r.vlen)
                 : ss_json_string(&s->out, r.val, r.vlen)) < 0 ||
            ss_buf_append(&s->out, "}\n", 2) < 0)
            return -ENOMEM;
        if (s->out.len >= OUT_FLUSH && (rc = flush_out(s)) < 0)
            return rc;
    }
    return 0;
}

static void
escaped(struct ss_buf *b, const char *p, size_t n)
{
    ss_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == '"' || c == '\\')
            ss_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            put(b, "\\n", 2);
        else if (c == '\t')
            put(b, "\\t", 2);
        else if (c < 0x20 || c >= 0x7f)
            ss_buf_printf(b, "\\x%02x", c);
        else
            ss_buf_putc(b, (char)c);
    }
    ss_buf_putc(b, '"');
}

/* The stage trail, when there is one, on a line of its own. */
static void
dump_trail(struct sink *s, const struct ss_frame *f)
{
    struct ss_frame_stage e;

    if (f->ntrail == 0)
        return;
    put(&s->out, "  trail:", 8);
    for (unsigned i = 0; i < f->ntrail; i++) {
        ss_frame_trail_get(f, i, &e);
        ss_buf_printf(&s->out, " %s=%" PRIu32 "ms", e.name, e.ms);
    }
    ss_buf_putc(&s->out, '\n');
}

/* The flags --dump knows by name, comma-separated; "-" for none. */
static void
flag_names(struct ss_buf *b, uint32_t flags)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {SS_FRAME_KEYED, "keyed"},       {SS_FRAME_MORE, "more"},
        {SS_FRAME_ABORTED, "aborted"},   {SS_FRAME_UPDATE, "update"},
        {SS_FRAME_WHOLE, "whole"},       {SS_FRAME_PAIRS, "pairs"},
        {SS_FRAME_OPT_LEFT, "opt-left"}, {SS_FRAME_OPT_RIGHT, "opt-right"},
        {SS_FRAME_NO_LEFT, "no-left"},   {SS_FRAME_NO_RIGHT, "no-right"},
    };

    const char *sep = "";

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (flags & names[i].bit) {
            ss_buf_printf(b, "%s%s", sep, names[i].name);
            sep = ",";
        }
    }
    if (*sep == '\0')
        ss_buf_putc(b, '-');
}

static void
dump_frame(struct sink *s, const struct ss_frame *f)
{
    struct ss_rec_iter it;
    struct ss_rec r;
    uint64_t i = 0;

    ss_buf_printf(&s->out,
                  "@%" PRIu64 " %s time=%" PRId64 " interval=%" PRIu32
                  " count=%" PRIu32 " payload=%zu flags=",
                  f->offset, f->kind == SS_FRAME_END ? "end" : "batch", f->time,
                  f->interval, f->count, f->payload_len);
    flag_names(&s->out, f->flags);
    ss_buf_printf(&s->out, " closed=%" PRId64 "\n", f->closed_ms);
    dump_trail(s, f);
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r)) {
        ss_buf_printf(&s->out, "  %" PRIu64 ": ", ++i);
        if (r.key != NULL) {
            escaped(&s->out, r.key, r.klen);
            put(&s->out, " => ", 4);
        }
        escaped(&s->out, r.val, r.vlen);
        ss_buf_putc(&s->out, '\n');
    }
}

/* The libraries of the broker and HTTP outputs asked for (lib/lazy.h);
 * 0 or SS_REPORTED after saying which did not load. */
static int
load_libraries(const struct ss_sink_config *cfg)
{
    if ((cfg->kafka != NULL && ss_lazy_load(SS_LAZY_RDKAFKA, "--kafka") < 0) ||
        (cfg->post != NULL && ss_lazy_load(SS_LAZY_CURL, "--post") < 0) ||
        (cfg->mqtt != NULL && ss_lazy_load(SS_LAZY_MOSQUITTO, "--mqtt") < 0) ||
        (cfg->nats != NULL && ss_lazy_load(SS_LAZY_NATS, "--nats") < 0))
        return SS_REPORTED;
    return 0;
}

/* The outputs, in a fixed order: files first (the durable copy), then
 * the server, the topics and the URL, then the command that may act on
 * them. */
static int
open_outputs(struct sink *s)
{
    const struct ss_sink_config *cfg = s->cfg;
    struct ss_out **tail = &s->outs, *o;
    int rc = load_libraries(cfg);

    for (int i = 0; i < 7 && rc == 0; i++) {
        o = NULL;
        if (i == 0 && cfg->save_as != NULL)
            rc = ss_out_files_new(cfg->save_as, cfg->suffix, cfg->skip_empty,
                                  cfg->spark_layout, &o);
        else if (i == 1 && cfg->connect != NULL)
            rc = ss_out_tcp_new(cfg->connect, cfg->connect_timeout, &o);
        else if (i == 2 && cfg->kafka != NULL)
            rc = ss_out_kafka_new(cfg->kafka, cfg->topic, cfg->props,
                                  cfg->nprops, cfg->ctopic, &s->kafka_committed,
                                  &o);
        else if (i == 3 && cfg->post != NULL)
            rc = ss_out_http_new(cfg->post, cfg->post_retries, cfg->skip_empty,
                                 cfg->connect_timeout, &o);
        else if (i == 4 && cfg->mqtt != NULL)
            rc = ss_out_mqtt_new(cfg->mqtt, cfg->topic, cfg->qos, &o);
        else if (i == 5 && cfg->nats != NULL)
            rc = ss_out_nats_new(cfg->nats, cfg->subject, &o);
        else if (i == 6 && cfg->foreach != NULL)
            rc = ss_out_foreach_new(cfg->foreach, cfg->retries, &o);
        if (o != NULL) {
            *tail = o;
            tail = &o->next;
        }
    }
    return rc;
}

static void
close_outputs(struct sink *s)
{
    struct ss_out *o, *next;

    for (o = s->outs; o != NULL; o = next) {
        next = o->next;
        o->ops->free(o);
    }
}

static int
outputs_frame(struct sink *s, const struct ss_frame *f, int first)
{
    int rc = 0;

    for (struct ss_out *o = s->outs; o != NULL && rc == 0; o = o->next)
        rc = o->ops->frame(o, f, first);
    return rc;
}

static int
outputs_end(struct sink *s, int64_t time)
{
    int rc = 0;

    for (struct ss_out *o = s->outs; o != NULL && rc == 0; o = o->next)
        rc = o->ops->end(o, time);
    return rc;
}

static void
stats_frame(struct sink *s, const struct ss_frame *f, int first)
{
    if (first)
        ss_stats_begin(s->stats);
    ss_stats_in(s->stats, f);
    ss_stats_out(s->stats, f->count, 0);
}

static int
on_frame(struct sink *s, const struct ss_frame *f, int first)
{
    int rc = 0;

    switch (s->cfg->mode) {
    case SS_SINK_NONE:
        break;
    case SS_SINK_PRINT:
        print_frame(s, f, first);
        break;
    case SS_SINK_DUMP:
        dump_frame(s, f);
        break;
    case SS_SINK_JSON:
        rc = json_frame(s, f);
        break;
    case SS_SINK_TOP:
        if ((rc = ss_frame_reader_check(s->rd, f)) == 0)
            rc = ss_top_frame(s->top, f);
        break;
    default:
        rc = text_frame(s, f);
        break;
    }
    if (rc == 0 && (s->tty || s->out.len >= OUT_FLUSH))
        rc = flush_out(s);
    if (rc == 0 && s->outs != NULL)
        rc = outputs_frame(s, f, first);
    if (rc == 0)
        stats_frame(s, f, first);
    return rc;
}

/* The batch is complete: shown on stdout, then handed to the outputs.
 * --stats: a batch counts as out once its outputs are done with it
 * (files renamed into place, the command run): that is when its
 * end-to-end delay ends. */
static int
end_batch(struct sink *s, int64_t time)
{
    int rc;

    if (s->cfg->mode == SS_SINK_PRINT)
        ss_buf_putc(&s->out, '\n');
    /* --top: the batch's figures are the stats' (the trail, the rates) */
    if (s->cfg->mode == SS_SINK_TOP &&
        (rc = ss_top_end(s->top, &s->stats->b, &s->out)) < 0)
        return rc;
    if ((rc = flush_out(s)) == 0)
        rc = outputs_end(s, time);
    if (rc == 0) {
        ss_stats_out(s->stats, 0, s->written - s->counted);
        s->counted = s->written;
        ss_stats_end(s->stats);
    }
    return rc;
}

/* An update frame (man/sstream.5 "UPDATES") goes where it can be told
 * apart or upserted: --print marks it, --save-as-text-files writes the
 * batch's file again, --foreach says so in its environment, the text
 * outputs write its records. The others would take it for a batch of its
 * own (a broker's dedup by batch time, a commit that goes back): stop
 * rather than deliver it wrong. */
static int
check_update(const struct sink *s, const struct ss_frame_batch_reader *br)
{
    const struct ss_sink_config *cfg = s->cfg;
    const char *opt = cfg->commit != NULL        ? "--commit"
                      : cfg->kafka != NULL       ? "--kafka"
                      : cfg->mqtt != NULL        ? "--mqtt"
                      : cfg->nats != NULL        ? "--nats"
                      : cfg->post != NULL        ? "--post"
                      : cfg->connect != NULL     ? "--connect"
                      : cfg->mode == SS_SINK_TOP ? "--top"
                                                 : NULL;

    if (opt == NULL)
        return 0;
    return ss_diag("stdin: update frame for batch %" PRId64 ": %s does not "
                   "take updates (late records for a batch already sent); "
                   "use --print, --lines, --tsv, --json, "
                   "--save-as-text-files or --foreach",
                   br->f.time, opt);
}

/* With --commit, a batch at or before the commit was written before a
 * restart and is not written again; a new one is committed once
 * end_batch() has made it durable: stdout written, files synced and
 * renamed, the --foreach command succeeded, the server sent to. */
static int
on_batch(struct sink *s, struct ss_frame_batch_reader *br)
{
    int64_t time = br->f.time;
    struct ss_frame f;
    int first = 1, rc;

    if ((br->update & SS_FRAME_UPDATE) && (rc = check_update(s, br)) < 0)
        return rc;
    if (s->cfg->commit != NULL && s->com.time != SS_WAL_NO_TIME &&
        time <= s->com.time) {
        /* read past it: ss_frame_batch_next() stays on a batch none of
         * whose parts was read */
        while ((rc = ss_frame_batch_part(br, &f)) > 0)
            continue;
        if (rc == 0)
            ss_stats_skip(s->stats);
        return rc;
    }
    while ((rc = ss_frame_batch_part(br, &f)) > 0) {
        if ((rc = on_frame(s, &f, first)) < 0)
            return rc;
        first = 0;
    }
    if (rc < 0 || (rc = end_batch(s, time)) < 0)
        return rc;
    return s->cfg->commit != NULL ? ss_wal_commit(&s->com, time) : 0;
}

/* The commit topic holds a batch that --commit does not: the sink died
 * between the batch's transaction and its commit record. Record it now,
 * before any batch is read, so that the batch the source sends again is
 * skipped and its log can let it go. */
static int
catch_up(struct sink *s)
{
    int64_t t = s->kafka_committed;

    if (s->cfg->ctopic == NULL || t == SS_WAL_NO_TIME || t <= s->com.time)
        return 0;
    ss_diag("--commit-topic: batch %" PRId64 " is in '%s', not in "
            "'%s/commit': recorded there, not written again",
            t, s->cfg->topic, s->cfg->commit);
    return ss_wal_commit(&s->com, t);
}

int
ss_sink_run(const struct ss_sink_config *cfg, struct ss_stage *sg)
{
    struct ss_frame_batch_reader br;
    struct sink s;
    int rc;

    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.rd = &br.rd;
    s.tty = isatty(STDOUT_FILENO);
    s.stats = &sg->stats;
    s.kafka_committed = SS_WAL_NO_TIME;
    if ((rc = ss_stage_open(sg, "sink", NULL, &cfg->stats)) < 0)
        return rc;
    ss_frame_batch_init(&br, STDIN_FILENO, "stdin");
    br.rd.updates = 1; /* check_update() says which outputs take them */
    s.stats->sink = 1;
    s.com.lockfd = -1;
    if (cfg->commit != NULL && ss_wal_committer_open(&s.com, cfg->commit) < 0)
        rc = SS_REPORTED;
    else if (cfg->mode == SS_SINK_TOP &&
             ss_top_new(cfg->top_n, &cfg->time_format, &s.top) < 0)
        rc = SS_REPORTED;
    else if ((rc = open_outputs(&s)) == 0)
        /* --lines alone walks each frame once: ss_frame_lines() checks
         * the record lengths as it copies them out. */
        br.rd.defer_records = cfg->mode == SS_SINK_LINES && s.outs == NULL;
    if (rc == 0)
        rc = catch_up(&s);
    if (rc == 0)
        while ((rc = ss_frame_batch_next(&br)) > 0)
            if ((rc = on_batch(&s, &br)) < 0)
                break;
    if (rc == 0 && cfg->mode == SS_SINK_DUMP) {
        dump_frame(&s, &br.f);
        rc = flush_out(&s);
    }
    if (SS_UNREPORTED(rc) && rc != -EPIPE)
        rc = ss_diag_err(rc, "stdout");
    close_outputs(&s);
    ss_top_free(s.top);
    ss_wal_committer_close(&s.com);
    ss_frame_batch_release(&br);
    ss_buf_release(&s.out);
    return rc;
}

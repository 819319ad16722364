/* out_http.c - --post URL on the sink: each batch one HTTP POST, for
 * webhooks and collectors, with libcurl (Debian's libcurl4-openssl-dev).
 *
 * The body is one JSON object, {"time":T,"records":[{"key":K,"value":V},
 * ...]} (no "key" for keyless records), strings escaped by lib/json as
 * --json escapes them; the batch time also travels in the header
 * X-Sstream-Batch-Time, so a receiver can deduplicate without parsing.
 *
 * A failure that may pass (no connection, a timeout, a 5xx answer) is
 * tried again after lib/backoff's wait (250ms doubling), up to --retries
 * times (3 by default); then, as for an answer that will not change (a
 * 3xx or 4xx), the sink stops with exit 1, naming the batch. The batch is
 * done only when the server answered 2xx: until then it is neither
 * committed (--commit) nor followed by the next, so nothing is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "backoff.h"
#include "diag.h"
#include "json.h"
#include "lazy_curl.h"
#include "out.h"
#include "stage.h"

struct ohttp {
    struct ss_out o;
    char what[300];
    CURL *curl;
    struct ss_buf body;
    size_t nrec; /* records in the body */
    unsigned retries;
    int skip_empty;
    struct ss_backoff bo;
};

/* flags: the frame's, for an outer join's sides (ss_out_json_pair()). */
static int
put_record(struct ss_buf *b, const struct ss_rec *r, uint32_t flags, int first)
{
    if (ss_buf_append(b, first ? "{" : ",{", first ? 1 : 2) < 0)
        return -ENOMEM;
    if (r->key != NULL &&
        (ss_buf_append(b, "\"key\":", 6) < 0 ||
         ss_json_string(b, r->key, r->klen) < 0 || ss_buf_putc(b, ',') < 0))
        return -ENOMEM;
    if (ss_buf_append(b, "\"value\":", 8) < 0 ||
        ((flags & (SS_FRAME_OPT_LEFT | SS_FRAME_OPT_RIGHT))
             ? ss_out_json_pair(b, flags, r->val, r->vlen)
             : ss_json_string(b, r->val, r->vlen)) < 0 ||
        ss_buf_putc(b, '}') < 0)
        return -ENOMEM;
    return 0;
}

static int
http_frame(struct ss_out *o, const struct ss_frame *f, int first)
{
    struct ohttp *h = (struct ohttp *)o;
    struct ss_rec_iter it;
    struct ss_rec r;

    if (first) {
        ss_buf_reset(&h->body);
        h->nrec = 0;
        if (ss_buf_printf(&h->body, "{\"time\":%" PRId64 ",\"records\":[",
                          f->time) < 0)
            return ss_diag_err(-ENOMEM, "%s", h->what);
    }
    ss_frame_iter_init(&it, f);
    while (ss_frame_iter_next(&it, &r))
        if (put_record(&h->body, &r, f->flags, h->nrec++ == 0) < 0)
            return ss_diag_err(-ENOMEM, "%s", h->what);
    return 0;
}

static size_t
drop_answer(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* One POST of the body: 0 (2xx), 1 when it may pass (no connection, a
 * timeout, a 5xx), -1 when it will not; why[n] says what it was. */
static int
post_once(struct ohttp *h, int64_t time, char *why, size_t n)
{
    struct curl_slist *hd;
    char tline[64];
    long status = 0;
    CURLcode c;

    snprintf(tline, sizeof(tline), "X-Sstream-Batch-Time: %" PRId64, time);
    /* no "Expect: 100-continue" wait before a large body */
    if ((hd = curl_slist_append(NULL, "Expect:")) == NULL ||
        curl_slist_append(hd, "Content-Type: application/json") == NULL ||
        curl_slist_append(hd, tline) == NULL) {
        curl_slist_free_all(hd);
        return snprintf(why, n, "out of memory"), -1;
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, h->body.data);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)h->body.len);
    c = curl_easy_perform(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hd);
    if (c != CURLE_OK)
        return snprintf(why, n, "%s", curl_easy_strerror(c)), 1;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    snprintf(why, n, "HTTP %ld", status);
    if (status >= 200 && status < 300)
        return 0;
    return status >= 500 ? 1 : -1;
}

static int
http_end(struct ss_out *o, int64_t time)
{
    struct ohttp *h = (struct ohttp *)o;
    char why[CURL_ERROR_SIZE + 32], msg[CURL_ERROR_SIZE + 64];
    unsigned attempt;
    int rc;

    if (h->skip_empty && h->nrec == 0)
        return 0;
    if (ss_buf_append(&h->body, "]}", 2) < 0 || ss_buf_putc(&h->body, 0) < 0)
        return ss_diag_err(-ENOMEM, "%s", h->what);
    h->body.len--; /* the NUL is for curl, not the body */
    for (attempt = 1;; attempt++) {
        if ((rc = post_once(h, time, why, sizeof(why))) == 0)
            break;
        if (rc < 0)
            return ss_diag("%s: batch %" PRId64 ": %s (not tried again: "
                           "the server refused the request itself)",
                           h->what, time, why);
        if (attempt > h->retries)
            return ss_diag("%s: batch %" PRId64 ": %s (gave up after %u "
                           "attempt%s)",
                           h->what, time, why, attempt,
                           attempt == 1 ? "" : "s");
        snprintf(msg, sizeof(msg), "batch %" PRId64 ": %s", time, why);
        uv_sleep((unsigned)ss_backoff_say(&h->bo, h->what, msg, "retrying"));
    }
    ss_backoff_reset(&h->bo);
    return 0;
}

static void
http_free(struct ss_out *o)
{
    struct ohttp *h = (struct ohttp *)o;

    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    curl_global_cleanup();
    ss_buf_release(&h->body);
    free(h);
}

static const struct ss_out_ops http_ops = {http_frame, http_end, http_free};

int
ss_out_http_new(const char *url, unsigned retries, int skip_empty,
                int64_t timeout_ms, struct ss_out **out)
{
    struct ohttp *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return ss_diag_err(-ENOMEM, "--post");
    h->o.ops = &http_ops;
    *out = &h->o;
    snprintf(h->what, sizeof(h->what), "--post %s", url);
    h->retries = retries;
    h->skip_empty = skip_empty;
    ss_backoff_reset(&h->bo);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
        (h->curl = curl_easy_init()) == NULL)
        return ss_diag("%s: cannot set up libcurl", h->what);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "sstream-sink/" SS_VERSION);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, drop_answer);
    if (timeout_ms > 0)
        curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    return 0;
}

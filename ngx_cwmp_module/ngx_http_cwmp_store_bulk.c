
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Bulk jobs: a task for many devices, fanned out from the nginx workers.
 * Other systems write the job (cwmp:bulk:{<job>}: task, selector, rate,
 * connreq) and add its name to cwmp:bulks; one worker per host (the
 * sweeper's) looks at the jobs once a second and runs their batches:
 *
 *   1. bulk_step.lua "claim" on the job's slot: a lease (one worker of
 *      all hosts at a time), the batch's size (the rate), the cursor;
 *   2. the batch's devices: the index's next ones (ZRANGE BYLEX after the
 *      cursor) or the job's list's (in the claim's answer);
 *   3. bulk_push.lua on each device's slot: the task queued unless the
 *      device has it (so a batch claimed again after a worker died queues
 *      nothing twice), and with connreq a connection request
 *      (cwmp:connreq);
 *   4. bulk_step.lua "advance": the cursor moves, the counters grow; more
 *      at once when the rate allows, else at the next second.
 *
 * A cancelled job's batches go over the devices the fan-out reached again
 * and cancel their task where it is still queued (FCALL cwmp_cancel, then
 * XADD cwmp:relay for its result), until the fan-out's cursor.
 *
 * The devices' results come back through their outboxes (results.lua,
 * relayed by store_relay.c to bulk_step.lua "count"); when every task
 * finished, the claim says COMPLETE and the job's end goes to the event
 * stream of the job's shard (shard_append.lua, once: its id is
 * remembered), then the job leaves cwmp:bulks.  A batch is at most 200
 * devices: sessions are never starved by a job (each push is a script of
 * its own, in the Redis queue with the sessions').
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>

#include "ngx_http_cwmp_store.h"


#define NGX_HTTP_CWMP_BULK_TICK     1000    /* ms */
#define NGX_HTTP_CWMP_BULK_BATCH    200     /* devices a batch */
#define NGX_HTTP_CWMP_BULK_JOBS     "16"    /* jobs looked at a second */
#define NGX_HTTP_CWMP_BULK_RUNNING  16      /* batches at once */


typedef struct {
    ngx_http_cwmp_store_t           *st;
    ngx_event_t                      tick;
    ngx_str_t                        worker;     /* "<host>:<pid>" */
    ngx_uint_t                       batches;    /* in progress */
} ngx_http_cwmp_bulk_t;


/* one job's batch, in its own pool */

typedef struct {
    ngx_http_cwmp_bulk_t            *bulk;
    ngx_pool_t                      *pool;
    ngx_str_t                        job;
    ngx_str_t                        key;        /* an index's */
    ngx_str_t                        cursor;
    ngx_str_t                        task;
    ngx_str_t                        task_id;
    ngx_array_t                      devices;    /* ngx_str_t */
    ngx_uint_t                       n;
    ngx_uint_t                       connreq;
    ngx_uint_t                       list;       /* a "list" selector */
    ngx_uint_t                       pending;    /* pushes in flight */
    ngx_uint_t                       pushed;     /* queued now */
    ngx_uint_t                       failed;
    ngx_int_t                        answer;     /* bulk_step's */
    ngx_str_t                        counters[5];
    ngx_uint_t                       cancelling; /* a cancelled job's sweep */
    ngx_str_t                        fanout;     /* how far the fan-out
                                                    went: the sweep's end */
    ngx_uint_t                       reached;    /* the sweep got there */
} ngx_http_cwmp_bulk_batch_t;


/* a device's push of the batch */

typedef struct {
    ngx_http_cwmp_bulk_batch_t      *batch;
    ngx_str_t                        device;
} ngx_http_cwmp_bulk_push_t;


static void ngx_http_cwmp_bulk_tick(ngx_event_t *ev);
static ngx_int_t ngx_http_cwmp_bulk_jobs(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_bulk_claim(ngx_http_cwmp_bulk_batch_t *b);
static ngx_int_t ngx_http_cwmp_bulk_claimed(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_bulk_claim_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_bulk_selected(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_uint_t ngx_http_cwmp_bulk_after(redisReply *e, ngx_str_t *cursor);
static void ngx_http_cwmp_bulk_push(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_bulk_pushed(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_bulk_push_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_bulk_tell(ngx_http_cwmp_bulk_batch_t *b,
    char *stream, ngx_str_t *device);
static void ngx_http_cwmp_bulk_advance(ngx_http_cwmp_bulk_batch_t *b);
static ngx_int_t ngx_http_cwmp_bulk_answer(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_bulk_advanced(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_bulk_complete(ngx_http_cwmp_bulk_batch_t *b);
static void ngx_http_cwmp_bulk_reported(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_bulk_stopped(ngx_http_cwmp_bulk_batch_t *b);
static ngx_int_t ngx_http_cwmp_bulk_send(ngx_http_cwmp_bulk_batch_t *b,
    ngx_http_cwmp_store_cmd_t *c, void *data,
    ngx_http_cwmp_redis_reply_pt reply, ngx_http_cwmp_redis_done_pt done);
static void ngx_http_cwmp_bulk_ignore(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_bulk_free(ngx_http_cwmp_bulk_batch_t *b);


ngx_int_t
ngx_http_cwmp_store_bulk_init(ngx_http_cwmp_store_t *st, ngx_cycle_t *cycle)
{
    u_char                *p;
    ngx_http_cwmp_bulk_t  *bulk;

    bulk = ngx_pcalloc(cycle->pool, sizeof(ngx_http_cwmp_bulk_t));
    if (bulk == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cycle->pool, cycle->hostname.len + 1 + NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    bulk->worker.data = p;
    bulk->worker.len = ngx_sprintf(p, "%V:%P", &cycle->hostname, ngx_pid) - p;

    bulk->st = st;
    bulk->tick.handler = ngx_http_cwmp_bulk_tick;
    bulk->tick.data = bulk;
    bulk->tick.log = cycle->log;
    bulk->tick.cancelable = 1;

    st->bulk = bulk;

    ngx_add_timer(&bulk->tick, NGX_HTTP_CWMP_BULK_TICK);

    return NGX_OK;
}


void
ngx_http_cwmp_store_bulk_exit(ngx_http_cwmp_store_t *st)
{
    ngx_http_cwmp_bulk_t  *bulk;

    bulk = st->bulk;

    if (bulk && bulk->tick.timer_set) {
        ngx_del_timer(&bulk->tick);
    }
}


/* every second, when no batch of the last is still running: the jobs */

static void
ngx_http_cwmp_bulk_tick(ngx_event_t *ev)
{
    ngx_pool_t                   *pool;
    ngx_http_cwmp_bulk_t         *bulk;
    ngx_http_cwmp_redis_op_t     *op;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    bulk = ev->data;

    if (bulk->batches >= NGX_HTTP_CWMP_BULK_RUNNING) {
        goto next;
    }

    pool = ngx_create_pool(512, ev->log);
    if (pool == NULL) {
        goto next;
    }

    owner.pool = pool;
    owner.log = ev->log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_cmd(&c, bulk->st, &owner, 4, "SRANDMEMBER")
        == NGX_OK)
    {
        ngx_http_cwmp_store_arg_key(&c, "bulks");
        ngx_http_cwmp_store_arg_text(&c, NGX_HTTP_CWMP_BULK_JOBS);

        op = ngx_http_cwmp_store_op(&c, 1, ev->log);

        if (op) {
            op->data = bulk;
            op->reply = ngx_http_cwmp_bulk_jobs;
            op->done = ngx_http_cwmp_bulk_ignore;
            op->timer.cancelable = 1;

            (void) ngx_http_cwmp_redis_submit(bulk->st->redis, op, NULL,
                                              ev->log);
        }
    }

    ngx_destroy_pool(pool);

next:

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_CWMP_BULK_TICK);
    }
}


/* SRANDMEMBER cwmp:bulks 16: a batch for each job named */

static ngx_int_t
ngx_http_cwmp_bulk_jobs(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_uint_t                   j;
    ngx_pool_t                  *pool;
    redisReply                  *rr;
    ngx_http_cwmp_bulk_t        *bulk;
    ngx_http_cwmp_bulk_batch_t  *b;

    rr = reply;
    bulk = op->data;

    if (rr->type != REDIS_REPLY_ARRAY) {
        return NGX_OK;
    }

    for (j = 0; j < rr->elements; j++) {
        if (rr->element[j]->type != REDIS_REPLY_STRING
            || rr->element[j]->len == 0)
        {
            continue;
        }

        pool = ngx_create_pool(4096, bulk->tick.log);
        if (pool == NULL) {
            return NGX_OK;
        }

        b = ngx_pcalloc(pool, sizeof(ngx_http_cwmp_bulk_batch_t));
        if (b == NULL) {
            ngx_destroy_pool(pool);
            return NGX_OK;
        }

        b->bulk = bulk;
        b->pool = pool;
        b->job.len = rr->element[j]->len;
        b->job.data = ngx_pnalloc(pool, b->job.len);

        if (b->job.data == NULL) {
            ngx_destroy_pool(pool);
            return NGX_OK;
        }

        ngx_memcpy(b->job.data, rr->element[j]->str, b->job.len);

        bulk->batches++;
        ngx_http_cwmp_bulk_claim(b);
    }

    return NGX_OK;
}


static void
ngx_http_cwmp_bulk_claim(ngx_http_cwmp_bulk_batch_t *b)
{
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    owner.pool = b->pool;
    owner.log = b->bulk->tick.log;
    owner.data = NULL;

    b->answer = NGX_HTTP_CWMP_BULK_STEP_WAIT;
    b->pushed = 0;
    b->failed = 0;
    b->reached = 0;
    b->devices.nelts = 0;

    if (ngx_http_cwmp_store_script(&c, b->bulk->st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_BULK_STEP, &b->job, 4)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    ngx_http_cwmp_store_arg_text(&c, "claim");
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
    ngx_http_cwmp_store_arg(&c, &b->bulk->worker);
    ngx_http_cwmp_store_arg_num(&c, NGX_HTTP_CWMP_BULK_BATCH);

    if (ngx_http_cwmp_bulk_send(b, &c, b, ngx_http_cwmp_bulk_claimed,
                                ngx_http_cwmp_bulk_claim_done)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
    }
}


/* a reply's element i as a string copied into the batch's pool */

static ngx_int_t
ngx_http_cwmp_bulk_copy(ngx_http_cwmp_bulk_batch_t *b, redisReply *rr,
    ngx_uint_t i, ngx_str_t *s)
{
    redisReply  *e;

    ngx_str_null(s);

    if (i >= rr->elements) {
        return NGX_OK;
    }

    e = rr->element[i];

    if (e->type == REDIS_REPLY_INTEGER) {
        s->data = ngx_pnalloc(b->pool, NGX_INT64_LEN);
        if (s->data == NULL) {
            return NGX_ERROR;
        }

        s->len = ngx_sprintf(s->data, "%L", (int64_t) e->integer) - s->data;
        return NGX_OK;
    }

    if (e->type != REDIS_REPLY_STRING) {
        return NGX_OK;
    }

    s->data = ngx_pnalloc(b->pool, e->len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, e->str, e->len);
    s->data[e->len] = '\0';
    s->len = e->len;

    return NGX_OK;
}


/* bulk_step.lua's claim: GO (what to push to whom), WAIT, STOPPED, ... */

static ngx_int_t
ngx_http_cwmp_bulk_claimed(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_str_t                    kind, n, connreq, *d;
    ngx_uint_t                   j;
    redisReply                  *rr;
    ngx_http_cwmp_bulk_batch_t  *b;

    rr = reply;
    b = op->data;

    if (rr->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, b->bulk->tick.log, 0,
                      "redis refused the bulk job \"%V\": \"%*s\"",
                      &b->job, (size_t) rr->len, rr->str);
        return NGX_ERROR;
    }

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements == 0
        || rr->element[0]->type != REDIS_REPLY_INTEGER)
    {
        return NGX_ERROR;
    }

    b->answer = (ngx_int_t) rr->element[0]->integer;

    if (b->answer == NGX_HTTP_CWMP_BULK_STEP_COMPLETE) {
        for (j = 0; j < 5; j++) {
            if (ngx_http_cwmp_bulk_copy(b, rr, j + 1, &b->counters[j])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return NGX_OK;
    }

    if (b->answer != NGX_HTTP_CWMP_BULK_STEP_GO
        && b->answer != NGX_HTTP_CWMP_BULK_STEP_CANCEL)
    {
        return NGX_OK;
    }

    b->cancelling = (b->answer == NGX_HTTP_CWMP_BULK_STEP_CANCEL);

    if (b->cancelling
        && ngx_http_cwmp_bulk_copy(b, rr, 8, &b->fanout) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_cwmp_bulk_copy(b, rr, 1, &kind) != NGX_OK
        || ngx_http_cwmp_bulk_copy(b, rr, 2, &b->key) != NGX_OK
        || ngx_http_cwmp_bulk_copy(b, rr, 3, &b->cursor) != NGX_OK
        || ngx_http_cwmp_bulk_copy(b, rr, 4, &n) != NGX_OK
        || ngx_http_cwmp_bulk_copy(b, rr, 5, &b->task) != NGX_OK
        || ngx_http_cwmp_bulk_copy(b, rr, 6, &connreq) != NGX_OK
        || ngx_http_cwmp_bulk_copy(b, rr, 7, &b->task_id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    b->n = (ngx_uint_t) ngx_atoi(n.data, n.len);
    b->connreq = (connreq.len == 1 && connreq.data[0] == '1');
    b->list = (kind.len == 4 && ngx_strncmp(kind.data, "list", 4) == 0);

    if (b->devices.elts == NULL
        && ngx_array_init(&b->devices, b->pool, NGX_HTTP_CWMP_BULK_BATCH,
                          sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (j = b->cancelling ? 9 : 8; b->list && j < rr->elements; j++) {
        d = ngx_array_push(&b->devices);
        if (d == NULL || ngx_http_cwmp_bulk_copy(b, rr, j, d) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_cwmp_bulk_claim_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_bulk_batch_t *b = op->data;

    u_char                       *colon;
    ngx_str_t                     name, from;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    if (rc != NGX_OK) {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    owner.pool = b->pool;
    owner.log = b->bulk->tick.log;
    owner.data = NULL;

    switch (b->answer) {

    case NGX_HTTP_CWMP_BULK_STEP_GO:
    case NGX_HTTP_CWMP_BULK_STEP_CANCEL:
        break;

    case NGX_HTTP_CWMP_BULK_STEP_COMPLETE:
        ngx_http_cwmp_bulk_complete(b);
        return;

    case NGX_HTTP_CWMP_BULK_STEP_STOPPED:
        ngx_http_cwmp_bulk_stopped(b);
        return;

    default:
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    if (b->list) {
        ngx_http_cwmp_bulk_push(op, NGX_OK);
        return;
    }

    /* an index selector: the index must be one the ACS keeps */

    colon = ngx_strlchr(b->key.data, b->key.data + b->key.len, ':');
    name.data = b->key.data;
    name.len = colon ? (size_t) (colon - b->key.data) : b->key.len;

    if (colon == NULL || !ngx_http_cwmp_store_indexed(b->bulk->st, &name)) {
        if (ngx_http_cwmp_store_script(&c, b->bulk->st, &owner,
                                       NGX_HTTP_CWMP_SCRIPT_BULK_STEP,
                                       &b->job, 3)
            == NGX_OK)
        {
            ngx_http_cwmp_store_arg_text(&c, "fail");
            ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
            ngx_http_cwmp_store_arg_text(&c, "selector: that parameter is "
                                         "not indexed (cwmp_index)");
            (void) ngx_http_cwmp_bulk_send(b, &c, b, NULL,
                                           ngx_http_cwmp_bulk_advanced);
            return;
        }

        ngx_http_cwmp_bulk_free(b);
        return;
    }

    if (ngx_http_cwmp_store_cmd(&c, b->bulk->st, &owner, 8, "ZRANGE")
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    if (b->cursor.len) {
        from.data = ngx_pnalloc(b->pool, b->cursor.len + 1);
        if (from.data == NULL) {
            ngx_http_cwmp_bulk_free(b);
            return;
        }

        from.data[0] = '(';
        ngx_memcpy(from.data + 1, b->cursor.data, b->cursor.len);
        from.len = b->cursor.len + 1;

    } else {
        ngx_str_set(&from, "-");
    }

    ngx_http_cwmp_store_arg_tagged(&c, "index:{}", &b->key);
    ngx_http_cwmp_store_arg(&c, &from);
    ngx_http_cwmp_store_arg_text(&c, "+");
    ngx_http_cwmp_store_arg_text(&c, "BYLEX");
    ngx_http_cwmp_store_arg_text(&c, "LIMIT");
    ngx_http_cwmp_store_arg_text(&c, "0");
    ngx_http_cwmp_store_arg_num(&c, b->n);

    if (ngx_http_cwmp_bulk_send(b, &c, b, ngx_http_cwmp_bulk_selected,
                                ngx_http_cwmp_bulk_push)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
    }
}


/* ZRANGE of the index: the batch's devices */

static ngx_int_t
ngx_http_cwmp_bulk_selected(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_uint_t                   j;
    ngx_str_t                   *d;
    redisReply                  *rr;
    ngx_http_cwmp_bulk_batch_t  *b;

    rr = reply;
    b = op->data;

    if (rr->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    for (j = 0; j < rr->elements; j++) {

        if (b->cancelling && rr->element[j]->type == REDIS_REPLY_STRING
            && ngx_http_cwmp_bulk_after(rr->element[j], &b->fanout))
        {
            /* past where the fan-out went: nothing queued there */
            b->reached = 1;
            break;
        }

        d = ngx_array_push(&b->devices);
        if (d == NULL || ngx_http_cwmp_bulk_copy(b, rr, j, d) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a member of the index after the fan-out's cursor (byte order, BYLEX) */

static ngx_uint_t
ngx_http_cwmp_bulk_after(redisReply *e, ngx_str_t *cursor)
{
    size_t     n;
    ngx_int_t  rc;

    n = ngx_min((size_t) e->len, cursor->len);
    rc = ngx_memcmp(e->str, cursor->data, n);

    return rc > 0 || (rc == 0 && (size_t) e->len > cursor->len);
}


/* the devices known: bulk_push.lua on each one's slot */

static void
ngx_http_cwmp_bulk_push(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_bulk_batch_t *b = op->data;

    ngx_str_t                    *d;
    ngx_uint_t                    j;
    ngx_http_cwmp_bulk_push_t    *push;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    if (rc != NGX_OK) {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    owner.pool = b->pool;
    owner.log = b->bulk->tick.log;
    owner.data = NULL;

    d = b->devices.elts;

    for (j = 0; j < b->devices.nelts; j++) {
        if (d[j].len == 0) {
            continue;
        }

        if (b->cancelling) {
            /* FCALL cwmp_cancel 1 <device key> <task id> */

            if (ngx_http_cwmp_store_cmd(&c, b->bulk->st, &owner, 5, "FCALL")
                != NGX_OK)
            {
                b->failed++;
                continue;
            }

            ngx_http_cwmp_store_arg_text(&c, "cwmp_cancel");
            ngx_http_cwmp_store_arg_text(&c, "1");
            ngx_http_cwmp_store_arg_tagged(&c, "", &d[j]);
            ngx_http_cwmp_store_arg(&c, &b->task_id);

        } else if (ngx_http_cwmp_store_script(&c, b->bulk->st, &owner,
                                              NGX_HTTP_CWMP_SCRIPT_BULK_PUSH,
                                              &d[j], 2)
                   == NGX_OK)
        {
            ngx_http_cwmp_store_arg(&c, &b->task);
            ngx_http_cwmp_store_arg(&c, &b->task_id);

        } else {
            b->failed++;
            continue;
        }

        push = ngx_palloc(b->pool, sizeof(ngx_http_cwmp_bulk_push_t));
        if (push == NULL) {
            b->failed++;
            continue;
        }

        push->batch = b;
        push->device = d[j];

        if (ngx_http_cwmp_bulk_send(b, &c, push, ngx_http_cwmp_bulk_pushed,
                                    ngx_http_cwmp_bulk_push_done)
            != NGX_OK)
        {
            b->failed++;
            continue;
        }

        b->pending++;
    }

    if (b->pending == 0) {
        ngx_http_cwmp_bulk_advance(b);
    }
}


/* QUEUED: with connreq, the device is asked to connect */

static ngx_int_t
ngx_http_cwmp_bulk_pushed(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                   *rr;
    ngx_http_cwmp_bulk_push_t    *push;
    ngx_http_cwmp_bulk_batch_t   *b;

    rr = reply;
    push = op->data;
    b = push->batch;

    if (b->cancelling) {
        /*
         * "cancelled", or an error saying the task has finished, is in
         * flight or pending, or was never queued there: nothing to do
         */

        if (rr->type != REDIS_REPLY_STATUS && rr->type != REDIS_REPLY_STRING)
        {
            return NGX_OK;
        }

        b->pushed++;

        /* its cancelled result relayed now */
        ngx_http_cwmp_bulk_tell(b, "relay", &push->device);

        return NGX_OK;
    }

    if (rr->type != REDIS_REPLY_INTEGER) {
        return NGX_ERROR;
    }

    if (rr->integer != NGX_HTTP_CWMP_BULK_PUSH_QUEUED) {
        return NGX_OK;
    }

    b->pushed++;

    if (b->connreq) {
        ngx_http_cwmp_bulk_tell(b, "connreq", &push->device);
    }

    return NGX_OK;
}


/*
 * XADD <stream> MAXLEN ~ 100000 * device <ID>: a connection request
 * (cwmp:connreq), or a relay asked for (cwmp:relay); its answer changes
 * nothing
 */

static void
ngx_http_cwmp_bulk_tell(ngx_http_cwmp_bulk_batch_t *b, char *stream,
    ngx_str_t *device)
{
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    owner.pool = b->pool;
    owner.log = b->bulk->tick.log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_cmd(&c, b->bulk->st, &owner, 8, "XADD")
        != NGX_OK)
    {
        return;
    }

    ngx_http_cwmp_store_arg_key(&c, stream);
    ngx_http_cwmp_store_arg_text(&c, "MAXLEN");
    ngx_http_cwmp_store_arg_text(&c, "~");
    ngx_http_cwmp_store_arg_text(&c, "100000");
    ngx_http_cwmp_store_arg_text(&c, "*");
    ngx_http_cwmp_store_arg_text(&c, "device");
    ngx_http_cwmp_store_arg(&c, device);

    (void) ngx_http_cwmp_bulk_send(b, &c, NULL, NULL,
                                   ngx_http_cwmp_bulk_ignore);
}


static void
ngx_http_cwmp_bulk_push_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_bulk_push_t *push = op->data;

    ngx_http_cwmp_bulk_batch_t  *b;

    b = push->batch;

    if (rc != NGX_OK) {
        b->failed++;
    }

    if (--b->pending == 0) {
        ngx_http_cwmp_bulk_advance(b);
    }
}


/*
 * bulk_step.lua's advance: the cursor moves past the batch (a failed push
 * leaves it where it was: the batch is claimed again, and the devices
 * that got the task do not get it twice)
 */

static void
ngx_http_cwmp_bulk_advance(ngx_http_cwmp_bulk_batch_t *b)
{
    ngx_str_t                     cursor, *d;
    ngx_uint_t                    offset;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    if (b->failed) {
        ngx_log_error(NGX_LOG_ERR, b->bulk->tick.log, 0,
                      "cwmp: bulk job \"%V\": %ui of %ui devices not "
                      "reached: the batch is tried again", &b->job,
                      b->failed, b->devices.nelts);
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    d = b->devices.elts;

    if (b->list) {
        offset = (b->cursor.len ? (ngx_uint_t) ngx_atoi(b->cursor.data,
                                                        b->cursor.len)
                                : 0)
                 + b->devices.nelts;

        cursor.data = ngx_pnalloc(b->pool, NGX_INT_T_LEN);
        if (cursor.data == NULL) {
            ngx_http_cwmp_bulk_free(b);
            return;
        }

        cursor.len = ngx_sprintf(cursor.data, "%ui", offset) - cursor.data;

    } else {
        cursor = b->devices.nelts ? d[b->devices.nelts - 1] : b->cursor;
    }

    owner.pool = b->pool;
    owner.log = b->bulk->tick.log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_script(&c, b->bulk->st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_BULK_STEP, &b->job, 7)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    if (b->cancelling) {
        ngx_http_cwmp_store_arg_text(&c, "cancelled");
        ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
        ngx_http_cwmp_store_arg(&c, &b->bulk->worker);
        ngx_http_cwmp_store_arg(&c, &cursor);
        ngx_http_cwmp_store_arg_num(&c, b->pushed);
        ngx_http_cwmp_store_arg_text(&c, (b->reached
                                          || b->devices.nelts < b->n)
                                         ? "1" : "0");

        b->answer = NGX_HTTP_CWMP_BULK_STEP_WAIT;

        if (ngx_http_cwmp_bulk_send(b, &c, b, ngx_http_cwmp_bulk_answer,
                                    ngx_http_cwmp_bulk_advanced)
            != NGX_OK)
        {
            ngx_http_cwmp_bulk_free(b);
        }

        return;
    }

    ngx_http_cwmp_store_arg_text(&c, "advance");
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
    ngx_http_cwmp_store_arg(&c, &b->bulk->worker);
    ngx_http_cwmp_store_arg(&c, &cursor);
    ngx_http_cwmp_store_arg_num(&c, b->devices.nelts);
    ngx_http_cwmp_store_arg_num(&c, b->pushed);
    ngx_http_cwmp_store_arg_text(&c, b->devices.nelts < b->n ? "1" : "0");

    b->answer = NGX_HTTP_CWMP_BULK_STEP_WAIT;

    if (ngx_http_cwmp_bulk_send(b, &c, b, ngx_http_cwmp_bulk_answer,
                                ngx_http_cwmp_bulk_advanced)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
    }
}


/* {answer, ...}: the first element */

static ngx_int_t
ngx_http_cwmp_bulk_answer(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                  *rr;
    ngx_http_cwmp_bulk_batch_t  *b;

    rr = reply;
    b = op->data;

    if (rr->type == REDIS_REPLY_ARRAY && rr->elements
        && rr->element[0]->type == REDIS_REPLY_INTEGER)
    {
        b->answer = (ngx_int_t) rr->element[0]->integer;
    }

    return NGX_OK;
}


/* advanced: another batch at once when the rate allows, or finished */

static void
ngx_http_cwmp_bulk_advanced(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_bulk_batch_t *b = op->data;

    if (rc == NGX_OK && b->answer == NGX_HTTP_CWMP_BULK_STEP_CONTINUE
        && !ngx_exiting)
    {
        ngx_http_cwmp_bulk_claim(b);
        return;
    }

    if (rc == NGX_OK && b->answer == NGX_HTTP_CWMP_BULK_STEP_COMPLETE) {
        /* the next claim reports it */
        ngx_http_cwmp_bulk_claim(b);
        return;
    }

    ngx_http_cwmp_bulk_free(b);
}


/*
 * Every task finished: the job's end on the event stream of its shard
 * (shard_append.lua, id "bulk/<job>/done": once), then "reported"
 */

static void
ngx_http_cwmp_bulk_complete(ngx_http_cwmp_bulk_batch_t *b)
{
    u_char                        tag[NGX_INT_T_LEN];
    ngx_str_t                     shard, id;
    ngx_uint_t                    j;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    static char  *names[] = { "targeted", "queued", "done", "fault",
                              "cancelled" };

    owner.pool = b->pool;
    owner.log = b->bulk->tick.log;
    owner.data = NULL;

    shard.data = tag;
    shard.len = ngx_http_cwmp_store_shard(&b->job, tag);

    id.data = ngx_pnalloc(b->pool, b->job.len + sizeof("bulk//done"));
    if (id.data == NULL) {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    id.len = ngx_sprintf(id.data, "bulk/%V/done", &b->job) - id.data;

    if (ngx_http_cwmp_store_script(&c, b->bulk->st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_SHARD_APPEND, &shard,
                                   6 + 2 * 8)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) b->bulk->st->fleet.retention);
    ngx_http_cwmp_store_arg_text(&c, "1");
    ngx_http_cwmp_store_arg(&c, &id);
    ngx_http_cwmp_store_arg_text(&c, "events");
    ngx_http_cwmp_store_arg_text(&c, "8");
    ngx_http_cwmp_store_arg_text(&c, "type");
    ngx_http_cwmp_store_arg_text(&c, "bulk_complete");
    ngx_http_cwmp_store_arg_text(&c, "job");
    ngx_http_cwmp_store_arg(&c, &b->job);
    ngx_http_cwmp_store_arg_text(&c, "time");
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());

    for (j = 0; j < 5; j++) {
        ngx_http_cwmp_store_arg_text(&c, names[j]);
        ngx_http_cwmp_store_arg(&c, &b->counters[j]);
    }

    if (ngx_http_cwmp_bulk_send(b, &c, b, NULL, ngx_http_cwmp_bulk_reported)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
    }
}


/* the end on the stream: the job is reported, and off cwmp:bulks */

static void
ngx_http_cwmp_bulk_reported(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_bulk_batch_t *b = op->data;

    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    if (rc != NGX_OK) {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    owner.pool = b->pool;
    owner.log = b->bulk->tick.log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_script(&c, b->bulk->st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_BULK_STEP, &b->job, 2)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
        return;
    }

    ngx_http_cwmp_store_arg_text(&c, "reported");
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());

    ngx_log_error(NGX_LOG_NOTICE, b->bulk->tick.log, 0,
                  "cwmp: bulk job \"%V\" complete", &b->job);

    b->answer = NGX_HTTP_CWMP_BULK_STEP_STOPPED;

    if (ngx_http_cwmp_bulk_send(b, &c, b, NULL,
                                ngx_http_cwmp_bulk_claim_done)
        != NGX_OK)
    {
        ngx_http_cwmp_bulk_free(b);
    }
}


/* cancelled, in error or done: the job leaves cwmp:bulks */

static void
ngx_http_cwmp_bulk_stopped(ngx_http_cwmp_bulk_batch_t *b)
{
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    owner.pool = b->pool;
    owner.log = b->bulk->tick.log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_cmd(&c, b->bulk->st, &owner, 3, "SREM")
        == NGX_OK)
    {
        ngx_http_cwmp_store_arg_key(&c, "bulks");
        ngx_http_cwmp_store_arg(&c, &b->job);

        (void) ngx_http_cwmp_bulk_send(b, &c, NULL, NULL,
                                       ngx_http_cwmp_bulk_ignore);
    }

    ngx_http_cwmp_bulk_free(b);
}


/* an op of the batch's; done is called once, whatever became of it */

static ngx_int_t
ngx_http_cwmp_bulk_send(ngx_http_cwmp_bulk_batch_t *b,
    ngx_http_cwmp_store_cmd_t *c, void *data,
    ngx_http_cwmp_redis_reply_pt reply, ngx_http_cwmp_redis_done_pt done)
{
    ngx_http_cwmp_redis_op_t  *op;

    op = ngx_http_cwmp_store_op(c, 1, b->bulk->tick.log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->data = data;
    op->reply = reply;
    op->done = done;
    op->timer.cancelable = 1;

    if (ngx_http_cwmp_redis_submit(b->bulk->st->redis, op, NULL,
                                   b->bulk->tick.log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_cwmp_bulk_ignore(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    /* a write whose answer changes nothing */
}


static void
ngx_http_cwmp_bulk_free(ngx_http_cwmp_bulk_batch_t *b)
{
    b->bulk->batches--;
    ngx_destroy_pool(b->pool);
}

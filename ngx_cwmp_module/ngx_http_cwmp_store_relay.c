
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The relay between a device's slot and the shared keys.  A device's
 * script never writes a key of another slot (Redis Cluster refuses it): it
 * writes what the shared keys must learn (a result, a CPE request, the
 * index entry, a campaign step) into the device's outbox (a stream,
 * results.lua), and the store reads the outbox in the same round trip as
 * the script.  Then, before the owner hears back:
 *
 *   shard_append.lua   the device's shard (cwmp:results:{S},
 *                      cwmp:requests:{S}, cwmp:events:{S}), each entry
 *                      once (its id is remembered for an hour); the
 *                      index entries as plain ZADD / ZREM (idempotent);
 *   campaign.lua       a campaign's counters and stop rules
 *                      (cwmp:campaign:{<policy>}), each step once;
 *   outbox_done.lua    the entries relayed leave the outbox, and an
 *                      outbox left empty is deleted.
 *
 * A relay that fails leaves its entries in the outbox: the device's next
 * call relays them, and so does the sweeper (one worker per host SCANs
 * each master for outboxes a dead worker left).  Nothing the script stored
 * is lost between the two slots, nothing is relayed twice.
 *
 * The Inform's device index entry comes in session_open.lua's answer
 * instead (a stream made and deleted for it was a third of a periodic
 * session's Redis work): relayed at once, before the owner hears back,
 * and parked in the outbox when its relay fails.
 *
 * The campaigns' counters go the other way: every second each worker reads
 * them (paused, in_progress) for the policies, which a device's script
 * cannot read either.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>

#include "ngx_http_cwmp_store.h"


#define NGX_HTTP_CWMP_RELAY_COUNTERS  1000    /* ms, the campaigns read */
#define NGX_HTTP_CWMP_RELAY_SWEEP     5000    /* ms, a SCAN step */
#define NGX_HTTP_CWMP_RELAY_DRAINS    16      /* outboxes at once */


typedef struct {
    ngx_http_cwmp_store_t           *st;
    ngx_event_t                      counters;
    ngx_event_t                      sweep;
    ngx_uint_t                       sweeps;     /* SCAN steps so far */
    ngx_str_t                        cursor[64]; /* per master */
    u_char                           cursor_buf[64][NGX_INT64_LEN];
    ngx_uint_t                       drains;     /* in progress */
    ngx_uint_t                       scanning;
    ngx_uint_t                       master;     /* the one scanned */
} ngx_http_cwmp_relay_t;


static ngx_int_t ngx_http_cwmp_store_relay_appends(
    ngx_http_cwmp_store_ctx_t *ctx);
static ngx_uint_t ngx_http_cwmp_store_relay_deferrable(
    ngx_http_cwmp_store_ctx_t *ctx);
static ngx_uint_t ngx_http_cwmp_store_for_shard(
    ngx_http_cwmp_store_entry_t *e);
static ngx_int_t ngx_http_cwmp_store_relay_index(
    ngx_http_cwmp_store_ctx_t *ctx, ngx_http_cwmp_store_entry_t *e);
static ngx_int_t ngx_http_cwmp_store_relay_device(
    ngx_http_cwmp_store_ctx_t *ctx, ngx_http_cwmp_store_entry_t *e);
static ngx_int_t ngx_http_cwmp_store_relay_campaign(
    ngx_http_cwmp_store_ctx_t *ctx, ngx_str_t *policy);
static ngx_int_t ngx_http_cwmp_store_relay_bulk(
    ngx_http_cwmp_store_ctx_t *ctx, ngx_str_t *job);
static ngx_int_t ngx_http_cwmp_store_relay_delete(
    ngx_http_cwmp_store_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_store_relay_park(
    ngx_http_cwmp_store_ctx_t *ctx);
static ngx_str_t *ngx_http_cwmp_store_field(ngx_http_cwmp_store_entry_t *e,
    char *name);
static ngx_int_t ngx_http_cwmp_store_relayed(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_entry_id(ngx_http_cwmp_store_ctx_t *ctx,
    ngx_http_cwmp_store_entry_t *e, ngx_str_t *id);

static void ngx_http_cwmp_store_counters(ngx_event_t *ev);
static ngx_int_t ngx_http_cwmp_store_counted(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_store_counters_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_store_sweep(ngx_event_t *ev);
static ngx_int_t ngx_http_cwmp_store_scanned(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_store_scan_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_store_drain(ngx_http_cwmp_relay_t *relay,
    u_char *key, size_t len, char *why);
static void ngx_http_cwmp_store_drained(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_store_relay_outbox(
    ngx_http_cwmp_redis_op_t *op, ngx_uint_t i, void *reply);


/* a device's shard, 0 to SHARDS - 1 (its slot's last bits), as text */

ngx_uint_t
ngx_http_cwmp_store_shard(ngx_str_t *device_id, u_char *tag)
{
    ngx_uint_t  shard;

    shard = ngx_http_cwmp_redis_slot(device_id->data, device_id->len)
            & (NGX_HTTP_CWMP_SHARDS - 1);

    return ngx_sprintf(tag, "%ui", shard) - tag;
}


/*
 * XRANGE of the outbox: [[id, [field, value, ...]], ...], copied into the
 * call's pool; "k" is the entry's kind
 */

ngx_int_t
ngx_http_cwmp_store_relay_read(ngx_http_cwmp_store_ctx_t *ctx, void *reply)
{
    u_char                       *p, *q;
    ngx_str_t                     s;
    ngx_uint_t                    j, k;
    redisReply                   *rr, *e, *f;
    ngx_http_cwmp_store_entry_t  *entry;

    rr = reply;

    if (rr->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, ctx->log, 0,
                      "redis: an outbox read gave no entries");
        return NGX_OK;      /* the script's outcome stands */
    }

    if (rr->elements == 0) {
        return NGX_OK;
    }

    if (ctx->outbox == NULL) {
        ctx->outbox = ngx_array_create(ctx->pool, rr->elements,
                                       sizeof(ngx_http_cwmp_store_entry_t));
        if (ctx->outbox == NULL) {
            return NGX_ERROR;
        }
    }

    for (j = 0; j < rr->elements; j++) {
        e = rr->element[j];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[0]->type != REDIS_REPLY_STRING
            || e->element[1]->type != REDIS_REPLY_ARRAY)
        {
            continue;
        }

        f = e->element[1];

        entry = ngx_array_push(ctx->outbox);
        if (entry == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(entry, sizeof(ngx_http_cwmp_store_entry_t));

        entry->fields = ngx_palloc(ctx->pool,
                                   (f->elements + 1) * sizeof(ngx_str_t));
        if (entry->fields == NULL) {
            return NGX_ERROR;
        }

        s.len = e->element[0]->len;
        s.data = (u_char *) e->element[0]->str;

        entry->id.data = ngx_pstrdup(ctx->pool, &s);
        entry->id.len = s.len;

        if (entry->id.data == NULL) {
            return NGX_ERROR;
        }

        for (k = 0; k + 1 < f->elements; k += 2) {
            if (f->element[k]->type != REDIS_REPLY_STRING
                || f->element[k + 1]->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            s.len = f->element[k]->len + f->element[k + 1]->len;
            p = ngx_pnalloc(ctx->pool, s.len + 1);
            if (p == NULL) {
                return NGX_ERROR;
            }

            q = ngx_cpymem(p, f->element[k]->str, f->element[k]->len);
            ngx_memcpy(q, f->element[k + 1]->str, f->element[k + 1]->len);

            if (f->element[k]->len == 1 && f->element[k]->str[0] == 'k') {
                entry->kind.data = q;
                entry->kind.len = f->element[k + 1]->len;
                continue;
            }

            entry->fields[entry->nfields].data = p;
            entry->fields[entry->nfields].len = f->element[k]->len;
            entry->fields[entry->nfields + 1].data = q;
            entry->fields[entry->nfields + 1].len = f->element[k + 1]->len;
            entry->nfields += 2;
        }
    }

    return NGX_OK;
}


/*
 * The device index entry a script answered (session_open.lua: time,
 * until), in no outbox: relayed with the call's outbox entries, never
 * deferred, and parked in the outbox when its relay fails
 */

ngx_int_t
ngx_http_cwmp_store_relay_answered(ngx_http_cwmp_store_ctx_t *ctx,
    void *time, void *until)
{
    redisReply                   *rr[2];
    ngx_str_t                    *f;
    ngx_uint_t                    k;
    ngx_http_cwmp_store_entry_t  *e;

    if (ctx->outbox == NULL) {
        ctx->outbox = ngx_array_create(ctx->pool, 2,
                                       sizeof(ngx_http_cwmp_store_entry_t));
        if (ctx->outbox == NULL) {
            return NGX_ERROR;
        }
    }

    e = ngx_array_push(ctx->outbox);
    f = ngx_palloc(ctx->pool, 6 * sizeof(ngx_str_t));

    if (e == NULL || f == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(e, sizeof(ngx_http_cwmp_store_entry_t));
    ngx_str_set(&e->kind, "index");
    e->fields = f;
    e->nfields = 6;

    ngx_str_set(&f[0], "device");
    f[1] = ctx->device_id;
    ngx_str_set(&f[2], "time");
    ngx_str_set(&f[4], "until");

    rr[0] = time;
    rr[1] = until;

    for (k = 0; k < 2; k++) {
        f[3 + 2 * k].len = rr[k]->len;
        f[3 + 2 * k].data = ngx_pnalloc(ctx->pool, rr[k]->len);

        if (f[3 + 2 * k].data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(f[3 + 2 * k].data, rr[k]->str, rr[k]->len);
    }

    return NGX_OK;
}


/*
 * The relay's next step for a call whose outbox had entries: the appends,
 * then the delete.  NGX_OK: ops in flight; NGX_DONE: the relay is over
 */

ngx_int_t
ngx_http_cwmp_store_relay(ngx_http_cwmp_store_ctx_t *ctx)
{
    ngx_int_t  rc;

    switch (ctx->relaying) {

    case 0:
        if (ctx->defer && ngx_http_cwmp_store_relay_deferrable(ctx)) {
            return NGX_DONE;
        }

        ctx->relaying = 1;

        if (ngx_http_cwmp_store_relay_appends(ctx) == NGX_OK) {
            return NGX_OK;
        }

        /* nothing to append (or a failure): to the delete */

        /* fall through */

    case 1:
        if (ctx->relay_failed) {
            /* Redis said why, once per outage (the Redis layer) */
            ngx_log_error(NGX_LOG_INFO, ctx->log, 0,
                          "cwmp: the outbox of \"%V\" is not relayed yet: "
                          "its next call, or the sweeper, relays it",
                          &ctx->device_id);

            ctx->relaying = 3;
            rc = ngx_http_cwmp_store_relay_park(ctx);

            if (rc != NGX_OK && rc != NGX_DONE) {
                /* an answer's entry neither relayed nor parked */
                ctx->rc = NGX_ERROR;
            }

            return rc == NGX_OK ? NGX_OK : NGX_DONE;
        }

        ctx->relaying = 2;

        return ngx_http_cwmp_store_relay_delete(ctx) == NGX_OK
               ? NGX_OK : NGX_DONE;

    default:
        return NGX_DONE;
    }
}


/* one op per target slot: the device's shard, each campaign's */

static ngx_int_t
ngx_http_cwmp_store_relay_appends(ngx_http_cwmp_store_ctx_t *ctx)
{
    u_char                        tag[NGX_INT_T_LEN];
    ngx_int_t                     rc;
    ngx_str_t                     shard, id, *policy;
    ngx_uint_t                    i, j, n, nargs, device;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;
    ngx_http_cwmp_store_entry_t  *e;

    e = ctx->outbox->elts;

    owner.pool = ctx->pool;
    owner.log = ctx->log;
    owner.data = NULL;

    /* results, requests, events: shard_append.lua on the shard */

    n = 0;
    nargs = 0;

    for (i = 0; i < ctx->outbox->nelts; i++) {
        if (ngx_http_cwmp_store_for_shard(&e[i])) {
            n++;
            nargs += 3 + e[i].nfields;
        }
    }

    if (n) {
        shard.data = tag;
        shard.len = ngx_http_cwmp_store_shard(&ctx->device_id, tag);

        if (ngx_http_cwmp_store_script(&c, ctx->st, &owner,
                                       NGX_HTTP_CWMP_SCRIPT_SHARD_APPEND,
                                       &shard, 3 + nargs)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
        ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ctx->st->fleet.retention);
        ngx_http_cwmp_store_arg_num(&c, n);

        for (i = 0; i < ctx->outbox->nelts; i++) {
            if (!ngx_http_cwmp_store_for_shard(&e[i])) {
                continue;
            }

            if (ngx_http_cwmp_store_entry_id(ctx, &e[i], &id) != NGX_OK) {
                return NGX_ERROR;
            }

            ngx_http_cwmp_store_arg(&c, &id);
            ngx_http_cwmp_store_arg(&c, &e[i].kind);
            ngx_http_cwmp_store_arg_num(&c, e[i].nfields / 2);

            for (j = 0; j < e[i].nfields; j++) {
                ngx_http_cwmp_store_arg(&c, &e[i].fields[j]);
            }

            e[i].kind.len = 0;      /* on its way */
        }

        if (ngx_http_cwmp_store_ctx_submit(ctx, &c, 1,
                                           ngx_http_cwmp_store_relayed)
            != NGX_OK)
        {
            ctx->relay_failed = 1;
            return NGX_ERROR;
        }
    }

    /*
     * plain commands: the device index and "online" on the shard; the
     * value indexes, a key at a time (an op each, a slot each)
     */

    for (i = 0; i < ctx->outbox->nelts; i++) {
        device = (e[i].kind.len == 5
                  && ngx_strncmp(e[i].kind.data, "index", 5) == 0);

        if (!device && (e[i].kind.len != 3
                        || ngx_strncmp(e[i].kind.data, "idx", 3) != 0))
        {
            continue;
        }

        if (ctx->nops == NGX_HTTP_CWMP_STORE_OPS) {
            break;
        }

        rc = device ? ngx_http_cwmp_store_relay_device(ctx, &e[i])
                    : ngx_http_cwmp_store_relay_index(ctx, &e[i]);

        if (rc != NGX_OK) {
            ctx->relay_failed = 1;
            break;
        }
    }

    /*
     * the campaigns' steps, a policy at a time, and the bulk jobs' results,
     * a job at a time (an op each)
     */

    for (i = 0; i < ctx->outbox->nelts; i++) {
        if (e[i].kind.len == 0
            || (e[i].kind.len == 3
                && ngx_strncmp(e[i].kind.data, "idx", 3) == 0))
        {
            continue;
        }

        if (e[i].kind.len == 4 && ngx_strncmp(e[i].kind.data, "bulk", 4) == 0)
        {
            policy = ngx_http_cwmp_store_field(&e[i], "job");

            if (policy == NULL || policy->len == 0) {
                e[i].kind.len = 0;
                continue;
            }

            if (ctx->nops == NGX_HTTP_CWMP_STORE_OPS) {
                break;
            }

            if (ngx_http_cwmp_store_relay_bulk(ctx, policy) != NGX_OK) {
                ctx->relay_failed = 1;
                break;
            }

            continue;
        }

        policy = ngx_http_cwmp_store_field(&e[i], "policy");

        if (policy == NULL) {
            e[i].kind.len = 0;      /* not ours to read: deleted */
            continue;
        }

        if (ctx->nops == NGX_HTTP_CWMP_STORE_OPS) {
            /* the rest with the device's next call */
            break;
        }

        if (ngx_http_cwmp_store_relay_campaign(ctx, policy) != NGX_OK) {
            ctx->relay_failed = 1;
            break;
        }
    }

    return ctx->nops ? NGX_OK : NGX_DONE;
}


/*
 * Index entries and events only: nothing a consumer waits on (results,
 * CPE requests, campaign steps, bulk counts); they may wait in the outbox
 * for the device's next call
 */

static ngx_uint_t
ngx_http_cwmp_store_relay_deferrable(ngx_http_cwmp_store_ctx_t *ctx)
{
    ngx_str_t                    *k;
    ngx_uint_t                    i;
    ngx_http_cwmp_store_entry_t  *e;

    e = ctx->outbox->elts;

    for (i = 0; i < ctx->outbox->nelts; i++) {
        k = &e[i].kind;

        if (e[i].id.len == 0) {
            /* an answer's: in no outbox to wait in */
            return 0;
        }

        if (!((k->len == 5 && ngx_strncmp(k->data, "index", 5) == 0)
              || (k->len == 6 && ngx_strncmp(k->data, "events", 6) == 0)
              || (k->len == 3 && ngx_strncmp(k->data, "idx", 3) == 0)))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * what shard_append.lua relays: every kind but campaign steps, bulk counts
 * and indexes (the device index too: idempotent, plain commands)
 */

static ngx_uint_t
ngx_http_cwmp_store_for_shard(ngx_http_cwmp_store_entry_t *e)
{
    if (e->kind.len == 0
        || (e->kind.len == 5 && ngx_strncmp(e->kind.data, "index", 5) == 0))
    {
        return 0;
    }

    if ((e->kind.len == 8 && ngx_strncmp(e->kind.data, "campaign", 8) == 0)
        || (e->kind.len == 4 && ngx_strncmp(e->kind.data, "bulk", 4) == 0))
    {
        return 0;
    }

    return e->kind.len != 3 || ngx_strncmp(e->kind.data, "idx", 3) != 0;
}


/*
 * The device index entry (session_open.lua, cwmp_delete): "device <ID>
 * time <t> until <t>": ZADD GT into cwmp:devices:{<S>} and
 * cwmp:online:{<S>}; "op rem": ZREM from both.  One op of two commands on
 * the shard's slot, no script: a relay repeated writes the same (GT), so
 * no id is remembered.
 */

static ngx_int_t
ngx_http_cwmp_store_relay_device(ngx_http_cwmp_store_ctx_t *ctx,
    ngx_http_cwmp_store_entry_t *e)
{
    u_char                        tag[NGX_INT_T_LEN];
    ngx_str_t                     shard, *device, *op, *time, *until;
    ngx_uint_t                    rem, n, k;
    ngx_http_cwmp_store_cmd_t     c[2];
    ngx_http_cwmp_store_owner_t   owner;

    device = ngx_http_cwmp_store_field(e, "device");
    op = ngx_http_cwmp_store_field(e, "op");
    time = ngx_http_cwmp_store_field(e, "time");
    until = ngx_http_cwmp_store_field(e, "until");

    e->kind.len = 0;        /* on its way, or not ours to read: deleted */

    if (device == NULL || device->len == 0) {
        return NGX_OK;
    }

    rem = (op && op->len == 3 && ngx_strncmp(op->data, "rem", 3) == 0);

    if (!rem && time == NULL) {
        return NGX_OK;
    }

    owner.pool = ctx->pool;
    owner.log = ctx->log;
    owner.data = NULL;

    shard.data = tag;
    shard.len = ngx_http_cwmp_store_shard(device, tag);

    /* "online" only with an until (a removal: from both) */
    n = (rem || until) ? 2 : 1;

    for (k = 0; k < n; k++) {
        if (ngx_http_cwmp_store_cmd(&c[k], ctx->st, &owner, 5,
                                    rem ? "ZREM" : "ZADD")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_cwmp_store_arg_tagged(&c[k], k ? "online:{}" : "devices:{}",
                                       &shard);

        if (!rem) {
            ngx_http_cwmp_store_arg_text(&c[k], "GT");
            ngx_http_cwmp_store_arg(&c[k], k ? until : time);
        }

        ngx_http_cwmp_store_arg(&c[k], device);
    }

    return ngx_http_cwmp_store_ctx_submit(ctx, c, n,
                                          ngx_http_cwmp_store_relayed);
}


/*
 * An index entry (index.lua): ZADD or ZREM of the device in
 * cwmp:index:{<name>:<value>}, on that key's slot.  Idempotent: a relay
 * repeated writes the same; no id is remembered.
 */

static ngx_int_t
ngx_http_cwmp_store_relay_index(ngx_http_cwmp_store_ctx_t *ctx,
    ngx_http_cwmp_store_entry_t *e)
{
    ngx_str_t                    *op, *key, *device;
    ngx_uint_t                    add;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    op = ngx_http_cwmp_store_field(e, "op");
    key = ngx_http_cwmp_store_field(e, "key");
    device = ngx_http_cwmp_store_field(e, "device");

    e->kind.len = 0;        /* on its way, or not ours to read: deleted */

    if (op == NULL || key == NULL || key->len == 0 || device == NULL) {
        return NGX_OK;
    }

    add = (op->len == 3 && ngx_strncmp(op->data, "add", 3) == 0);

    owner.pool = ctx->pool;
    owner.log = ctx->log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_cmd(&c, ctx->st, &owner, 4, add ? "ZADD" : "ZREM")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg_tagged(&c, "index:{}", key);

    if (add) {
        ngx_http_cwmp_store_arg_text(&c, "0");
    }

    ngx_http_cwmp_store_arg(&c, device);

    return ngx_http_cwmp_store_ctx_submit(ctx, &c, 1,
                                          ngx_http_cwmp_store_relayed);
}


/* bulk_step.lua "count" on the job's slot, with its results in the outbox */

static ngx_int_t
ngx_http_cwmp_store_relay_bulk(ngx_http_cwmp_store_ctx_t *ctx, ngx_str_t *job)
{
    ngx_str_t                     id, *j, *v, none;
    ngx_uint_t                    i, n;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;
    ngx_http_cwmp_store_entry_t  *e;

    e = ctx->outbox->elts;
    n = 0;

    for (i = 0; i < ctx->outbox->nelts; i++) {
        j = (e[i].kind.len == 4
             && ngx_strncmp(e[i].kind.data, "bulk", 4) == 0)
            ? ngx_http_cwmp_store_field(&e[i], "job") : NULL;

        if (j && j->len == job->len
            && ngx_strncmp(j->data, job->data, j->len) == 0)
        {
            n++;
        }
    }

    owner.pool = ctx->pool;
    owner.log = ctx->log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_script(&c, ctx->st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_BULK_STEP, job,
                                   3 + 2 * n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&none, "");

    ngx_http_cwmp_store_arg_text(&c, "count");
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
    ngx_http_cwmp_store_arg_num(&c, n);

    for (i = 0; i < ctx->outbox->nelts; i++) {
        j = (e[i].kind.len == 4
             && ngx_strncmp(e[i].kind.data, "bulk", 4) == 0)
            ? ngx_http_cwmp_store_field(&e[i], "job") : NULL;

        if (j == NULL || j->len != job->len
            || ngx_strncmp(j->data, job->data, j->len) != 0)
        {
            continue;
        }

        if (ngx_http_cwmp_store_entry_id(ctx, &e[i], &id) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_cwmp_store_arg(&c, &id);
        v = ngx_http_cwmp_store_field(&e[i], "status");
        ngx_http_cwmp_store_arg(&c, v ? v : &none);

        e[i].kind.len = 0;
    }

    return ngx_http_cwmp_store_ctx_submit(ctx, &c, 1,
                                          ngx_http_cwmp_store_relayed);
}


/* campaign.lua on the policy's slot, with its steps in the outbox */

static ngx_int_t
ngx_http_cwmp_store_relay_campaign(ngx_http_cwmp_store_ctx_t *ctx,
    ngx_str_t *policy)
{
    ngx_str_t                     id, *p, *v, none;
    ngx_uint_t                    i, n;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;
    ngx_http_cwmp_store_entry_t  *e;

    e = ctx->outbox->elts;
    n = 0;

    for (i = 0; i < ctx->outbox->nelts; i++) {
        p = e[i].kind.len ? ngx_http_cwmp_store_field(&e[i], "policy") : NULL;

        if (p && p->len == policy->len
            && ngx_strncmp(p->data, policy->data, p->len) == 0)
        {
            n++;
        }
    }

    owner.pool = ctx->pool;
    owner.log = ctx->log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_script(&c, ctx->st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_CAMPAIGN, policy,
                                   2 + 4 * n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&none, "");

    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
    ngx_http_cwmp_store_arg_num(&c, n);

    for (i = 0; i < ctx->outbox->nelts; i++) {
        p = e[i].kind.len ? ngx_http_cwmp_store_field(&e[i], "policy") : NULL;

        if (p == NULL || p->len != policy->len
            || ngx_strncmp(p->data, policy->data, p->len) != 0)
        {
            continue;
        }

        if (ngx_http_cwmp_store_entry_id(ctx, &e[i], &id) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_cwmp_store_arg(&c, &id);
        v = ngx_http_cwmp_store_field(&e[i], "step");
        ngx_http_cwmp_store_arg(&c, v ? v : &none);
        v = ngx_http_cwmp_store_field(&e[i], "device");
        ngx_http_cwmp_store_arg(&c, v ? v : &ctx->device_id);
        v = ngx_http_cwmp_store_field(&e[i], "rules");
        ngx_http_cwmp_store_arg(&c, v ? v : &none);

        e[i].kind.len = 0;
    }

    return ngx_http_cwmp_store_ctx_submit(ctx, &c, 1,
                                          ngx_http_cwmp_store_relayed);
}


/* what was relayed (kind emptied as it went) out of the outbox */

static ngx_int_t
ngx_http_cwmp_store_relay_delete(ngx_http_cwmp_store_ctx_t *ctx)
{
    ngx_uint_t                    i, n;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;
    ngx_http_cwmp_store_entry_t  *e;

    e = ctx->outbox->elts;
    n = 0;

    for (i = 0; i < ctx->outbox->nelts; i++) {
        n += (e[i].kind.len == 0 && e[i].id.len);
    }

    if (n == 0) {
        return NGX_DONE;
    }

    owner.pool = ctx->pool;
    owner.log = ctx->log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_script(&c, ctx->st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_OUTBOX_DONE,
                                   &ctx->device_id, 1 + n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg_num(&c, n);

    for (i = 0; i < ctx->outbox->nelts; i++) {
        if (e[i].kind.len == 0 && e[i].id.len) {
            ngx_http_cwmp_store_arg(&c, &e[i].id);
        }
    }

    return ngx_http_cwmp_store_ctx_submit(ctx, &c, 1,
                                          ngx_http_cwmp_store_relayed);
}


/*
 * A relay that failed: the entries a script answered go into the device's
 * outbox, for its next call or the sweeper.  When that fails too, the
 * owner hears the call failed (the CPE's Inform is not answered: its
 * retry writes the entry).  NGX_DONE: nothing to park
 */

static ngx_int_t
ngx_http_cwmp_store_relay_park(ngx_http_cwmp_store_ctx_t *ctx)
{
    ngx_uint_t                    i, j, n;
    ngx_http_cwmp_store_cmd_t     c[NGX_HTTP_CWMP_STORE_OPS];
    ngx_http_cwmp_store_owner_t   owner;
    ngx_http_cwmp_store_entry_t  *e;

    e = ctx->outbox->elts;
    n = 0;

    owner.pool = ctx->pool;
    owner.log = ctx->log;
    owner.data = NULL;

    for (i = 0; i < ctx->outbox->nelts && n < NGX_HTTP_CWMP_STORE_OPS; i++) {
        if (e[i].id.len) {
            continue;
        }

        if (ngx_http_cwmp_store_cmd(&c[n], ctx->st, &owner,
                                    5 + e[i].nfields, "XADD")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_cwmp_store_arg(&c[n], &ctx->outbox_key);
        ngx_http_cwmp_store_arg_text(&c[n], "*");
        ngx_http_cwmp_store_arg_text(&c[n], "k");
        ngx_http_cwmp_store_arg_text(&c[n], "index");

        for (j = 0; j < e[i].nfields; j++) {
            ngx_http_cwmp_store_arg(&c[n], &e[i].fields[j]);
        }

        c[n].route = ctx->outbox_key;
        n++;
    }

    if (n == 0) {
        return NGX_DONE;
    }

    return ngx_http_cwmp_store_ctx_submit(ctx, c, n,
                                          ngx_http_cwmp_store_relayed);
}


/* "<device>/<entry id>": what the shard and the campaign remember */

static ngx_int_t
ngx_http_cwmp_store_entry_id(ngx_http_cwmp_store_ctx_t *ctx,
    ngx_http_cwmp_store_entry_t *e, ngx_str_t *id)
{
    uint32_t    crc;
    ngx_uint_t  j;

    /*
     * and a CRC32 of its fields: an outbox deleted when emptied
     * (outbox_done.lua) and made again within the same millisecond gives
     * its new first entry the id of the old one
     */

    ngx_crc32_init(crc);

    for (j = 0; j < e->nfields; j++) {
        ngx_crc32_update(&crc, e->fields[j].data, e->fields[j].len);
        ngx_crc32_update(&crc, (u_char *) "", 1);
    }

    ngx_crc32_final(crc);

    id->data = ngx_pnalloc(ctx->pool, ctx->device_id.len + 1 + e->id.len
                                      + 1 + 8);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    id->len = ngx_sprintf(id->data, "%V/%V/%08xD", &ctx->device_id, &e->id,
                          crc)
              - id->data;

    return NGX_OK;
}


static ngx_str_t *
ngx_http_cwmp_store_field(ngx_http_cwmp_store_entry_t *e, char *name)
{
    size_t      len;
    ngx_uint_t  j;

    len = ngx_strlen(name);

    for (j = 0; j + 1 < e->nfields; j += 2) {
        if (e->fields[j].len == len
            && ngx_strncmp(e->fields[j].data, name, len) == 0)
        {
            return &e->fields[j + 1];
        }
    }

    return NULL;
}


/* a relay command's answer: a count, or an error */

static ngx_int_t
ngx_http_cwmp_store_relayed(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                 *rr;
    ngx_http_cwmp_store_ctx_t  *ctx;

    rr = reply;
    ctx = op->data;

    if (rr->type == REDIS_REPLY_ERROR) {
        /*
         * once a call: its other commands meet the same refusal (a full
         * Redis refuses them all: a line each would flood the log)
         */

        if (ctx->relay_refused) {
            ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ctx->log, 0,
                           "cwmp: redis refused the relay of \"%V\" "
                           "again: \"%*s\"", &ctx->device_id,
                           (size_t) rr->len, rr->str);
        } else {
            ngx_log_error(NGX_LOG_ERR, ctx->log, 0,
                          "redis refused the relay of \"%V\": \"%*s\"",
                          &ctx->device_id, (size_t) rr->len, rr->str);
            ctx->relay_refused = 1;
        }

        if (rr->len >= 8 && ngx_strncmp(rr->str, "NOSCRIPT", 8) == 0) {
            ngx_http_cwmp_redis_reset(op, "scripts were flushed");
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/* --- the worker's loops -------------------------------------------------- */

ngx_int_t
ngx_http_cwmp_store_init_process(ngx_http_cwmp_store_t *st,
    ngx_cycle_t *cycle, ngx_array_t *campaigns, ngx_uint_t sweep)
{
    ngx_str_t                       *name;
    ngx_uint_t                       i;
    ngx_http_cwmp_relay_t           *relay;
    ngx_http_cwmp_store_counters_t  *k;

    relay = ngx_pcalloc(cycle->pool, sizeof(ngx_http_cwmp_relay_t));
    if (relay == NULL) {
        return NGX_ERROR;
    }

    relay->st = st;
    st->relay = relay;

    if (campaigns && campaigns->nelts) {
        st->counters = ngx_array_create(cycle->pool, campaigns->nelts,
                                   sizeof(ngx_http_cwmp_store_counters_t));
        if (st->counters == NULL) {
            return NGX_ERROR;
        }

        name = campaigns->elts;

        for (i = 0; i < campaigns->nelts; i++) {
            k = ngx_array_push(st->counters);
            if (k == NULL) {
                return NGX_ERROR;
            }

            ngx_memzero(k, sizeof(ngx_http_cwmp_store_counters_t));
            k->name = name[i];
            k->paused.data = k->paused_buf;
            k->in_progress.data = k->in_progress_buf;
        }

        relay->counters.handler = ngx_http_cwmp_store_counters;
        relay->counters.data = relay;
        relay->counters.log = cycle->log;
        relay->counters.cancelable = 1;

        ngx_add_timer(&relay->counters, 1);
    }

    if (sweep) {
        for (i = 0; i < 64; i++) {
            relay->cursor[i].data = relay->cursor_buf[i];
            relay->cursor[i].len = 1;
            relay->cursor_buf[i][0] = '0';
        }

        relay->sweep.handler = ngx_http_cwmp_store_sweep;
        relay->sweep.data = relay;
        relay->sweep.log = cycle->log;
        relay->sweep.cancelable = 1;

        ngx_add_timer(&relay->sweep, NGX_HTTP_CWMP_RELAY_SWEEP);

        /* the fleet's loops run where the sweeper does */
        if (ngx_http_cwmp_store_fleet_init(st, cycle) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ngx_http_cwmp_store_exit_process(ngx_http_cwmp_store_t *st)
{
    ngx_http_cwmp_relay_t  *relay;

    relay = st->relay;

    if (relay == NULL) {
        return;
    }

    if (relay->counters.timer_set) {
        ngx_del_timer(&relay->counters);
    }

    if (relay->sweep.timer_set) {
        ngx_del_timer(&relay->sweep);
    }

    ngx_http_cwmp_store_fleet_exit(st);
}


/* every second: HMGET cwmp:campaign:{<policy>} paused in_progress, each */

static void
ngx_http_cwmp_store_counters(ngx_event_t *ev)
{
    ngx_uint_t                       i;
    ngx_pool_t                      *pool;
    ngx_http_cwmp_relay_t           *relay;
    ngx_http_cwmp_redis_op_t        *op;
    ngx_http_cwmp_store_cmd_t        c;
    ngx_http_cwmp_store_owner_t      owner;
    ngx_http_cwmp_store_counters_t  *k;

    relay = ev->data;
    k = relay->st->counters->elts;

    pool = ngx_create_pool(1024, ev->log);
    if (pool == NULL) {
        goto next;
    }

    owner.pool = pool;
    owner.log = ev->log;
    owner.data = NULL;

    for (i = 0; i < relay->st->counters->nelts; i++) {

        if (ngx_http_cwmp_store_cmd(&c, relay->st, &owner, 4, "HMGET")
            != NGX_OK)
        {
            break;
        }

        ngx_http_cwmp_store_arg_tagged(&c, "campaign:{}", &k[i].name);
        ngx_http_cwmp_store_arg_text(&c, "paused");
        ngx_http_cwmp_store_arg_text(&c, "in_progress");

        op = ngx_http_cwmp_store_op(&c, 1, ev->log);
        if (op == NULL) {
            break;
        }

        op->data = &k[i];
        op->reply = ngx_http_cwmp_store_counted;
        op->done = ngx_http_cwmp_store_counters_done;
        op->timer.cancelable = 1;

        /* refused (Redis away): the counters stay as last read */
        (void) ngx_http_cwmp_redis_submit(relay->st->redis, op, NULL,
                                          ev->log);
    }

    ngx_destroy_pool(pool);

next:

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_CWMP_RELAY_COUNTERS);
    }
}


static ngx_int_t
ngx_http_cwmp_store_counted(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    size_t                           len;
    redisReply                      *rr, *v;
    ngx_http_cwmp_store_counters_t  *k;

    rr = reply;
    k = op->data;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 2) {
        return NGX_ERROR;
    }

    v = rr->element[0];
    len = (v->type == REDIS_REPLY_STRING)
          ? ngx_min((size_t) v->len, sizeof(k->paused_buf)) : 0;
    if (len) {
        ngx_memcpy(k->paused_buf, v->str, len);
    }
    k->paused.len = len;

    v = rr->element[1];
    len = (v->type == REDIS_REPLY_STRING)
          ? ngx_min((size_t) v->len, sizeof(k->in_progress_buf)) : 0;
    if (len) {
        ngx_memcpy(k->in_progress_buf, v->str, len);
    }
    k->in_progress.len = len;
    k->known = 1;

    return NGX_OK;
}


static void
ngx_http_cwmp_store_counters_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    /* nothing to free: the counters are the worker's */
}


/*
 * The sweeper: a SCAN step on one master after another, for outboxes a
 * worker left (it died between a script and the relay); each found is
 * relayed as a call of its own
 */

static void
ngx_http_cwmp_store_sweep(ngx_event_t *ev)
{
    ngx_str_t                     any;
    ngx_uint_t                    n, slots[64];
    ngx_pool_t                   *pool;
    ngx_http_cwmp_relay_t        *relay;
    ngx_http_cwmp_redis_op_t     *op;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;

    relay = ev->data;

    if (relay->scanning || relay->drains) {
        goto next;
    }

    n = ngx_http_cwmp_redis_masters(relay->st->redis, slots, 64);
    if (n == 0) {
        goto next;
    }

    relay->master = relay->sweeps++ % n;

    pool = ngx_create_pool(1024, ev->log);
    if (pool == NULL) {
        goto next;
    }

    owner.pool = pool;
    owner.log = ev->log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_cmd(&c, relay->st, &owner, 8, "SCAN") != NGX_OK)
    {
        ngx_destroy_pool(pool);
        goto next;
    }

    ngx_http_cwmp_store_arg(&c, &relay->cursor[relay->master]);
    ngx_http_cwmp_store_arg_text(&c, "MATCH");
    ngx_str_set(&any, "*");
    ngx_http_cwmp_store_arg_tagged(&c, ":outbox", &any);
    ngx_http_cwmp_store_arg_text(&c, "COUNT");
    ngx_http_cwmp_store_arg_text(&c, "1000");
    ngx_http_cwmp_store_arg_text(&c, "TYPE");
    ngx_http_cwmp_store_arg_text(&c, "stream");

    op = ngx_http_cwmp_store_op(&c, 1, ev->log);

    ngx_destroy_pool(pool);

    if (op == NULL) {
        goto next;
    }

    op->slot = slots[relay->master];
    op->data = relay;
    op->reply = ngx_http_cwmp_store_scanned;
    op->done = ngx_http_cwmp_store_scan_done;
    op->timer.cancelable = 1;

    if (ngx_http_cwmp_redis_submit(relay->st->redis, op, NULL, ev->log)
        == NGX_OK)
    {
        relay->scanning = 1;
    }

next:

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_CWMP_RELAY_SWEEP);
    }
}


/* [cursor, [key, ...]] */

static ngx_int_t
ngx_http_cwmp_store_scanned(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_uint_t              j;
    redisReply             *rr, *keys;
    ngx_http_cwmp_relay_t  *relay;

    rr = reply;
    relay = op->data;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 2
        || rr->element[0]->type != REDIS_REPLY_STRING
        || rr->element[0]->len >= NGX_INT64_LEN
        || rr->element[1]->type != REDIS_REPLY_ARRAY)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(relay->cursor_buf[relay->master], rr->element[0]->str,
               rr->element[0]->len);
    relay->cursor[relay->master].len = rr->element[0]->len;

    keys = rr->element[1];

    for (j = 0; j < keys->elements; j++) {
        if (keys->element[j]->type == REDIS_REPLY_STRING
            && relay->drains < NGX_HTTP_CWMP_RELAY_DRAINS)
        {
            (void) ngx_http_cwmp_store_drain(relay,
                                       (u_char *) keys->element[j]->str,
                                       keys->element[j]->len,
                                       "a worker left");
        }
    }

    return NGX_OK;
}


static void
ngx_http_cwmp_store_scan_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_relay_t  *relay;

    relay = op->data;
    relay->scanning = 0;
}


/*
 * An outbox to relay now (cwmp:relay, a device retired): NGX_OK when its
 * relay started, NGX_BUSY when as many as the relay runs at once are in
 * progress (ask again later), NGX_ERROR
 */

ngx_int_t
ngx_http_cwmp_store_relay_outbox_of(ngx_http_cwmp_store_t *st,
    ngx_str_t *device_id, char *why)
{
    u_char                 *p;
    size_t                  len;
    ngx_http_cwmp_relay_t  *relay;

    relay = st->relay;

    if (relay == NULL || device_id->len == 0) {
        return NGX_ERROR;
    }

    if (relay->drains >= NGX_HTTP_CWMP_RELAY_DRAINS) {
        return NGX_BUSY;
    }

    len = st->prefix.len + sizeof("device:{}:outbox") - 1 + device_id->len;

    p = ngx_alloc(len, ngx_cycle->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(p, "%Vdevice:{%V}:outbox", &st->prefix, device_id);

    if (ngx_http_cwmp_store_drain(relay, p, len, why) != NGX_OK) {
        ngx_free(p);
        return NGX_ERROR;
    }

    ngx_free(p);

    return NGX_OK;
}


/* an outbox found: read and relayed as a call of its own, in its pool */

static ngx_int_t
ngx_http_cwmp_store_drain(ngx_http_cwmp_relay_t *relay, u_char *key,
    size_t len, char *why)
{
    u_char                       *open, *close;
    ngx_pool_t                   *pool;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_ctx_t    *ctx;
    ngx_pool_cleanup_t           *cln;
    ngx_http_cwmp_store_owner_t   owner;

    open = ngx_strlchr(key, key + len, '{');
    close = open ? ngx_strlchr(open, key + len, '}') : NULL;

    if (close == NULL || close == open + 1) {
        return NGX_ERROR;
    }

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_cwmp_store_ctx_t));
    if (cln == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_cwmp_store_ctx_t));

    ctx->st = relay->st;
    ctx->pool = pool;
    ctx->log = ngx_cycle->log;
    ctx->rc = NGX_OK;
    ctx->handler = ngx_http_cwmp_store_drained;
    ctx->data = ctx;

    ctx->outbox_key.len = len;
    ctx->outbox_key.data = ngx_pnalloc(pool, len);
    ctx->device_id.len = close - open - 1;
    ctx->device_id.data = ngx_pnalloc(pool, ctx->device_id.len);

    owner.pool = pool;
    owner.log = ngx_cycle->log;
    owner.data = NULL;

    if (ctx->outbox_key.data == NULL || ctx->device_id.data == NULL
        || ngx_http_cwmp_store_cmd(&c, relay->st, &owner, 6, "XRANGE")
           != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->outbox_key.data, key, len);
    ngx_memcpy(ctx->device_id.data, open + 1, ctx->device_id.len);

    ngx_http_cwmp_store_arg(&c, &ctx->outbox_key);
    ngx_http_cwmp_store_arg_text(&c, "-");
    ngx_http_cwmp_store_arg_text(&c, "+");
    ngx_http_cwmp_store_arg_text(&c, "COUNT");
    ngx_http_cwmp_store_arg_text(&c, NGX_HTTP_CWMP_STORE_RELAY_MAX);
    c.route = ctx->outbox_key;

    /* the reply of this call's only command is the outbox's */
    ctx->reply = NULL;

    if (ngx_http_cwmp_store_ctx_submit(ctx, &c, 1,
                                       ngx_http_cwmp_store_relay_outbox)
        != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    relay->drains++;
    cln->handler = NULL;

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "cwmp: relaying the outbox \"%V\": %s",
                  &ctx->outbox_key, why);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_store_relay_outbox(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    return ngx_http_cwmp_store_relay_read(op->data, reply);
}


static void
ngx_http_cwmp_store_drained(void *data, ngx_int_t rc)
{
    ngx_http_cwmp_store_ctx_t  *ctx = data;

    ngx_http_cwmp_relay_t  *relay;

    relay = ctx->st->relay;
    relay->drains--;

    ngx_destroy_pool(ctx->pool);
}

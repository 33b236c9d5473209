
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The fleet's loops, on one worker per host (the sweeper's), once a
 * second, each a bounded step that never blocks Redis:
 *
 *   relay requests   other systems call the function library
 *                    (redis-schema/functions/cwmp.lua) on a device's slot;
 *                    what a call says to the shared keys waits in the
 *                    device's outbox.  XADD cwmp:relay * device <ID> asks
 *                    for its relay now: the entries are read (XRANGE, 64
 *                    at a time), each device's outbox relayed
 *                    (store_relay.c, exactly once: the shards remember what
 *                    they took), and the entries deleted.  Hosts that read
 *                    the same entry relay it twice, harmlessly.
 *
 *   retirement       with cwmp_retire_after, the devices whose last Inform
 *                    is older (cwmp:devices:{<S>}, the oldest of each
 *                    shard a step: 16 a second at most) are deleted (FCALL cwmp_delete), and their
 *                    outboxes relayed: the index entries go, queued tasks
 *                    get a "cancelled" result.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <hiredis/hiredis.h>

#include "ngx_http_cwmp_store.h"


#define NGX_HTTP_CWMP_FLEET_TICK    1000    /* ms */
#define NGX_HTTP_CWMP_FLEET_BATCH   "64"    /* relay requests a step */


typedef struct {
    ngx_http_cwmp_store_t           *st;
    ngx_event_t                      tick;
    ngx_uint_t                       busy;       /* ops in flight */
} ngx_http_cwmp_fleet_loop_t;


static void ngx_http_cwmp_store_fleet_tick(ngx_event_t *ev);
static ngx_int_t ngx_http_cwmp_store_fleet_submit(
    ngx_http_cwmp_fleet_loop_t *loop, ngx_http_cwmp_store_cmd_t *c,
    ngx_str_t *route, ngx_http_cwmp_redis_reply_pt reply);
static void ngx_http_cwmp_store_fleet_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_store_relay_asked(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_retirees(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_retired(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);


ngx_int_t
ngx_http_cwmp_store_fleet_init(ngx_http_cwmp_store_t *st, ngx_cycle_t *cycle)
{
    ngx_http_cwmp_fleet_loop_t  *loop;

    loop = ngx_pcalloc(cycle->pool, sizeof(ngx_http_cwmp_fleet_loop_t));
    if (loop == NULL) {
        return NGX_ERROR;
    }

    loop->st = st;
    loop->tick.handler = ngx_http_cwmp_store_fleet_tick;
    loop->tick.data = loop;
    loop->tick.log = cycle->log;
    loop->tick.cancelable = 1;

    st->fleet_loop = loop;

    ngx_add_timer(&loop->tick, NGX_HTTP_CWMP_FLEET_TICK);

    return ngx_http_cwmp_store_bulk_init(st, cycle);
}


void
ngx_http_cwmp_store_fleet_exit(ngx_http_cwmp_store_t *st)
{
    ngx_http_cwmp_fleet_loop_t  *loop;

    loop = st->fleet_loop;

    if (loop && loop->tick.timer_set) {
        ngx_del_timer(&loop->tick);
    }

    ngx_http_cwmp_store_bulk_exit(st);
}


static void
ngx_http_cwmp_store_fleet_tick(ngx_event_t *ev)
{
    u_char                        tag[NGX_INT_T_LEN], before[NGX_INT64_LEN];
    ngx_str_t                     shard, route;
    ngx_uint_t                    n;
    ngx_pool_t                   *pool;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;
    ngx_http_cwmp_fleet_loop_t   *loop;

    loop = ev->data;

    if (loop->busy) {
        goto next;
    }

    pool = ngx_create_pool(1024, ev->log);
    if (pool == NULL) {
        goto next;
    }

    owner.pool = pool;
    owner.log = ev->log;
    owner.data = NULL;

    /* the relays asked for */

    if (ngx_http_cwmp_store_cmd(&c, loop->st, &owner, 6, "XRANGE") == NGX_OK) {
        ngx_http_cwmp_store_arg_key(&c, "relay");
        ngx_http_cwmp_store_arg_text(&c, "-");
        ngx_http_cwmp_store_arg_text(&c, "+");
        ngx_http_cwmp_store_arg_text(&c, "COUNT");
        ngx_http_cwmp_store_arg_text(&c, NGX_HTTP_CWMP_FLEET_BATCH);
        route = c.route;

        (void) ngx_http_cwmp_store_fleet_submit(loop, &c, &route,
                                              ngx_http_cwmp_store_relay_asked);
    }

    /* the devices to retire: the oldest of each shard */

    for (n = 0; loop->st->fleet.retire && n < NGX_HTTP_CWMP_SHARDS; n++) {

        if (ngx_http_cwmp_store_cmd(&c, loop->st, &owner, 8, "ZRANGEBYSCORE")
            != NGX_OK)
        {
            break;
        }

        shard.data = tag;
        shard.len = ngx_sprintf(tag, "%ui", n) - tag;

        ngx_http_cwmp_store_arg_tagged(&c, "devices:{}", &shard);
        ngx_http_cwmp_store_arg_text(&c, "-inf");
        route.data = before;
        route.len = ngx_sprintf(before, "(%T",
                                ngx_time() - loop->st->fleet.retire)
                    - before;
        ngx_http_cwmp_store_arg(&c, &route);
        ngx_http_cwmp_store_arg_text(&c, "LIMIT");
        ngx_http_cwmp_store_arg_text(&c, "0");
        ngx_http_cwmp_store_arg_text(&c, "1");
        route = c.route;

        if (ngx_http_cwmp_store_fleet_submit(loop, &c, &route,
                                             ngx_http_cwmp_store_retirees)
            != NGX_OK)
        {
            break;
        }
    }

    ngx_destroy_pool(pool);

next:

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_CWMP_FLEET_TICK);
    }
}


/* a command of the loop's, its reply read by reply; counted while busy */

static ngx_int_t
ngx_http_cwmp_store_fleet_submit(ngx_http_cwmp_fleet_loop_t *loop,
    ngx_http_cwmp_store_cmd_t *c, ngx_str_t *route,
    ngx_http_cwmp_redis_reply_pt reply)
{
    ngx_http_cwmp_redis_op_t  *op;

    op = ngx_http_cwmp_store_op(c, 1, loop->tick.log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->data = loop;
    op->reply = reply;
    op->done = ngx_http_cwmp_store_fleet_done;
    op->timer.cancelable = 1;

    if (ngx_http_cwmp_redis_submit(loop->st->redis, op, NULL, loop->tick.log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    loop->busy++;

    return NGX_OK;
}


static void
ngx_http_cwmp_store_fleet_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_fleet_loop_t  *loop;

    loop = op->data;
    loop->busy--;
}


/*
 * XRANGE cwmp:relay: [[id, [field, value, ...]], ...]; each entry's
 * device's outbox relayed, then the entries taken deleted (those the relay
 * had no room for stay for the next step)
 */

static ngx_int_t
ngx_http_cwmp_store_relay_asked(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_str_t                     device, id;
    ngx_uint_t                    j, k, n;
    ngx_pool_t                   *pool;
    redisReply                   *rr, *e, *f;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;
    ngx_http_cwmp_fleet_loop_t   *loop;

    rr = reply;
    loop = op->data;

    if (rr->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, loop->tick.log, 0,
                      "redis refused the read of cwmp:relay: \"%*s\"",
                      (size_t) rr->len, rr->str);
        return NGX_OK;
    }

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements == 0) {
        return NGX_OK;
    }

    pool = ngx_create_pool(1024, loop->tick.log);
    if (pool == NULL) {
        return NGX_OK;
    }

    owner.pool = pool;
    owner.log = loop->tick.log;
    owner.data = NULL;

    if (ngx_http_cwmp_store_cmd(&c, loop->st, &owner, 2 + rr->elements,
                                "XDEL")
        != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    ngx_http_cwmp_store_arg_key(&c, "relay");
    n = 0;

    for (j = 0; j < rr->elements; j++) {
        e = rr->element[j];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[0]->type != REDIS_REPLY_STRING
            || e->element[1]->type != REDIS_REPLY_ARRAY)
        {
            continue;
        }

        f = e->element[1];
        ngx_str_null(&device);

        for (k = 0; k + 1 < f->elements; k += 2) {
            if (f->element[k]->type == REDIS_REPLY_STRING
                && f->element[k + 1]->type == REDIS_REPLY_STRING
                && f->element[k]->len == 6
                && ngx_strncmp(f->element[k]->str, "device", 6) == 0)
            {
                device.data = (u_char *) f->element[k + 1]->str;
                device.len = f->element[k + 1]->len;
            }
        }

        if (device.len
            && ngx_http_cwmp_store_relay_outbox_of(loop->st, &device,
                                                   "asked in cwmp:relay")
               == NGX_BUSY)
        {
            continue;       /* for the next step */
        }

        /* relayed, or nothing to relay (no device, or a bad one): gone */

        id.data = (u_char *) e->element[0]->str;
        id.len = e->element[0]->len;
        ngx_http_cwmp_store_arg(&c, &id);
        n++;
    }

    if (n) {
        (void) ngx_http_cwmp_store_fleet_submit(loop, &c, &c.route, NULL);
    }

    ngx_destroy_pool(pool);

    return NGX_OK;
}


/* ZRANGEBYSCORE of a shard: the devices not seen since, each deleted */

static ngx_int_t
ngx_http_cwmp_store_retirees(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_str_t                     device;
    ngx_uint_t                    j;
    ngx_pool_t                   *pool;
    redisReply                   *rr;
    ngx_http_cwmp_store_cmd_t     c;
    ngx_http_cwmp_store_owner_t   owner;
    ngx_http_cwmp_fleet_loop_t   *loop;

    rr = reply;
    loop = op->data;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements == 0) {
        return NGX_OK;
    }

    pool = ngx_create_pool(1024, loop->tick.log);
    if (pool == NULL) {
        return NGX_OK;
    }

    owner.pool = pool;
    owner.log = loop->tick.log;
    owner.data = NULL;

    for (j = 0; j < rr->elements; j++) {
        if (rr->element[j]->type != REDIS_REPLY_STRING
            || rr->element[j]->len == 0)
        {
            continue;
        }

        device.data = (u_char *) rr->element[j]->str;
        device.len = rr->element[j]->len;

        if (ngx_http_cwmp_store_cmd(&c, loop->st, &owner, 4, "FCALL")
            != NGX_OK)
        {
            break;
        }

        ngx_http_cwmp_store_arg_text(&c, "cwmp_delete");
        ngx_http_cwmp_store_arg_text(&c, "1");
        ngx_http_cwmp_store_arg_tagged(&c, "", &device);

        if (ngx_http_cwmp_store_fleet_submit(loop, &c, &c.route,
                                             ngx_http_cwmp_store_retired)
            != NGX_OK)
        {
            break;
        }

        /*
         * its outbox read after the delete (the same slot, the same
         * connection, in order): the cancelled results and the index
         * entries' removal relayed; a relay with no room left is the
         * sweeper's
         */

        ngx_log_error(NGX_LOG_INFO, loop->tick.log, 0,
                      "cwmp: device \"%V\" retired: no Inform for %T s",
                      &device, loop->st->fleet.retire);

        if (ngx_http_cwmp_store_relay_outbox_of(loop->st, &device,
                                                "a device retired")
            == NGX_BUSY)
        {
            break;
        }
    }

    ngx_destroy_pool(pool);

    return NGX_OK;
}


/* FCALL cwmp_delete answered */

static ngx_int_t
ngx_http_cwmp_store_retired(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                  *rr;
    ngx_http_cwmp_fleet_loop_t  *loop;

    rr = reply;
    loop = op->data;

    if (rr->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, loop->tick.log, 0,
                      "redis refused to retire a device: \"%*s\"",
                      (size_t) rr->len, rr->str);
    }

    return NGX_OK;
}


/*
 * Copyright (C) ngx_cwmp authors
 *
 * Redis Sentinel: the master's address comes from the Sentinels (SENTINEL
 * get-master-addr-by-name, asked of each in turn, never blocking), and is
 * followed through a failover: asked again every second, at once when the
 * master's connection is lost or a write says READONLY; a master named by
 * the Sentinels must say "master" to ROLE in its handshake.  While no
 * master is known, ops wait in the service's bounded queue under their own
 * timers; while the master is unreachable they get a quick refusal (503).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_cwmp_redis_node.h"


#define NGX_HTTP_CWMP_REDIS_POLL   1000     /* ms, the master asked again */


typedef struct {
    ngx_http_cwmp_redis_node_t  **sentinels;
    ngx_uint_t                    nsentinels;
    ngx_uint_t                    next;       /* the Sentinel to ask next */
    ngx_event_t                   poll;

    unsigned                      asking:1;
    unsigned                      logged:1;
} ngx_http_cwmp_redis_sentinel_t;


typedef struct {
    ngx_http_cwmp_redis_t        *redis;
    ngx_http_cwmp_redis_node_t   *sentinel;
    ngx_http_cwmp_redis_addr_t    addr;
    u_char                        buf[NGX_SOCKADDR_STRLEN * 2];
    ngx_uint_t                    found;
} ngx_http_cwmp_redis_master_t;


static void ngx_http_cwmp_redis_sentinel_ask(ngx_http_cwmp_redis_t *rd);
static void ngx_http_cwmp_redis_sentinel_later(ngx_http_cwmp_redis_t *rd,
    ngx_msec_t delay);
static void ngx_http_cwmp_redis_sentinel_poll(ngx_event_t *ev);
static ngx_int_t ngx_http_cwmp_redis_sentinel_reply(
    ngx_http_cwmp_redis_op_t *op, ngx_uint_t i, void *reply);
static void ngx_http_cwmp_redis_sentinel_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_redis_sentinel_drain(ngx_http_cwmp_redis_t *rd);


ngx_int_t
ngx_http_cwmp_redis_sentinel_init(ngx_http_cwmp_redis_t *rd)
{
    ngx_uint_t                       i;
    ngx_http_cwmp_redis_addr_t      *seeds;
    ngx_http_cwmp_redis_sentinel_t  *s;

    s = ngx_pcalloc(rd->cycle->pool, sizeof(ngx_http_cwmp_redis_sentinel_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    seeds = rd->conf->seeds.elts;

    s->sentinels = ngx_pcalloc(rd->cycle->pool,
                               rd->conf->seeds.nelts * sizeof(void *));
    if (s->sentinels == NULL) {
        return NGX_ERROR;
    }

    s->poll.handler = ngx_http_cwmp_redis_sentinel_poll;
    s->poll.data = rd;
    s->poll.log = ngx_cycle->log;
    s->poll.cancelable = 1;

    rd->mode = s;

    for (i = 0; i < rd->conf->seeds.nelts; i++) {
        s->sentinels[i] = ngx_http_cwmp_redis_node_create(rd, rd->conf,
                              &seeds[i], NGX_HTTP_CWMP_REDIS_SENTINEL_NODE);
        if (s->sentinels[i] == NULL) {
            return NGX_ERROR;
        }

        s->nsentinels++;
    }

    return NGX_OK;
}


void
ngx_http_cwmp_redis_sentinel_destroy(ngx_http_cwmp_redis_t *rd)
{
    ngx_uint_t                       i;
    ngx_http_cwmp_redis_sentinel_t  *s;

    s = rd->mode;

    if (s->poll.timer_set) {
        ngx_del_timer(&s->poll);
    }

    for (i = 0; i < s->nsentinels; i++) {
        ngx_http_cwmp_redis_node_destroy(s->sentinels[i]);
    }
}


ngx_int_t
ngx_http_cwmp_redis_sentinel_submit(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_op_t *op)
{
    ngx_http_cwmp_redis_sentinel_t  *s;

    s = rd->mode;

    if (rd->node) {
        return ngx_http_cwmp_redis_node_submit(rd->node, op);
    }

    /* no master known yet: the op waits for the Sentinels' answer */

    if (ngx_http_cwmp_redis_wait(rd, op) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (!s->asking) {
        ngx_http_cwmp_redis_sentinel_later(rd, 0);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_cwmp_redis_sentinel_available(ngx_http_cwmp_redis_t *rd)
{
    ngx_uint_t                       i;
    ngx_http_cwmp_redis_sentinel_t  *s;

    if (rd->node) {
        return ngx_http_cwmp_redis_node_available(rd->node);
    }

    s = rd->mode;

    for (i = 0; i < s->nsentinels; i++) {
        if (ngx_http_cwmp_redis_node_available(s->sentinels[i]) == NGX_OK) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_uint_t
ngx_http_cwmp_redis_sentinel_pending(ngx_http_cwmp_redis_t *rd)
{
    return rd->node ? rd->node->nin_flight + rd->node->nwaiting : 0;
}


void
ngx_http_cwmp_redis_sentinel_ready(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_node_t *node)
{
    ngx_http_cwmp_redis_sentinel_t  *s;

    s = rd->mode;

    if (node->role == NGX_HTTP_CWMP_REDIS_SENTINEL_NODE
        && rd->node == NULL && !s->asking)
    {
        ngx_http_cwmp_redis_sentinel_later(rd, 0);
    }
}


void
ngx_http_cwmp_redis_sentinel_lost(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_node_t *node)
{
    if (node == rd->node) {
        /* a failover, perhaps: which master now? */
        ngx_http_cwmp_redis_sentinel_later(rd, 0);
    }
}


static void
ngx_http_cwmp_redis_sentinel_later(ngx_http_cwmp_redis_t *rd,
    ngx_msec_t delay)
{
    ngx_http_cwmp_redis_sentinel_t  *s;

    s = rd->mode;

    if (rd->exiting || s->asking) {
        return;
    }

    if (s->poll.timer_set) {
        if (s->poll.timer.key <= ngx_current_msec + delay) {
            return;
        }

        ngx_del_timer(&s->poll);
    }

    ngx_add_timer(&s->poll, delay);
}


static void
ngx_http_cwmp_redis_sentinel_poll(ngx_event_t *ev)
{
    ngx_http_cwmp_redis_sentinel_ask(ev->data);
}


/* SENTINEL get-master-addr-by-name <name>: a ready Sentinel first */

static void
ngx_http_cwmp_redis_sentinel_ask(ngx_http_cwmp_redis_t *rd)
{
    ngx_str_t                        args[3];
    ngx_uint_t                       i, k, pass;
    ngx_http_cwmp_redis_op_t        *op;
    ngx_http_cwmp_redis_cmd_t        cmd;
    ngx_http_cwmp_redis_node_t      *node;
    ngx_http_cwmp_redis_master_t    *m;
    ngx_http_cwmp_redis_sentinel_t  *s;

    s = rd->mode;

    if (rd->exiting || s->asking) {
        return;
    }

    ngx_str_set(&args[0], "SENTINEL");
    ngx_str_set(&args[1], "get-master-addr-by-name");
    args[2] = rd->conf->master;
    cmd.args = args;
    cmd.nargs = 3;

    for (pass = 0; pass < 2; pass++) {

        for (k = 0; k < s->nsentinels; k++) {
            i = (s->next + k) % s->nsentinels;
            node = s->sentinels[i];

            if ((pass == 0 && node->state != NGX_HTTP_CWMP_REDIS_READY)
                || ngx_http_cwmp_redis_node_available(node) != NGX_OK)
            {
                continue;
            }

            op = ngx_http_cwmp_redis_op_create(&cmd, 1, ngx_cycle->log);
            m = ngx_calloc(sizeof(ngx_http_cwmp_redis_master_t),
                           ngx_cycle->log);

            if (op == NULL || m == NULL) {
                ngx_free(op);
                ngx_free(m);
                goto later;
            }

            m->redis = rd;
            m->sentinel = node;

            op->redis = rd;
            op->internal = 1;
            op->data = m;
            op->reply = ngx_http_cwmp_redis_sentinel_reply;
            op->done = ngx_http_cwmp_redis_sentinel_done;
            op->timer.log = ngx_cycle->log;
            op->timer.cancelable = 1;

            if (ngx_http_cwmp_redis_node_submit(node, op) != NGX_OK) {
                ngx_free(op);
                ngx_free(m);
                continue;
            }

            ngx_add_timer(&op->timer, rd->conf->timeout);

            s->asking = 1;
            s->next = i;

            return;
        }
    }

later:

    ngx_http_cwmp_redis_sentinel_later(rd, 200);
}


/* [host, port], or nil when the Sentinel does not know the master */

static ngx_int_t
ngx_http_cwmp_redis_sentinel_reply(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply)
{
    ngx_int_t                      port;
    redisReply                    *r;
    ngx_http_cwmp_redis_master_t  *m;

    r = reply;
    m = op->data;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[1]->type != REDIS_REPLY_STRING)
    {
        return NGX_ERROR;
    }

    port = ngx_atoi((u_char *) r->element[1]->str, r->element[1]->len);

    if (port < 1 || port > 65535
        || ngx_http_cwmp_redis_addr_parse((u_char *) r->element[0]->str,
                                          r->element[0]->len, port, &m->addr,
                                          m->buf, sizeof(m->buf))
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "redis sentinel \"%V\" names the master \"%V\" at "
                      "\"%*s:%*s\" (a numeric address is needed)",
                      &m->sentinel->addr.name, &m->redis->conf->master,
                      (size_t) r->element[0]->len, r->element[0]->str,
                      (size_t) r->element[1]->len, r->element[1]->str);
        return NGX_ERROR;
    }

    m->found = 1;

    return NGX_OK;
}


static void
ngx_http_cwmp_redis_sentinel_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_redis_t           *rd;
    ngx_http_cwmp_redis_node_t      *master;
    ngx_http_cwmp_redis_master_t    *m;
    ngx_http_cwmp_redis_sentinel_t  *s;

    m = op->data;
    rd = m->redis;
    s = rd->mode;

    s->asking = 0;

    if (rc == NGX_ABORT || rd->exiting) {
        ngx_free(m);
        return;
    }

    if (rc != NGX_OK || !m->found) {
        /* this Sentinel does not know, or is gone: the next one, soon */

        if (!s->logged) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "redis sentinel \"%V\" named no master \"%V\", "
                          "asking another", &m->sentinel->addr.name,
                          &rd->conf->master);
            s->logged = 1;
        }

        s->next++;
        ngx_free(m);
        ngx_http_cwmp_redis_sentinel_later(rd, 100);
        return;
    }

    if (s->logged) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "redis sentinel \"%V\" names the master \"%V\" at "
                      "\"%V\"", &m->sentinel->addr.name, &rd->conf->master,
                      &m->addr.name);
        s->logged = 0;
    }

    master = rd->node;

    if (master == NULL) {
        master = ngx_http_cwmp_redis_node_create(rd, rd->conf, &m->addr,
                                                 NGX_HTTP_CWMP_REDIS_DATA);
        if (master == NULL) {
            ngx_free(m);
            ngx_http_cwmp_redis_sentinel_later(rd, NGX_HTTP_CWMP_REDIS_POLL);
            return;
        }

        /* its handshake runs when it connects, later: ROLE is in it */
        master->check_role = 1;
        rd->node = master;

    } else if (master->addr.name.len != m->addr.name.len
               || ngx_strncmp(master->addr.name.data, m->addr.name.data,
                              m->addr.name.len) != 0)
    {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "redis sentinel: the master \"%V\" moved from \"%V\" "
                      "to \"%V\"", &rd->conf->master, &master->addr.name,
                      &m->addr.name);

        if (ngx_http_cwmp_redis_node_move(master, &m->addr) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "redis sentinel: cannot follow the master to "
                          "\"%V\"", &m->addr.name);
        }
    }

    ngx_free(m);

    ngx_http_cwmp_redis_sentinel_drain(rd);
    ngx_http_cwmp_redis_sentinel_later(rd, NGX_HTTP_CWMP_REDIS_POLL);
}


/* the ops that waited for a master go to it */

static void
ngx_http_cwmp_redis_sentinel_drain(ngx_http_cwmp_redis_t *rd)
{
    ngx_queue_t               *q;
    ngx_http_cwmp_redis_op_t  *op;

    while (!ngx_queue_empty(&rd->waiting)) {
        q = ngx_queue_head(&rd->waiting);
        ngx_queue_remove(q);
        rd->nwaiting--;

        op = ngx_queue_data(q, ngx_http_cwmp_redis_op_t, queue);
        op->waiting = 0;

        if (op->finished
            || ngx_http_cwmp_redis_node_submit(rd->node, op) != NGX_OK)
        {
            if (!op->finished) {
                ngx_http_cwmp_redis_finish(op, NGX_ERROR);
            }

            ngx_free(op);
        }
    }
}

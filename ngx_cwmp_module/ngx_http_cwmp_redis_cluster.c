
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Redis Cluster on hiredis 0.14: the slot map from CLUSTER SLOTS, one
 * connection per master, an op sent to the master of its slot.
 *
 *   MOVED        the slot has a new master: the map learns it at once,
 *                the commands go there, the whole map is asked for again
 *   ASK          the slot is being migrated and the key is there already:
 *                ASKING, then the commands, once, on that node
 *   TRYAGAIN,    a slot in the middle of a migration, a cluster without a
 *   CLUSTERDOWN  quorum: the commands again after a short backoff
 *
 * all within the op's own timer, at most NGX_HTTP_CWMP_REDIS_REDIRECTS
 * times; then the op fails (the CPE gets 503 and comes back).  The map is
 * asked for again after a MOVED, after a master's connection is lost (a
 * failover) and every 10 s.  Only this file knows nodes and slots.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_cwmp_redis_node.h"


#define NGX_HTTP_CWMP_REDIS_REDIRECTS   8
#define NGX_HTTP_CWMP_REDIS_REFRESH     10000   /* ms, the map asked again */
#define NGX_HTTP_CWMP_REDIS_SOON        100     /* ms, after a change */


typedef struct {
    ngx_http_cwmp_redis_node_t  **nodes;     /* every node made, seeds
                                                first; never freed */
    ngx_uint_t                    nnodes;
    ngx_uint_t                    nalloc;
    uint16_t                     *slots;     /* node index + 1; 0: none */
    ngx_event_t                   refresh;
    ngx_uint_t                    next;      /* the node to ask next */
    ngx_msec_t                    asked;     /* when last asked */

    unsigned                      known:1;   /* a map was learnt */
    unsigned                      asking:1;  /* CLUSTER SLOTS in flight */
    ngx_msec_t                    down_said; /* CLUSTERDOWN, last logged */
    ngx_msec_t                    loop_said; /* redirects without end */

    unsigned                      logged:1;  /* the map's failure said */
} ngx_http_cwmp_redis_cluster_t;


typedef struct {
    ngx_http_cwmp_redis_t        *redis;
    ngx_http_cwmp_redis_node_t   *node;      /* the node asked */
    uint16_t                     *slots;     /* the new map */
    ngx_uint_t                    ranges;
} ngx_http_cwmp_redis_ask_t;


static ngx_int_t ngx_http_cwmp_redis_cluster_node(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_addr_t *addr, ngx_uint_t *index);
static void ngx_http_cwmp_redis_cluster_ask(ngx_http_cwmp_redis_t *rd);
static void ngx_http_cwmp_redis_cluster_later(ngx_http_cwmp_redis_t *rd,
    ngx_msec_t delay);
static void ngx_http_cwmp_redis_cluster_refresh(ngx_event_t *ev);
static ngx_int_t ngx_http_cwmp_redis_cluster_slots(
    ngx_http_cwmp_redis_op_t *op, ngx_uint_t i, void *reply);
static void ngx_http_cwmp_redis_cluster_learnt(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_redis_cluster_drain(ngx_http_cwmp_redis_t *rd);
static void ngx_http_cwmp_redis_cluster_retry(ngx_event_t *ev);


ngx_int_t
ngx_http_cwmp_redis_cluster_init(ngx_http_cwmp_redis_t *rd)
{
    ngx_uint_t                      i, index;
    ngx_http_cwmp_redis_addr_t     *seeds;
    ngx_http_cwmp_redis_cluster_t  *c;

    c = ngx_pcalloc(rd->cycle->pool, sizeof(ngx_http_cwmp_redis_cluster_t));
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->slots = ngx_pcalloc(rd->cycle->pool,
                           NGX_HTTP_CWMP_REDIS_SLOTS * sizeof(uint16_t));
    if (c->slots == NULL) {
        return NGX_ERROR;
    }

    c->refresh.handler = ngx_http_cwmp_redis_cluster_refresh;
    c->refresh.data = rd;
    c->refresh.log = ngx_cycle->log;
    c->refresh.cancelable = 1;

    rd->mode = c;

    /* the seeds connect now; the first ready one is asked for the map */

    seeds = rd->conf->seeds.elts;

    for (i = 0; i < rd->conf->seeds.nelts; i++) {
        if (ngx_http_cwmp_redis_cluster_node(rd, &seeds[i], &index)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ngx_http_cwmp_redis_cluster_destroy(ngx_http_cwmp_redis_t *rd)
{
    ngx_uint_t                      i;
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;

    if (c->refresh.timer_set) {
        ngx_del_timer(&c->refresh);
    }

    for (i = 0; i < c->nnodes; i++) {
        ngx_http_cwmp_redis_node_destroy(c->nodes[i]);
    }
}


/* the node of an address, made when first named */

static ngx_int_t
ngx_http_cwmp_redis_cluster_node(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_addr_t *addr, ngx_uint_t *index)
{
    ngx_uint_t                      i;
    ngx_http_cwmp_redis_node_t     *node, **nodes;
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;

    for (i = 0; i < c->nnodes; i++) {
        if (c->nodes[i]->addr.name.len == addr->name.len
            && ngx_strncmp(c->nodes[i]->addr.name.data, addr->name.data,
                           addr->name.len) == 0)
        {
            *index = i;
            return NGX_OK;
        }
    }

    if (c->nnodes == 0xfffe) {
        return NGX_ERROR;
    }

    if (c->nnodes == c->nalloc) {
        nodes = ngx_alloc((c->nalloc * 2 + 8) * sizeof(void *),
                          ngx_cycle->log);
        if (nodes == NULL) {
            return NGX_ERROR;
        }

        if (c->nnodes) {
            ngx_memcpy(nodes, c->nodes, c->nnodes * sizeof(void *));
        }

        ngx_free(c->nodes);
        c->nodes = nodes;
        c->nalloc = c->nalloc * 2 + 8;
    }

    node = ngx_http_cwmp_redis_node_create(rd, rd->conf, addr,
                                           NGX_HTTP_CWMP_REDIS_DATA);
    if (node == NULL) {
        return NGX_ERROR;
    }

    *index = c->nnodes;
    c->nodes[c->nnodes++] = node;

    return NGX_OK;
}


ngx_int_t
ngx_http_cwmp_redis_cluster_submit(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_op_t *op)
{
    ngx_uint_t                      index;
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;

    if (!c->known) {
        /* the map is being learnt: the op waits for it */

        if (ngx_http_cwmp_redis_wait(rd, op) != NGX_OK) {
            return NGX_DECLINED;
        }

        if (!c->asking) {
            ngx_http_cwmp_redis_cluster_later(rd, 0);
        }

        return NGX_OK;
    }

    index = c->slots[op->slot];

    if (index == 0) {
        /* no master serves the slot: the cluster is (partly) down */
        ngx_http_cwmp_redis_cluster_later(rd, NGX_HTTP_CWMP_REDIS_SOON);
        return NGX_DECLINED;
    }

    return ngx_http_cwmp_redis_node_submit(c->nodes[index - 1], op);
}


ngx_int_t
ngx_http_cwmp_redis_cluster_available(ngx_http_cwmp_redis_t *rd)
{
    ngx_uint_t                      i;
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;

    /* an op may wait for the map, or find its master; the slot's own
     * master says no at submit time */

    for (i = 0; i < c->nnodes; i++) {
        if (ngx_http_cwmp_redis_node_available(c->nodes[i]) == NGX_OK) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_uint_t
ngx_http_cwmp_redis_cluster_pending(ngx_http_cwmp_redis_t *rd)
{
    ngx_uint_t                      i, n;
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;
    n = 0;

    for (i = 0; i < c->nnodes; i++) {
        n += c->nodes[i]->nin_flight + c->nodes[i]->nwaiting;
    }

    return n;
}


/* the first slot of each node the map names */

ngx_uint_t
ngx_http_cwmp_redis_cluster_masters(ngx_http_cwmp_redis_t *rd,
    ngx_uint_t *slots, ngx_uint_t n)
{
    ngx_uint_t                      s, j, m, index;
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;
    m = 0;

    if (!c->known) {
        return 0;
    }

    for (s = 0; s < NGX_HTTP_CWMP_REDIS_SLOTS && m < n; s++) {
        index = c->slots[s];

        if (index == 0) {
            continue;
        }

        for (j = 0; j < m; j++) {
            if (c->slots[slots[j]] == index) {
                break;
            }
        }

        if (j == m) {
            slots[m++] = s;
        }
    }

    return m;
}


void
ngx_http_cwmp_redis_cluster_ready(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_node_t *node)
{
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;

    if (!c->known && !c->asking) {
        ngx_http_cwmp_redis_cluster_later(rd, 0);
    }
}


void
ngx_http_cwmp_redis_cluster_lost(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_node_t *node)
{
    /* a master gone may be a failover: its replica serves the slots */
    ngx_http_cwmp_redis_cluster_later(rd, NGX_HTTP_CWMP_REDIS_SOON);
}


/* the map asked for after a delay, unless it is asked for sooner */

static void
ngx_http_cwmp_redis_cluster_later(ngx_http_cwmp_redis_t *rd,
    ngx_msec_t delay)
{
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;

    if (rd->exiting || c->asking) {
        return;
    }

    if (c->refresh.timer_set) {
        if (c->refresh.timer.key <= ngx_current_msec + delay) {
            return;
        }

        ngx_del_timer(&c->refresh);
    }

    ngx_add_timer(&c->refresh, delay);
}


static void
ngx_http_cwmp_redis_cluster_refresh(ngx_event_t *ev)
{
    ngx_http_cwmp_redis_cluster_ask(ev->data);
}


/* CLUSTER SLOTS, to a ready node (the next in turn), else to any */

static void
ngx_http_cwmp_redis_cluster_ask(ngx_http_cwmp_redis_t *rd)
{
    ngx_str_t                       args[2];
    ngx_uint_t                      i, k, pass;
    ngx_http_cwmp_redis_op_t       *op;
    ngx_http_cwmp_redis_cmd_t       cmd;
    ngx_http_cwmp_redis_node_t     *node;
    ngx_http_cwmp_redis_ask_t      *ask;
    ngx_http_cwmp_redis_cluster_t  *c;

    c = rd->mode;

    if (rd->exiting || c->asking || c->nnodes == 0) {
        return;
    }

    ngx_str_set(&args[0], "CLUSTER");
    ngx_str_set(&args[1], "SLOTS");
    cmd.args = args;
    cmd.nargs = 2;

    for (pass = 0; pass < 2; pass++) {

        for (k = 0; k < c->nnodes; k++) {
            i = (c->next + k) % c->nnodes;
            node = c->nodes[i];

            if (pass == 0 && node->state != NGX_HTTP_CWMP_REDIS_READY) {
                continue;
            }

            if (ngx_http_cwmp_redis_node_available(node) != NGX_OK) {
                continue;
            }

            op = ngx_http_cwmp_redis_op_create(&cmd, 1, ngx_cycle->log);
            ask = ngx_calloc(sizeof(ngx_http_cwmp_redis_ask_t),
                             ngx_cycle->log);

            if (op == NULL || ask == NULL) {
                ngx_free(op);
                ngx_free(ask);
                goto later;
            }

            ask->redis = rd;
            ask->node = node;

            op->redis = rd;
            op->internal = 1;
            op->data = ask;
            op->reply = ngx_http_cwmp_redis_cluster_slots;
            op->done = ngx_http_cwmp_redis_cluster_learnt;
            op->timer.log = ngx_cycle->log;
            op->timer.cancelable = 1;

            if (ngx_http_cwmp_redis_node_submit(node, op) != NGX_OK) {
                ngx_free(op);
                ngx_free(ask);
                continue;
            }

            ngx_add_timer(&op->timer, rd->conf->timeout);

            c->asking = 1;
            c->asked = ngx_current_msec;
            c->next = i + 1;

            return;
        }
    }

later:

    /* no node to ask: the nodes reconnect by themselves; ask again soon */

    ngx_http_cwmp_redis_cluster_later(rd, 200);
}


/*
 * CLUSTER SLOTS: [[start, end, [host, port, id], replicas...], ...]; a
 * master's empty host is the host of the node asked
 */

static ngx_int_t
ngx_http_cwmp_redis_cluster_slots(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    u_char                       buf[NGX_SOCKADDR_STRLEN * 2];
    ngx_uint_t                   j, index, start, end, s;
    redisReply                  *r, *range, *master;
    ngx_http_cwmp_redis_ask_t   *ask;
    ngx_http_cwmp_redis_addr_t   addr;

    r = reply;
    ask = op->data;

    if (r->type != REDIS_REPLY_ARRAY) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "redis cluster \"%V\": CLUSTER SLOTS on \"%V\" gave "
                      "no map%s%*s", &ask->redis->conf->name,
                      &ask->node->addr.name,
                      r->type == REDIS_REPLY_ERROR ? ": " : "",
                      (size_t) (r->type == REDIS_REPLY_ERROR ? r->len : 0),
                      r->type == REDIS_REPLY_ERROR ? r->str : "");
        return NGX_ERROR;
    }

    ask->slots = ngx_calloc(NGX_HTTP_CWMP_REDIS_SLOTS * sizeof(uint16_t),
                            ngx_cycle->log);
    if (ask->slots == NULL) {
        return NGX_ERROR;
    }

    for (j = 0; j < r->elements; j++) {
        range = r->element[j];

        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3
            || range->element[0]->type != REDIS_REPLY_INTEGER
            || range->element[1]->type != REDIS_REPLY_INTEGER
            || range->element[2]->type != REDIS_REPLY_ARRAY
            || range->element[2]->elements < 2
            || range->element[2]->element[0]->type != REDIS_REPLY_STRING
            || range->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
        {
            continue;
        }

        start = (ngx_uint_t) range->element[0]->integer;
        end = (ngx_uint_t) range->element[1]->integer;
        master = range->element[2];

        if (start > end || end >= NGX_HTTP_CWMP_REDIS_SLOTS) {
            continue;
        }

        if (ngx_http_cwmp_redis_addr_parse(
                master->element[0]->len
                ? (u_char *) master->element[0]->str
                : ask->node->addr.host.data,
                master->element[0]->len
                ? (size_t) master->element[0]->len
                : ask->node->addr.host.len,
                (ngx_int_t) master->element[1]->integer, &addr, buf,
                sizeof(buf))
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "redis cluster \"%V\": a master at \"%*s\" (a "
                          "numeric address is needed: no DNS at run time)",
                          &ask->redis->conf->name,
                          (size_t) master->element[0]->len,
                          master->element[0]->str);
            continue;
        }

        if (ngx_http_cwmp_redis_cluster_node(ask->redis, &addr, &index)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (s = start; s <= end; s++) {
            ask->slots[s] = (uint16_t) (index + 1);
        }

        ask->ranges++;
    }

    return NGX_OK;
}


static void
ngx_http_cwmp_redis_cluster_learnt(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc)
{
    ngx_uint_t                      s, served;
    ngx_http_cwmp_redis_t          *rd;
    ngx_http_cwmp_redis_ask_t      *ask;
    ngx_http_cwmp_redis_cluster_t  *c;

    ask = op->data;
    rd = ask->redis;
    c = rd->mode;

    c->asking = 0;

    if (rc == NGX_ABORT || rd->exiting) {
        ngx_free(ask->slots);
        ngx_free(ask);
        return;
    }

    if (rc != NGX_OK || ask->slots == NULL || ask->ranges == 0) {
        if (!c->logged) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "redis cluster \"%V\": no slot map from \"%V\", "
                          "asking another node", &rd->conf->name,
                          &ask->node->addr.name);
            c->logged = 1;
        }

        ngx_free(ask->slots);
        ngx_free(ask);
        ngx_http_cwmp_redis_cluster_later(rd, NGX_HTTP_CWMP_REDIS_SOON);
        return;
    }

    served = 0;

    for (s = 0; s < NGX_HTTP_CWMP_REDIS_SLOTS; s++) {
        served += (ask->slots[s] != 0);
    }

    ngx_memcpy(c->slots, ask->slots,
               NGX_HTTP_CWMP_REDIS_SLOTS * sizeof(uint16_t));

    if (!c->known || c->logged) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "redis cluster \"%V\": %ui slot ranges, %ui of %ui "
                      "slots served (from \"%V\")", &rd->conf->name,
                      ask->ranges, served, (ngx_uint_t)
                      NGX_HTTP_CWMP_REDIS_SLOTS, &ask->node->addr.name);
    }

    c->known = 1;
    c->logged = 0;

    ngx_free(ask->slots);
    ngx_free(ask);

    ngx_http_cwmp_redis_cluster_later(rd, NGX_HTTP_CWMP_REDIS_REFRESH);
    ngx_http_cwmp_redis_cluster_drain(rd);
}


/* the ops that waited for the map go to their masters */

static void
ngx_http_cwmp_redis_cluster_drain(ngx_http_cwmp_redis_t *rd)
{
    ngx_queue_t               *q, queue;
    ngx_http_cwmp_redis_op_t  *op;

    /* a resubmission may queue again: take the queue as it is now */

    ngx_queue_init(&queue);

    if (!ngx_queue_empty(&rd->waiting)) {
        queue = rd->waiting;
        queue.next->prev = &queue;
        queue.prev->next = &queue;
        ngx_queue_init(&rd->waiting);
    }

    while (!ngx_queue_empty(&queue)) {
        q = ngx_queue_head(&queue);
        ngx_queue_remove(q);
        rd->nwaiting--;

        op = ngx_queue_data(q, ngx_http_cwmp_redis_op_t, queue);
        op->waiting = 0;

        if (op->finished
            || ngx_http_cwmp_redis_cluster_submit(rd, op) != NGX_OK)
        {
            if (!op->finished) {
                ngx_http_cwmp_redis_finish(op, NGX_ERROR);
            }

            ngx_free(op);
        }
    }
}


/*
 * An attempt that left commands: to the node a MOVED or an ASK names, or
 * again after a backoff (TRYAGAIN, CLUSTERDOWN)
 */

void
ngx_http_cwmp_redis_cluster_again(ngx_http_cwmp_redis_op_t *op)
{
    u_char                          buf[NGX_SOCKADDR_STRLEN * 2];
    ngx_uint_t                      index;
    ngx_http_cwmp_redis_t          *rd;
    ngx_http_cwmp_redis_addr_t      addr;
    ngx_http_cwmp_redis_cluster_t  *c;

    rd = op->redis;
    c = rd->mode;

    /* an outage is an error line every REFRESH at most while it lasts */

    if (++op->redirects > NGX_HTTP_CWMP_REDIS_REDIRECTS) {
        if (ngx_current_msec - c->loop_said >= NGX_HTTP_CWMP_REDIS_REFRESH
            || c->loop_said == 0)
        {
            ngx_log_error(NGX_LOG_ERR, op->timer.log, 0,
                          "redis cluster \"%V\": slot %ui still elsewhere "
                          "after %ui redirects and retries", &rd->conf->name,
                          op->slot,
                          (ngx_uint_t) NGX_HTTP_CWMP_REDIS_REDIRECTS);
            c->loop_said = ngx_current_msec;
        }

        goto failed;
    }

    if (op->why == NGX_HTTP_CWMP_REDIS_DOWN
        && (ngx_current_msec - c->down_said >= NGX_HTTP_CWMP_REDIS_REFRESH
            || c->down_said == 0))
    {
        ngx_log_error(NGX_LOG_ERR, op->timer.log, 0,
                      "redis cluster \"%V\": \"%V\" says CLUSTERDOWN: "
                      "retrying, 503 meanwhile", &rd->conf->name,
                      &op->node->addr.name);
        c->down_said = ngx_current_msec;
        ngx_http_cwmp_redis_cluster_later(rd, NGX_HTTP_CWMP_REDIS_SOON);
    }

    if (op->why >= NGX_HTTP_CWMP_REDIS_TRYAGAIN) {
        op->retry.handler = ngx_http_cwmp_redis_cluster_retry;
        op->retry.data = op;
        ngx_add_timer(&op->retry, (ngx_msec_t) 25 << ngx_min(op->redirects,
                                                             5));
        return;
    }

    if (ngx_http_cwmp_redis_addr_parse(op->target, op->target_len, 0, &addr,
                                       buf, sizeof(buf))
        != NGX_OK
        || ngx_http_cwmp_redis_cluster_node(rd, &addr, &index) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, op->timer.log, 0,
                      "redis cluster \"%V\": a redirect to \"%*s\" (a "
                      "numeric address is needed)", &rd->conf->name,
                      op->target_len, op->target);
        goto failed;
    }

    if (op->why == NGX_HTTP_CWMP_REDIS_MOVED) {
        /* the map learns the slot now, and the rest soon */
        c->slots[op->slot] = (uint16_t) (index + 1);

        if (ngx_current_msec - c->asked >= NGX_HTTP_CWMP_REDIS_SOON) {
            ngx_http_cwmp_redis_cluster_later(rd, 0);

        } else {
            ngx_http_cwmp_redis_cluster_later(rd, NGX_HTTP_CWMP_REDIS_SOON);
        }

    } else {
        op->asking = 1;
    }

    if (ngx_http_cwmp_redis_node_submit(c->nodes[index], op) == NGX_OK) {
        return;
    }

failed:

    ngx_http_cwmp_redis_finish(op, NGX_ERROR);
    ngx_free(op);
}


static void
ngx_http_cwmp_redis_cluster_retry(ngx_event_t *ev)
{
    ngx_http_cwmp_redis_op_t  *op;

    op = ev->data;

    if (ngx_http_cwmp_redis_cluster_submit(op->redis, op) != NGX_OK) {
        ngx_http_cwmp_redis_finish(op, NGX_ERROR);
        ngx_free(op);
    }
}

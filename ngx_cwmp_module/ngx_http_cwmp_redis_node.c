
/*
 * Copyright (C) ngx_cwmp authors
 *
 * One hiredis async context to one Redis server, driven by nginx events:
 * the Redis socket is an nginx connection with level-triggered events, so
 * a large reply never stalls.  Ops (batches of pipelined commands)
 * submitted while the connection is being set up wait in a bounded queue;
 * while the server is unreachable they are refused at once, so callers can
 * answer quickly.  A reply that says the command belongs elsewhere (MOVED,
 * ASK) or later (TRYAGAIN, CLUSTERDOWN) leaves that command to be sent
 * again by the service (ngx_http_cwmp_redis_again()); READONLY says the
 * server is no longer a master.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_cwmp_redis_node.h"
#include "ngx_http_cwmp_metrics.h"


static u_char *ngx_http_cwmp_redis_number(u_char *p, size_t n);
static void ngx_http_cwmp_redis_connect(ngx_http_cwmp_redis_node_t *node);
static void ngx_http_cwmp_redis_close(ngx_http_cwmp_redis_node_t *node);
static void ngx_http_cwmp_redis_fail(ngx_http_cwmp_redis_node_t *node,
    const char *reason);
static void ngx_http_cwmp_redis_ready(ngx_http_cwmp_redis_node_t *node);
static ngx_int_t ngx_http_cwmp_redis_send(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_op_t *op);
static ngx_uint_t ngx_http_cwmp_redis_redirect(ngx_http_cwmp_redis_op_t *op,
    redisReply *r);
static void ngx_http_cwmp_redis_fail_node_waiting(
    ngx_http_cwmp_redis_node_t *node);

static void ngx_http_cwmp_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_cwmp_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_cwmp_redis_on_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static ngx_int_t ngx_http_cwmp_redis_handshake(
    ngx_http_cwmp_redis_node_t *node);
static void ngx_http_cwmp_redis_memory_policy(
    ngx_http_cwmp_redis_node_t *node, redisReply *r);
static ngx_int_t ngx_http_cwmp_redis_handshake_reply(
    ngx_http_cwmp_redis_op_t *op, ngx_uint_t i, void *reply);
static void ngx_http_cwmp_redis_handshake_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);

static void ngx_http_cwmp_redis_read_handler(ngx_event_t *rev);
static void ngx_http_cwmp_redis_write_handler(ngx_event_t *wev);
static void ngx_http_cwmp_redis_event(void *privdata, ngx_uint_t write,
    ngx_uint_t add);
static void ngx_http_cwmp_redis_add_read(void *privdata);
static void ngx_http_cwmp_redis_del_read(void *privdata);
static void ngx_http_cwmp_redis_add_write(void *privdata);
static void ngx_http_cwmp_redis_del_write(void *privdata);
static void ngx_http_cwmp_redis_cleanup(void *privdata);

static void ngx_http_cwmp_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_cwmp_redis_reconnect(ngx_event_t *ev);
static void ngx_http_cwmp_redis_watchdog(ngx_event_t *ev);
static void ngx_http_cwmp_redis_op_timeout(ngx_event_t *ev);


/*
 * A node lives until the worker exits (the service keeps every node it
 * made: the cluster's masters, the Sentinels): hiredis may still call back
 * into it from a context being freed.
 */

ngx_http_cwmp_redis_node_t *
ngx_http_cwmp_redis_node_create(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_conf_t *conf, ngx_http_cwmp_redis_addr_t *addr,
    ngx_http_cwmp_redis_role_e role)
{
    ngx_http_cwmp_redis_node_t  *node;

    node = ngx_calloc(sizeof(ngx_http_cwmp_redis_node_t), ngx_cycle->log);
    if (node == NULL) {
        return NULL;
    }

    node->redis = rd;
    node->conf = conf;
    node->role = role;

    if (ngx_http_cwmp_redis_node_move(node, addr) != NGX_OK) {
        ngx_free(node);
        return NULL;
    }

    ngx_queue_init(&node->waiting);
    ngx_queue_init(&node->in_flight);

    node->connect_timer.handler = ngx_http_cwmp_redis_connect_timeout;
    node->connect_timer.data = node;
    node->connect_timer.log = ngx_cycle->log;
    node->connect_timer.cancelable = 1;

    node->reconnect_timer.handler = ngx_http_cwmp_redis_reconnect;
    node->reconnect_timer.data = node;
    node->reconnect_timer.log = ngx_cycle->log;
    node->reconnect_timer.cancelable = 1;

    node->watchdog.handler = ngx_http_cwmp_redis_watchdog;
    node->watchdog.data = node;
    node->watchdog.log = ngx_cycle->log;
    node->watchdog.cancelable = 1;

    ngx_http_cwmp_redis_connect(node);

    return node;
}


/*
 * The node's server is now at another address (a Sentinel named a new
 * master): what is in flight fails, the node connects anew.  Also sets
 * the address of a node being made.
 */

ngx_int_t
ngx_http_cwmp_redis_node_move(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_addr_t *addr)
{
    u_char  *p;

    if (addr->name.len + addr->host.len + addr->path.len + 3
        > sizeof(node->addr_buf))
    {
        return NGX_ERROR;
    }

    p = node->addr_buf;

    node->addr.name.data = p;
    node->addr.name.len = addr->name.len;
    p = ngx_cpymem(p, addr->name.data, addr->name.len);
    *p++ = '\0';

    /* a TCP address has no path, a Unix one no host: no memcpy(NULL) */

    node->addr.host.data = p;
    node->addr.host.len = addr->host.len;
    if (addr->host.len) {
        p = ngx_cpymem(p, addr->host.data, addr->host.len);
    }
    *p++ = '\0';

    node->addr.path.data = p;
    node->addr.path.len = addr->path.len;
    if (addr->path.len) {
        p = ngx_cpymem(p, addr->path.data, addr->path.len);
    }
    *p = '\0';

    node->addr.port = addr->port;

    if (node->state == NGX_HTTP_CWMP_REDIS_DISCONNECTED && node->ac == NULL) {
        return NGX_OK;
    }

    /* the old connection goes; the new one is made at once */

    ngx_http_cwmp_redis_close(node);
    ngx_http_cwmp_redis_fail_node_waiting(node);

    if (node->reconnect_timer.timer_set) {
        ngx_del_timer(&node->reconnect_timer);
    }

    node->backoff = 0;
    node->state = NGX_HTTP_CWMP_REDIS_DISCONNECTED;
    ngx_http_cwmp_redis_connect(node);

    return NGX_OK;
}


void
ngx_http_cwmp_redis_node_destroy(ngx_http_cwmp_redis_node_t *node)
{
    node->exiting = 1;

    if (node->reconnect_timer.timer_set) {
        ngx_del_timer(&node->reconnect_timer);
    }

    ngx_http_cwmp_redis_fail_node_waiting(node);
    ngx_http_cwmp_redis_close(node);

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    if (node->watchdog.timer_set) {
        ngx_del_timer(&node->watchdog);
    }

    node->state = NGX_HTTP_CWMP_REDIS_DISCONNECTED;

    /* the node's memory goes with the worker: a freed context may still
     * name it */
}


ngx_int_t
ngx_http_cwmp_redis_node_available(ngx_http_cwmp_redis_node_t *node)
{
    if (node == NULL || node->exiting
        || node->state == NGX_HTTP_CWMP_REDIS_BACKOFF)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


void
ngx_http_cwmp_redis_node_reset(ngx_http_cwmp_redis_node_t *node,
    const char *reason)
{
    if (node->ac == NULL) {
        return;
    }

    ngx_http_cwmp_redis_close(node);
    ngx_http_cwmp_redis_fail(node, reason);
}


void
ngx_http_cwmp_redis_reset(ngx_http_cwmp_redis_op_t *op, const char *reason)
{
    if (op->node) {
        ngx_http_cwmp_redis_node_reset(op->node, reason);
    }
}


ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_redis_op_create(ngx_http_cwmp_redis_cmd_t *cmds,
    ngx_uint_t ncmds, ngx_log_t *log)
{
    size_t                     size, len;
    u_char                    *p;
    ngx_uint_t                 i, j;
    ngx_http_cwmp_redis_op_t  *op;

    if (ncmds == 0 || ncmds > NGX_HTTP_CWMP_REDIS_MAX_CMDS) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "cwmp redis: an op of %ui commands", ncmds);
        return NULL;
    }

    /* the RESP encoding of every command, one after the other */

    size = 0;

    for (i = 0; i < ncmds; i++) {
        size += sizeof("*\r\n") - 1 + NGX_SIZE_T_LEN;

        for (j = 0; j < cmds[i].nargs; j++) {
            size += sizeof("$\r\n\r\n") - 1 + NGX_SIZE_T_LEN
                    + cmds[i].args[j].len;
        }
    }

    /*
     * + 1: hiredis peeks at the byte after a command's first argument
     * (looking for SUBSCRIBE variants), which must be readable
     */

    op = ngx_alloc(sizeof(ngx_http_cwmp_redis_op_t)
                   + ncmds * sizeof(size_t) + size + 1, log);
    if (op == NULL) {
        return NULL;
    }

    ngx_memzero(op, sizeof(ngx_http_cwmp_redis_op_t));

    op->ncmds = ncmds;
    op->todo = (ncmds == 32) ? 0xffffffff : ((uint32_t) 1 << ncmds) - 1;
    op->lens = (size_t *) (op + 1);
    op->buf = (u_char *) (op->lens + ncmds);
    op->rc = NGX_OK;

    p = op->buf;

    for (i = 0; i < ncmds; i++) {
        len = (size_t) (p - op->buf);

        *p++ = '*';
        p = ngx_http_cwmp_redis_number(p, cmds[i].nargs);

        for (j = 0; j < cmds[i].nargs; j++) {
            *p++ = '$';
            p = ngx_http_cwmp_redis_number(p, cmds[i].args[j].len);

            if (cmds[i].args[j].len) {       /* an empty one may be NULL */
                p = ngx_cpymem(p, cmds[i].args[j].data,
                               cmds[i].args[j].len);
            }

            *p++ = CR; *p++ = LF;
        }

        op->lens[i] = (size_t) (p - op->buf) - len;
    }

    *p = '\0';

    op->timer.handler = ngx_http_cwmp_redis_op_timeout;
    op->timer.data = op;
    op->timer.log = log;

    return op;
}


/* "<n>\r\n": RESP's lengths, without ngx_sprintf() (most of an op's cost) */

static u_char *
ngx_http_cwmp_redis_number(u_char *p, size_t n)
{
    u_char  digits[NGX_SIZE_T_LEN], *d;

    d = digits + NGX_SIZE_T_LEN;

    do {
        *--d = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    p = ngx_cpymem(p, d, digits + NGX_SIZE_T_LEN - d);
    *p++ = CR; *p++ = LF;

    return p;
}


ngx_int_t
ngx_http_cwmp_redis_node_submit(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_op_t *op)
{
    if (node->exiting) {
        return NGX_DECLINED;
    }

    if (node->state == NGX_HTTP_CWMP_REDIS_DISCONNECTED) {
        ngx_http_cwmp_redis_connect(node);
    }

    switch (node->state) {

    case NGX_HTTP_CWMP_REDIS_READY:

        /*
         * WAIT holds the connection up to wait_timeout, and what is
         * pipelined after it: while the replicas lag, one op a second
         * goes (its WAIT says when they are back), the others get 503
         */

        if (node->unreplicated && !op->internal) {
            if (ngx_current_msec - node->probed
                < NGX_HTTP_CWMP_REDIS_UNREPLICATED_PROBE)
            {
                return NGX_DECLINED;
            }

            node->probed = ngx_current_msec;
        }

        if (ngx_http_cwmp_redis_send(node, op) != NGX_OK) {
            return NGX_DECLINED;
        }

        return NGX_OK;

    case NGX_HTTP_CWMP_REDIS_CONNECTING:
    case NGX_HTTP_CWMP_REDIS_HANDSHAKE:

        if (node->nwaiting >= node->conf->queue_max) {
            ngx_log_error(NGX_LOG_INFO, op->timer.log, 0,
                          "redis \"%V\" is connecting and %ui requests wait "
                          "for it already", &node->addr.name,
                          node->nwaiting);
            return NGX_DECLINED;
        }

        op->node = node;
        ngx_queue_insert_tail(&node->waiting, &op->queue);
        op->waiting = 1;
        node->nwaiting++;

        return NGX_OK;

    default: /* BACKOFF, or a connect that failed at once */
        return NGX_DECLINED;
    }
}


void
ngx_http_cwmp_redis_cancel(ngx_http_cwmp_redis_op_t *op)
{
    if (op->finished) {
        return;
    }

    op->finished = 1;
    op->data = NULL;

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (op->in_flight) {
        /* freed by its last reply callback */
        return;
    }

    if (op->retry.timer_set) {
        ngx_del_timer(&op->retry);
    }

    if (op->waiting) {
        ngx_queue_remove(&op->queue);
        op->waiting = 0;

        if (op->node) {
            op->node->nwaiting--;

        } else {
            op->redis->nwaiting--;
        }
    }

    ngx_free(op);
}


/*
 * The commands of the op still to be answered, in order; ASKING first
 * after an ASK redirect, WAIT last when writes must reach replicas
 */

static ngx_int_t
ngx_http_cwmp_redis_send(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_op_t *op)
{
    u_char      *p, wait[64], n1[NGX_INT_T_LEN], n2[NGX_INT_T_LEN];
    size_t       len, l1, l2;
    ngx_uint_t   i, n;

    static u_char  asking[] = "*1\r\n$6\r\nASKING\r\n";

    n = 0;
    op->nreplies = 0;
    op->nsent = 0;
    op->why = 0;
    op->node = node;
    op->sent_todo = op->todo;

    if (op->asking) {
        if (redisAsyncFormattedCommand(node->ac, ngx_http_cwmp_redis_on_reply,
                                       op, (const char *) asking,
                                       sizeof(asking) - 1)
            != REDIS_OK)
        {
            return NGX_ERROR;
        }

        op->order[n++] = NGX_HTTP_CWMP_REDIS_ORDER_ASKING;
        op->asking = 0;
    }

    p = op->buf;

    for (i = 0; i < op->ncmds; i++) {

        if (op->todo & ((uint32_t) 1 << i)) {
            if (redisAsyncFormattedCommand(node->ac,
                                           ngx_http_cwmp_redis_on_reply, op,
                                           (const char *) p, op->lens[i])
                != REDIS_OK)
            {
                break;
            }

            op->order[n++] = (u_char) i;
        }

        p += op->lens[i];
    }

    if (i == op->ncmds && node->conf->wait_replicas && !op->internal
        && node->role == NGX_HTTP_CWMP_REDIS_DATA)
    {
        /* the writes on enough replicas, or a failure: same round trip */

        l1 = ngx_sprintf(n1, "%ui", node->conf->wait_replicas) - n1;
        l2 = ngx_sprintf(n2, "%M", node->conf->wait_timeout) - n2;
        len = ngx_sprintf(wait, "*3\r\n$4\r\nWAIT\r\n$%uz\r\n%*s\r\n"
                          "$%uz\r\n%*s\r\n", l1, l1, n1, l2, l2, n2)
              - wait;

        if (redisAsyncFormattedCommand(node->ac, ngx_http_cwmp_redis_on_reply,
                                       op, (const char *) wait, len)
            == REDIS_OK)
        {
            op->order[n++] = NGX_HTTP_CWMP_REDIS_ORDER_WAIT;

        } else {
            i = 0;      /* the context is going away */
        }
    }

    op->nsent = n;

    if (n == 0) {
        return NGX_ERROR;
    }

    if (i < op->ncmds) {
        /* the context is going away: the replies sent will finish it */
        op->rc = NGX_ERROR;
    }

    op->sent = ngx_current_msec;
    op->in_flight = 1;
    ngx_queue_insert_tail(&node->in_flight, &op->queue);

    /* the connection's own handshake is no load */

    op->counted = !op->internal;
    node->nin_flight += op->counted;

    return NGX_OK;
}


static void
ngx_http_cwmp_redis_on_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_uint_t                   k, cmd, why;
    redisReply                  *r;
    ngx_http_cwmp_redis_op_t    *op;
    ngx_http_cwmp_redis_node_t  *node;

    op = privdata;
    node = op->node;
    r = reply;

    k = op->nreplies++;
    cmd = op->order[k];

    if (!op->finished && op->rc == NGX_OK) {

        if (r == NULL) {
            op->rc = NGX_ERROR;

        } else if (cmd == NGX_HTTP_CWMP_REDIS_ORDER_ASKING) {
            /* its OK, or an error the command after it will show */

        } else if (cmd == NGX_HTTP_CWMP_REDIS_ORDER_WAIT) {

            if (r->type != REDIS_REPLY_INTEGER
                || (ngx_uint_t) r->integer < node->conf->wait_replicas)
            {
                if (op->todo != op->sent_todo) {
                    /* a line when it starts, one when it ends */

                    if (!node->unreplicated) {
                        ngx_log_error(NGX_LOG_ERR, op->timer.log, 0,
                                      "redis \"%V\": %i of %ui replicas have "
                                      "the writes after %M ms: 503 until "
                                      "they do", &node->addr.name,
                                      r->type == REDIS_REPLY_INTEGER
                                      ? (ngx_int_t) r->integer : -1,
                                      node->conf->wait_replicas,
                                      node->conf->wait_timeout);
                        node->unreplicated = 1;
                        node->probed = ngx_current_msec;
                    }

                    op->rc = NGX_ERROR;
                }

            } else if (node->unreplicated) {
                ngx_log_error(NGX_LOG_NOTICE, op->timer.log, 0,
                              "redis \"%V\": the replicas have the writes "
                              "again", &node->addr.name);
                node->unreplicated = 0;
            }

        } else if (r->type == REDIS_REPLY_ERROR && !op->internal
                   && (why = ngx_http_cwmp_redis_redirect(op, r)))
        {
            /* the command stays to do, elsewhere or later */
            op->why = ngx_max(op->why, why);

        } else if (r->type == REDIS_REPLY_ERROR && r->len >= 8
                   && ngx_strncmp(r->str, "READONLY", 8) == 0)
        {
            node->demoted = 1;
            op->rc = NGX_ERROR;

        } else {
            op->todo &= ~((uint32_t) 1 << cmd);

            if (op->reply && op->reply(op, cmd, r) != NGX_OK) {
                op->rc = NGX_ERROR;
            }
        }
    }

    if (op->nreplies < op->nsent) {
        return;
    }

    ngx_queue_remove(&op->queue);
    op->in_flight = 0;
    node->nin_flight -= op->counted;

    /* the round trip, whatever came of it */
    ngx_http_cwmp_metric_redis_latency(ngx_current_msec - op->sent);

    if (op->rc != NGX_OK) {
        ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_REDIS_ERRORS);
    }

    if (node->demoted) {
        node->demoted = 0;
        ngx_http_cwmp_redis_node_reset(node, "it is no longer a master "
                                       "(READONLY)");
    }

    if (!op->finished) {

        if (op->rc == NGX_OK && op->why) {
            /* the service sends the rest elsewhere or later, or fails it */
            ngx_http_cwmp_redis_again(op);
            return;
        }

        ngx_http_cwmp_redis_finish(op, op->rc);
    }

    ngx_free(op);
}


/* MOVED, ASK (the target kept in the op), TRYAGAIN, CLUSTERDOWN, or 0 */

static ngx_uint_t
ngx_http_cwmp_redis_redirect(ngx_http_cwmp_redis_op_t *op, redisReply *r)
{
    u_char  *p, *last;
    size_t   skip;

    if (op->redis->conf->mode != NGX_HTTP_CWMP_REDIS_CLUSTER) {
        return 0;
    }

    if (r->len >= 8 && ngx_strncmp(r->str, "TRYAGAIN", 8) == 0) {
        return NGX_HTTP_CWMP_REDIS_TRYAGAIN;
    }

    if (r->len >= 11 && ngx_strncmp(r->str, "CLUSTERDOWN", 11) == 0) {
        return NGX_HTTP_CWMP_REDIS_DOWN;
    }

    if (r->len > 6 && ngx_strncmp(r->str, "MOVED ", 6) == 0) {
        skip = 6;

    } else if (r->len > 4 && ngx_strncmp(r->str, "ASK ", 4) == 0) {
        skip = 4;

    } else {
        return 0;
    }

    /* "MOVED <slot> <host:port>" */

    p = (u_char *) r->str + skip;
    last = (u_char *) r->str + r->len;

    p = ngx_strlchr(p, last, ' ');
    if (p == NULL || (size_t) (last - p - 1) >= sizeof(op->target)) {
        return 0;
    }

    p++;
    op->target_len = last - p;
    ngx_memcpy(op->target, p, op->target_len);

    return skip == 6 ? NGX_HTTP_CWMP_REDIS_MOVED : NGX_HTTP_CWMP_REDIS_ASK;
}


void
ngx_http_cwmp_redis_finish(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    op->finished = 1;

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (op->retry.timer_set) {
        ngx_del_timer(&op->retry);
    }

    if (op->done == NULL) {
        return;
    }

    /* the worker exits: the owner forgets the op, touches no request */

    op->done(op, op->redis->exiting ? NGX_ABORT : rc);
}


static void
ngx_http_cwmp_redis_op_timeout(ngx_event_t *ev)
{
    ngx_http_cwmp_redis_op_t  *op;

    op = ev->data;

    ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                  "redis \"%V\" did not answer within %M ms",
                  op->node ? &op->node->addr.name : &op->redis->conf->name,
                  op->redis->conf->timeout);

    if (op->in_flight) {
        /* Redis may still apply it; the last reply frees the op */
        ngx_http_cwmp_redis_finish(op, NGX_ERROR);
        return;
    }

    if (op->waiting) {
        ngx_queue_remove(&op->queue);
        op->waiting = 0;

        if (op->node) {
            op->node->nwaiting--;

        } else {
            op->redis->nwaiting--;
        }
    }

    /* waiting, or between attempts (a retry timer) */

    ngx_http_cwmp_redis_finish(op, NGX_ERROR);
    ngx_free(op);
}


static void
ngx_http_cwmp_redis_fail_node_waiting(ngx_http_cwmp_redis_node_t *node)
{
    ngx_queue_t               *q;
    ngx_http_cwmp_redis_op_t  *op;

    while (!ngx_queue_empty(&node->waiting)) {
        q = ngx_queue_head(&node->waiting);
        ngx_queue_remove(q);
        node->nwaiting--;

        op = ngx_queue_data(q, ngx_http_cwmp_redis_op_t, queue);
        op->waiting = 0;

        ngx_http_cwmp_redis_finish(op, NGX_ERROR);
        ngx_free(op);
    }
}


static void
ngx_http_cwmp_redis_connect(ngx_http_cwmp_redis_node_t *node)
{
    ngx_connection_t            *c;
    redisAsyncContext           *ac;
    ngx_http_cwmp_redis_addr_t  *addr;

    addr = &node->addr;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                   "cwmp redis connect \"%V\"", &addr->name);

    /* addresses are numeric (resolved at configuration time): no DNS */

    if (addr->path.len) {
        ac = redisAsyncConnectUnix((const char *) addr->path.data);

    } else {
        ac = redisAsyncConnect((const char *) addr->host.data,
                               (int) addr->port);
    }

    if (ac == NULL) {
        ngx_http_cwmp_redis_fail(node, "out of memory");
        return;
    }

    if (ac->err) {
        ngx_http_cwmp_redis_fail(node, ac->errstr);
        redisAsyncFree(ac);
        return;
    }

    c = ngx_get_connection(ac->c.fd, ngx_cycle->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_cwmp_redis_fail(node, "no free connection");
        return;
    }

    c->data = ac;
    c->read->log = c->log;
    c->write->log = c->log;
    c->read->handler = ngx_http_cwmp_redis_read_handler;
    c->write->handler = ngx_http_cwmp_redis_write_handler;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_cwmp_redis_add_read;
    ac->ev.delRead = ngx_http_cwmp_redis_del_read;
    ac->ev.addWrite = ngx_http_cwmp_redis_add_write;
    ac->ev.delWrite = ngx_http_cwmp_redis_del_write;
    ac->ev.cleanup = ngx_http_cwmp_redis_cleanup;
    ac->data = node;

    node->ac = ac;
    node->state = NGX_HTTP_CWMP_REDIS_CONNECTING;

    /* the connect callback arms the write event: hooks must be set first */

    redisAsyncSetDisconnectCallback(ac, ngx_http_cwmp_redis_on_disconnect);
    redisAsyncSetConnectCallback(ac, ngx_http_cwmp_redis_on_connect);

    ngx_add_timer(&node->connect_timer, node->conf->connect_timeout);
}


static void
ngx_http_cwmp_redis_on_connect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext           *ac;
    ngx_http_cwmp_redis_node_t  *node;

    ac = (redisAsyncContext *) cac;
    node = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback returns */
        node->ac = NULL;
        ngx_http_cwmp_redis_fail(node, ac->errstr);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                   "cwmp redis connected to \"%V\"", &node->addr.name);

    if (node->addr.path.len == 0) {
        (void) redisEnableKeepAlive(&ac->c);
    }

    node->state = NGX_HTTP_CWMP_REDIS_HANDSHAKE;

    if (ngx_http_cwmp_redis_handshake(node) != NGX_OK) {
        ngx_http_cwmp_redis_close(node);
        ngx_http_cwmp_redis_fail(node, "handshake not sent");
    }

    /* the connect timer, still running, bounds the handshake */
}


/*
 * AUTH; on a data node SELECT (not in a cluster), ROLE (a master named by
 * the Sentinels must still be one), SCRIPT LOAD of each script and INFO
 * memory (a policy that evicts is said); then a PING so that the
 * handshake is never empty
 */

static ngx_int_t
ngx_http_cwmp_redis_handshake(ngx_http_cwmp_redis_node_t *node)
{
    u_char                       db[NGX_INT_T_LEN];
    ngx_str_t                    auth[3], select[2], role[1], ping[1], *load;
    ngx_str_t                    info[2];
    ngx_str_t                    function[4];
    ngx_str_t                   *user, *password;
    ngx_uint_t                   n, i, nscripts;
    ngx_http_cwmp_redis_op_t    *op;
    ngx_http_cwmp_redis_cmd_t   *cmds;
    ngx_http_cwmp_redis_conf_t  *conf;

    conf = node->conf;

    if (node->role == NGX_HTTP_CWMP_REDIS_SENTINEL_NODE) {
        user = &conf->sentinel_user;
        password = &conf->sentinel_password;
        nscripts = 0;

    } else {
        user = &conf->user;
        password = &conf->password;
        nscripts = conf->nscripts;
    }

    cmds = ngx_alloc((nscripts + 6) * sizeof(ngx_http_cwmp_redis_cmd_t),
                     ngx_cycle->log);
    load = ngx_alloc((nscripts * 3 + 1) * sizeof(ngx_str_t), ngx_cycle->log);

    if (cmds == NULL || load == NULL) {
        ngx_free(cmds);
        ngx_free(load);
        return NGX_ERROR;
    }

    n = 0;

    if (password->len) {
        ngx_str_set(&auth[0], "AUTH");
        cmds[n].args = auth;
        cmds[n].nargs = 2;

        if (user->len) {
            auth[1] = *user;
            auth[2] = *password;
            cmds[n].nargs = 3;

        } else {
            auth[1] = *password;
        }

        n++;
    }

    if (node->role == NGX_HTTP_CWMP_REDIS_DATA && conf->db) {
        ngx_str_set(&select[0], "SELECT");
        select[1].data = db;
        select[1].len = ngx_sprintf(db, "%ui", conf->db) - db;
        cmds[n].args = select;
        cmds[n].nargs = 2;
        n++;
    }

    node->role_at = 0;

    if (node->check_role) {
        ngx_str_set(&role[0], "ROLE");
        cmds[n].args = role;
        cmds[n].nargs = 1;
        node->role_at = ++n;        /* its index + 1 */
    }

    node->scripts_first = n;

    for (i = 0; i < nscripts; i++) {
        ngx_str_set(&load[3 * i], "SCRIPT");
        ngx_str_set(&load[3 * i + 1], "LOAD");
        load[3 * i + 2] = conf->scripts[i];
        cmds[n].args = &load[3 * i];
        cmds[n].nargs = 3;
        n++;
    }

    node->functions_at = 0;

    if (nscripts && conf->functions.len) {
        ngx_str_set(&function[0], "FUNCTION");
        ngx_str_set(&function[1], "LOAD");
        ngx_str_set(&function[2], "REPLACE");
        function[3] = conf->functions;
        cmds[n].args = function;
        cmds[n].nargs = 4;
        node->functions_at = ++n;   /* its index + 1 */
    }

    node->memory_at = 0;

    if (node->role == NGX_HTTP_CWMP_REDIS_DATA) {
        ngx_str_set(&info[0], "INFO");
        ngx_str_set(&info[1], "memory");
        cmds[n].args = info;
        cmds[n].nargs = 2;
        node->memory_at = ++n;      /* its index + 1 */
    }

    ngx_str_set(&ping[0], "PING");
    cmds[n].args = ping;
    cmds[n].nargs = 1;
    n++;

    op = ngx_http_cwmp_redis_op_create(cmds, n, ngx_cycle->log);

    ngx_free(cmds);
    ngx_free(load);

    if (op == NULL) {
        return NGX_ERROR;
    }

    op->redis = node->redis;
    op->node = node;
    op->data = node;
    op->internal = 1;
    op->reply = ngx_http_cwmp_redis_handshake_reply;
    op->done = ngx_http_cwmp_redis_handshake_done;

    if (ngx_http_cwmp_redis_send(node, op) != NGX_OK) {
        ngx_free(op);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_redis_handshake_reply(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply)
{
    ngx_str_t                   *sha;
    redisReply                  *r, *e;
    ngx_http_cwmp_redis_node_t  *node;

    r = reply;
    node = op->data;

    if (node->role_at && i == node->role_at - 1) {

        /* ROLE: "master", or a replica a failover left behind */

        e = (r->type == REDIS_REPLY_ARRAY && r->elements) ? r->element[0]
                                                          : NULL;

        if (e == NULL || e->type != REDIS_REPLY_STRING || e->len != 6
            || ngx_strncmp(e->str, "master", 6) != 0)
        {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "redis \"%V\" is not a master (ROLE)",
                          &node->addr.name);
            node->outage = 1;
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (node->memory_at && i == node->memory_at - 1) {
        ngx_http_cwmp_redis_memory_policy(node, r);
        return NGX_OK;
    }

    if (node->functions_at && i == node->functions_at - 1) {

        /*
         * the library other systems call: without it (a Redis before 7.0,
         * an ACL without FUNCTION) the ACS works, and says so once
         */

        if (r->type == REDIS_REPLY_ERROR && !node->functions_refused) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis \"%V\" did not load the cwmp function "
                          "library (FCALL cwmp_* unavailable): \"%*s\"",
                          &node->addr.name, (size_t) r->len, r->str);
            node->functions_refused = 1;
        }

        return NGX_OK;
    }

    if (i >= node->scripts_first
        && i < node->scripts_first + node->conf->nscripts
        && r->type == REDIS_REPLY_STRING)
    {
        /* SCRIPT LOAD answers the script's SHA1: the one computed here */

        sha = &node->redis->shas[i - node->scripts_first];

        if ((size_t) r->len != sha->len
            || ngx_strncmp(r->str, sha->data, sha->len) != 0)
        {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "redis \"%V\" named script %ui \"%*s\", not "
                          "\"%V\"", &node->addr.name,
                          i - node->scripts_first, (size_t) r->len, r->str,
                          sha);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (r->type != REDIS_REPLY_ERROR) {
        return NGX_OK;
    }

    if (!node->outage) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "redis \"%V\" refused the handshake: \"%*s\"",
                      &node->addr.name, (size_t) r->len, r->str);
        node->outage = 1;
    }

    return NGX_ERROR;
}


/*
 * INFO memory's maxmemory_policy: a policy that evicts drops the ACS's
 * keys (devices, queued tasks, sessions) when Redis is full, without a
 * word; said once per node.  A refusal (an ACL without INFO) says nothing
 */

static void
ngx_http_cwmp_redis_memory_policy(ngx_http_cwmp_redis_node_t *node,
    redisReply *r)
{
    u_char  *p, *last, *v;

    if (r->type != REDIS_REPLY_STRING || node->evicts_said) {
        return;
    }

    p = ngx_strnstr((u_char *) r->str, "maxmemory_policy:", r->len);
    if (p == NULL) {
        return;
    }

    v = p + sizeof("maxmemory_policy:") - 1;
    last = (u_char *) r->str + r->len;

    for (p = v; p < last && *p != '\r' && *p != '\n'; p++) {
        /* void */
    }

    if (p - v == 10 && ngx_strncmp(v, "noeviction", 10) == 0) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "redis \"%V\" has maxmemory-policy \"%*s\": when full "
                  "it evicts keys, and the devices, tasks and sessions in "
                  "them are lost; set it to noeviction (a full Redis then "
                  "refuses writes: the ACS answers 503)",
                  &node->addr.name, (size_t) (p - v), v);

    node->evicts_said = 1;
}


static void
ngx_http_cwmp_redis_handshake_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_redis_node_t  *node;

    node = op->data;

    if (rc == NGX_ABORT || node->state != NGX_HTTP_CWMP_REDIS_HANDSHAKE) {
        return;
    }

    if (rc == NGX_OK) {
        ngx_http_cwmp_redis_ready(node);
        return;
    }

    if (node->ac == NULL
        || (node->ac->c.flags & (REDIS_DISCONNECTING|REDIS_FREEING)))
    {
        /* the connection is going away: its disconnect callback follows */
        return;
    }

    ngx_http_cwmp_redis_close(node);
    ngx_http_cwmp_redis_fail(node, "handshake failed");
}


static void
ngx_http_cwmp_redis_ready(ngx_http_cwmp_redis_node_t *node)
{
    ngx_queue_t               *q;
    ngx_http_cwmp_redis_op_t  *op;

    node->state = NGX_HTTP_CWMP_REDIS_READY;
    node->backoff = 0;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    if (node->outage) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "redis \"%V\" is available again", &node->addr.name);
        node->outage = 0;
    }

    ngx_add_timer(&node->watchdog, ngx_max(node->conf->timeout / 2, 50));

    while (!ngx_queue_empty(&node->waiting)) {
        q = ngx_queue_head(&node->waiting);
        ngx_queue_remove(q);
        node->nwaiting--;

        op = ngx_queue_data(q, ngx_http_cwmp_redis_op_t, queue);
        op->waiting = 0;

        if (op->finished) {
            ngx_free(op);
            continue;
        }

        if (node->state != NGX_HTTP_CWMP_REDIS_READY
            || ngx_http_cwmp_redis_send(node, op) != NGX_OK)
        {
            ngx_http_cwmp_redis_finish(op, NGX_ERROR);
            ngx_free(op);
        }
    }

    if (node->state == NGX_HTTP_CWMP_REDIS_READY) {
        ngx_http_cwmp_redis_node_ready(node);
    }
}


static void
ngx_http_cwmp_redis_on_disconnect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext           *ac;
    ngx_http_cwmp_redis_node_t  *node;

    ac = (redisAsyncContext *) cac;
    node = ac->data;

    /* hiredis frees the context after this callback returns */

    node->ac = NULL;

    ngx_http_cwmp_redis_fail(node, status == REDIS_OK ? "connection closed"
                                                      : ac->errstr);
}


/* a deliberate close: hiredis answers every pending callback with NULL */

static void
ngx_http_cwmp_redis_close(ngx_http_cwmp_redis_node_t *node)
{
    redisAsyncContext  *ac;

    ac = node->ac;

    if (ac == NULL) {
        return;
    }

    node->ac = NULL;
    node->state = NGX_HTTP_CWMP_REDIS_BACKOFF;

    ac->onDisconnect = NULL;
    redisAsyncFree(ac);
}


static void
ngx_http_cwmp_redis_fail(ngx_http_cwmp_redis_node_t *node, const char *reason)
{
    ngx_msec_t                   delay;
    ngx_http_cwmp_redis_conf_t  *conf;

    conf = node->conf;

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    if (node->watchdog.timer_set) {
        ngx_del_timer(&node->watchdog);
    }

    /* one error line per outage; its end is logged by ready() */

    if (!node->outage) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "redis \"%V\" unavailable: %s", &node->addr.name,
                      reason ? reason : "unknown error");
        node->outage = 1;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                       "cwmp redis \"%V\" still unavailable: %s",
                       &node->addr.name, reason ? reason : "unknown error");
    }

    node->state = NGX_HTTP_CWMP_REDIS_BACKOFF;

    ngx_http_cwmp_redis_fail_node_waiting(node);

    if (node->exiting || ngx_exiting || ngx_quit || ngx_terminate) {
        node->state = NGX_HTTP_CWMP_REDIS_DISCONNECTED;
        return;
    }

    /* exponential backoff with jitter: [backoff / 2, backoff] */

    if (node->backoff == 0) {
        node->backoff = conf->backoff_min;

    } else {
        node->backoff = ngx_min(node->backoff * 2, conf->backoff_max);
    }

    delay = node->backoff / 2 + (ngx_msec_t) ngx_random() % (node->backoff / 2
                                                             + 1);

    if (node->reconnect_timer.timer_set) {
        ngx_del_timer(&node->reconnect_timer);
    }

    ngx_add_timer(&node->reconnect_timer, delay);

    /* the cluster's map, the Sentinels' master may have changed */

    ngx_http_cwmp_redis_node_lost(node);
}


static void
ngx_http_cwmp_redis_reconnect(ngx_event_t *ev)
{
    ngx_http_cwmp_redis_node_t  *node;

    node = ev->data;

    if (node->exiting || node->ac) {
        return;
    }

    ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_REDIS_RECONNECTS);
    ngx_http_cwmp_redis_connect(node);
}


static void
ngx_http_cwmp_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_cwmp_redis_node_t  *node;

    node = ev->data;

    if (node->state != NGX_HTTP_CWMP_REDIS_CONNECTING
        && node->state != NGX_HTTP_CWMP_REDIS_HANDSHAKE)
    {
        return;
    }

    ngx_http_cwmp_redis_close(node);
    ngx_http_cwmp_redis_fail(node, "connect timed out");
}


static void
ngx_http_cwmp_redis_watchdog(ngx_event_t *ev)
{
    ngx_queue_t                 *q;
    ngx_http_cwmp_redis_op_t    *op;
    ngx_http_cwmp_redis_node_t  *node;

    node = ev->data;

    if (node->state != NGX_HTTP_CWMP_REDIS_READY) {
        return;
    }

    if (!ngx_queue_empty(&node->in_flight)) {
        q = ngx_queue_head(&node->in_flight);
        op = ngx_queue_data(q, ngx_http_cwmp_redis_op_t, queue);

        /* WAIT may take its own time on top of the command timeout */

        if (ngx_current_msec - op->sent
            >= node->conf->timeout + node->conf->wait_timeout)
        {
            /* replies come in order: the oldest command is stuck */
            ngx_http_cwmp_redis_close(node);
            ngx_http_cwmp_redis_fail(node, "stuck connection, no reply "
                                     "within the command timeout");
            return;
        }
    }

    ngx_add_timer(ev, ngx_max(node->conf->timeout / 2, 50));
}


static void
ngx_http_cwmp_redis_read_handler(ngx_event_t *rev)
{
    ngx_connection_t  *c;

    c = rev->data;

    /* the context, and with it c, may be gone when this returns */

    redisAsyncHandleRead(c->data);
}


static void
ngx_http_cwmp_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t  *c;

    c = wev->data;

    redisAsyncHandleWrite(c->data);
}


/*
 * The hooks: hiredis calls addRead after every read and write, so they are
 * idempotent.  Level-triggered events on both halves (epoll keeps one mask
 * per fd), so that the rest of a reply larger than one read raises again.
 */

static void
ngx_http_cwmp_redis_event(void *privdata, ngx_uint_t write, ngx_uint_t add)
{
    ngx_int_t          rc;
    ngx_uint_t         event;
    ngx_event_t       *ev;
    ngx_connection_t  *c;

    c = privdata;

    if (c == NULL) {
        return;
    }

    ev = write ? c->write : c->read;

    if (ev->active == add) {
        return;
    }

    event = write ? NGX_WRITE_EVENT : NGX_READ_EVENT;

    rc = add ? ngx_add_event(ev, event, NGX_LEVEL_EVENT)
             : ngx_del_event(ev, event, 0);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "cwmp redis: could not %s the %s event",
                      add ? "add" : "delete", write ? "write" : "read");
    }
}


static void
ngx_http_cwmp_redis_add_read(void *privdata)
{
    ngx_http_cwmp_redis_event(privdata, 0, 1);
}


static void
ngx_http_cwmp_redis_del_read(void *privdata)
{
    ngx_http_cwmp_redis_event(privdata, 0, 0);
}


static void
ngx_http_cwmp_redis_add_write(void *privdata)
{
    ngx_http_cwmp_redis_event(privdata, 1, 1);
}


static void
ngx_http_cwmp_redis_del_write(void *privdata)
{
    ngx_http_cwmp_redis_event(privdata, 1, 0);
}


/* called by hiredis right before it frees the context */

static void
ngx_http_cwmp_redis_cleanup(void *privdata)
{
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    c = privdata;

    if (c == NULL) {
        return;
    }

    ac = c->data;

    ngx_close_connection(c);

    /* nginx closed the fd: hiredis must not close a reused number again */

    ac->c.fd = -1;
    ac->ev.data = NULL;
    ac->ev.addRead = NULL;
    ac->ev.delRead = NULL;
    ac->ev.addWrite = NULL;
    ac->ev.delWrite = NULL;
    ac->ev.cleanup = NULL;
}

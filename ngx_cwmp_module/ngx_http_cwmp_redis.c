
/*
 * Copyright (C) ngx_cwmp authors
 *
 * One hiredis async context per worker, driven by nginx events: the Redis
 * socket is an nginx connection with level-triggered events, so a large
 * reply never stalls.  Ops (batches of pipelined commands) submitted while
 * the connection is being set up wait in a bounded queue; while Redis is
 * unreachable they are refused at once, so callers can answer quickly.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_sha1.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "ngx_http_cwmp_redis.h"




typedef enum {
    NGX_HTTP_CWMP_REDIS_DISCONNECTED = 0,
    NGX_HTTP_CWMP_REDIS_CONNECTING,
    NGX_HTTP_CWMP_REDIS_HANDSHAKE,
    NGX_HTTP_CWMP_REDIS_READY,
    NGX_HTTP_CWMP_REDIS_BACKOFF
} ngx_http_cwmp_redis_state_e;


struct ngx_http_cwmp_redis_node_s {
    ngx_http_cwmp_redis_conf_t   *conf;
    redisAsyncContext            *ac;
    ngx_http_cwmp_redis_state_e   state;
    ngx_queue_t                   waiting;
    ngx_uint_t                    nwaiting;
    ngx_queue_t                   in_flight;
    ngx_uint_t                    nin_flight;
    ngx_event_t                   connect_timer;   /* connect + handshake */
    ngx_event_t                   reconnect_timer;
    ngx_event_t                   watchdog;
    ngx_msec_t                    backoff;
    ngx_str_t                    *shas;            /* of conf->scripts */
    ngx_uint_t                    scripts_first;   /* in the handshake */

    unsigned                      outage:1;        /* failure was logged */
    unsigned                      exiting:1;
};


static u_char *ngx_http_cwmp_redis_number(u_char *p, size_t n);
static void ngx_http_cwmp_redis_connect(ngx_http_cwmp_redis_node_t *node);
static void ngx_http_cwmp_redis_close(ngx_http_cwmp_redis_node_t *node);
static void ngx_http_cwmp_redis_fail(ngx_http_cwmp_redis_node_t *node,
    const char *reason);
static void ngx_http_cwmp_redis_ready(ngx_http_cwmp_redis_node_t *node);
static ngx_int_t ngx_http_cwmp_redis_send(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_op_t *op);
static void ngx_http_cwmp_redis_finish(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_redis_fail_waiting(ngx_http_cwmp_redis_node_t *node);

static void ngx_http_cwmp_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_cwmp_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_cwmp_redis_on_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
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


ngx_http_cwmp_redis_node_t *
ngx_http_cwmp_redis_node_create(ngx_cycle_t *cycle,
    ngx_http_cwmp_redis_conf_t *conf)
{
    u_char                       digest[20];
    ngx_sha1_t                   sha1;
    ngx_uint_t                   i;
    ngx_http_cwmp_redis_node_t  *node;

    node = ngx_pcalloc(cycle->pool, sizeof(ngx_http_cwmp_redis_node_t));
    if (node == NULL) {
        return NULL;
    }

    node->conf = conf;

    node->shas = ngx_pcalloc(cycle->pool,
                             (conf->nscripts + 1) * sizeof(ngx_str_t));
    if (node->shas == NULL) {
        return NULL;
    }

    /*
     * the SHA1 of each script, as Redis names it: an op may be formatted
     * (EVALSHA) before the handshake has loaded the scripts
     */

    for (i = 0; i < conf->nscripts; i++) {
        node->shas[i].len = 40;
        node->shas[i].data = ngx_pnalloc(cycle->pool, 40);
        if (node->shas[i].data == NULL) {
            return NULL;
        }

        ngx_sha1_init(&sha1);
        ngx_sha1_update(&sha1, conf->scripts[i].data, conf->scripts[i].len);
        ngx_sha1_final(digest, &sha1);

        ngx_hex_dump(node->shas[i].data, digest, 20);
    }

    ngx_queue_init(&node->waiting);
    ngx_queue_init(&node->in_flight);

    node->connect_timer.handler = ngx_http_cwmp_redis_connect_timeout;
    node->connect_timer.data = node;
    node->connect_timer.log = cycle->log;
    node->connect_timer.cancelable = 1;

    node->reconnect_timer.handler = ngx_http_cwmp_redis_reconnect;
    node->reconnect_timer.data = node;
    node->reconnect_timer.log = cycle->log;
    node->reconnect_timer.cancelable = 1;

    node->watchdog.handler = ngx_http_cwmp_redis_watchdog;
    node->watchdog.data = node;
    node->watchdog.log = cycle->log;
    node->watchdog.cancelable = 1;

    ngx_http_cwmp_redis_connect(node);

    return node;
}


void
ngx_http_cwmp_redis_node_destroy(ngx_http_cwmp_redis_node_t *node)
{
    node->exiting = 1;

    if (node->reconnect_timer.timer_set) {
        ngx_del_timer(&node->reconnect_timer);
    }

    ngx_http_cwmp_redis_fail_waiting(node);
    ngx_http_cwmp_redis_close(node);

    if (node->connect_timer.timer_set) {
        ngx_del_timer(&node->connect_timer);
    }

    if (node->watchdog.timer_set) {
        ngx_del_timer(&node->watchdog);
    }

    node->state = NGX_HTTP_CWMP_REDIS_DISCONNECTED;
}


ngx_int_t
ngx_http_cwmp_redis_available(ngx_http_cwmp_redis_node_t *node)
{
    if (node == NULL || node->exiting
        || node->state == NGX_HTTP_CWMP_REDIS_BACKOFF)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* operations this worker has sent or queued and not yet seen answered */

ngx_uint_t
ngx_http_cwmp_redis_pending(ngx_http_cwmp_redis_node_t *node)
{
    return node ? node->nin_flight + node->nwaiting : 0;
}


/* the SHA1 of a script, by which EVALSHA names it */

ngx_str_t *
ngx_http_cwmp_redis_script(ngx_http_cwmp_redis_node_t *node, ngx_uint_t i)
{
    return &node->shas[i];
}


/* something only a new connection mends (e.g. the scripts were flushed) */

void
ngx_http_cwmp_redis_reset(ngx_http_cwmp_redis_node_t *node,
    const char *reason)
{
    if (node->ac == NULL) {
        return;
    }

    ngx_http_cwmp_redis_close(node);
    ngx_http_cwmp_redis_fail(node, reason);
}


ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_redis_op_create(ngx_http_cwmp_redis_cmd_t *cmds,
    ngx_uint_t ncmds, ngx_log_t *log)
{
    size_t                     size, len;
    u_char                    *p;
    ngx_uint_t                 i, j;
    ngx_http_cwmp_redis_op_t  *op;

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
ngx_http_cwmp_redis_submit(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_op_t *op, ngx_log_t *log)
{
    op->node = node;
    op->timer.log = log;

    if (node->exiting) {
        goto declined;
    }

    if (node->state == NGX_HTTP_CWMP_REDIS_DISCONNECTED) {
        ngx_http_cwmp_redis_connect(node);
    }

    switch (node->state) {

    case NGX_HTTP_CWMP_REDIS_READY:

        if (ngx_http_cwmp_redis_send(node, op) != NGX_OK) {
            goto declined;
        }

        break;

    case NGX_HTTP_CWMP_REDIS_CONNECTING:
    case NGX_HTTP_CWMP_REDIS_HANDSHAKE:

        if (node->nwaiting >= node->conf->queue_max) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "redis \"%V\" is connecting and %ui requests wait "
                          "for it already", &node->conf->name,
                          node->nwaiting);
            goto declined;
        }

        ngx_queue_insert_tail(&node->waiting, &op->queue);
        op->waiting = 1;
        node->nwaiting++;
        break;

    default: /* BACKOFF, or a connect that failed at once */
        goto declined;
    }

    ngx_add_timer(&op->timer, node->conf->timeout);

    return NGX_OK;

declined:

    ngx_free(op);

    return NGX_DECLINED;
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

    if (op->waiting) {
        ngx_queue_remove(&op->queue);
        op->node->nwaiting--;
        ngx_free(op);
    }

    /* an op in flight is freed by its last reply callback */
}


static ngx_int_t
ngx_http_cwmp_redis_send(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_op_t *op)
{
    u_char      *p;
    ngx_uint_t   i;

    p = op->buf;

    for (i = 0; i < op->ncmds; i++) {
        if (redisAsyncFormattedCommand(node->ac, ngx_http_cwmp_redis_on_reply,
                                       op, (const char *) p, op->lens[i])
            != REDIS_OK)
        {
            break;
        }

        p += op->lens[i];
        op->nsent++;
    }

    if (op->nsent == 0) {
        return NGX_ERROR;
    }

    if (op->nsent < op->ncmds) {
        /* the context is going away: the replies sent will finish it */
        op->rc = NGX_ERROR;
    }

    op->sent = ngx_current_msec;
    op->in_flight = 1;
    ngx_queue_insert_tail(&node->in_flight, &op->queue);

    /* the connection's own handshake is no load */

    op->counted = (op->done != ngx_http_cwmp_redis_handshake_done);
    node->nin_flight += op->counted;

    return NGX_OK;
}


static void
ngx_http_cwmp_redis_on_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_uint_t                 i;
    ngx_http_cwmp_redis_op_t  *op;

    op = privdata;
    i = op->nreplies++;

    if (!op->finished && op->rc == NGX_OK) {
        if (reply == NULL) {
            op->rc = NGX_ERROR;

        } else if (op->reply && op->reply(op, i, reply) != NGX_OK) {
            op->rc = NGX_ERROR;
        }
    }

    if (op->nreplies < op->nsent) {
        return;
    }

    ngx_queue_remove(&op->queue);
    op->in_flight = 0;
    op->node->nin_flight -= op->counted;

    if (!op->finished) {
        ngx_http_cwmp_redis_finish(op, op->rc);
    }

    ngx_free(op);
}


static void
ngx_http_cwmp_redis_finish(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    op->finished = 1;

    if (op->timer.timer_set) {
        ngx_del_timer(&op->timer);
    }

    if (op->done == NULL) {
        return;
    }

    /* the worker exits: the owner forgets the op, touches no request */

    op->done(op, op->node->exiting ? NGX_ABORT : rc);
}


static void
ngx_http_cwmp_redis_op_timeout(ngx_event_t *ev)
{
    ngx_http_cwmp_redis_op_t  *op;

    op = ev->data;

    ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                  "redis \"%V\" did not answer within %M ms",
                  &op->node->conf->name, op->node->conf->timeout);

    if (op->waiting) {
        ngx_queue_remove(&op->queue);
        op->waiting = 0;
        op->node->nwaiting--;
        ngx_http_cwmp_redis_finish(op, NGX_ERROR);
        ngx_free(op);
        return;
    }

    /* in flight: Redis may still apply it; the last reply frees the op */

    ngx_http_cwmp_redis_finish(op, NGX_ERROR);
}


static void
ngx_http_cwmp_redis_fail_waiting(ngx_http_cwmp_redis_node_t *node)
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
    ngx_http_cwmp_redis_conf_t  *conf;

    conf = node->conf;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                   "cwmp redis connect \"%V\"", &conf->name);

    /* addresses are numeric (resolved at configuration time): no DNS */

    if (conf->path.len) {
        ac = redisAsyncConnectUnix((const char *) conf->path.data);

    } else {
        ac = redisAsyncConnect((const char *) conf->host.data,
                               (int) conf->port);
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

    ngx_add_timer(&node->connect_timer, conf->connect_timeout);
}


static void
ngx_http_cwmp_redis_on_connect(const redisAsyncContext *cac, int status)
{
    u_char                       db[NGX_INT_T_LEN];
    ngx_str_t                    auth[3], select[2], ping[1], *load;
    ngx_uint_t                   n, i;
    redisAsyncContext           *ac;
    ngx_http_cwmp_redis_op_t    *op;
    ngx_http_cwmp_redis_cmd_t   *cmds;
    ngx_http_cwmp_redis_node_t  *node;
    ngx_http_cwmp_redis_conf_t  *conf;

    ac = (redisAsyncContext *) cac;
    node = ac->data;
    conf = node->conf;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback returns */
        node->ac = NULL;
        ngx_http_cwmp_redis_fail(node, ac->errstr);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                   "cwmp redis connected to \"%V\"", &conf->name);

    if (conf->path.len == 0) {
        (void) redisEnableKeepAlive(&ac->c);
    }

    node->state = NGX_HTTP_CWMP_REDIS_HANDSHAKE;

    /*
     * AUTH, SELECT, SCRIPT LOAD of each script, then a PING so that the
     * handshake is never empty
     */

    cmds = ngx_alloc((conf->nscripts + 3) * sizeof(ngx_http_cwmp_redis_cmd_t),
                     ngx_cycle->log);
    load = ngx_alloc((conf->nscripts * 3 + 1) * sizeof(ngx_str_t),
                     ngx_cycle->log);

    if (cmds == NULL || load == NULL) {
        ngx_free(cmds);
        ngx_free(load);
        ngx_http_cwmp_redis_close(node);
        ngx_http_cwmp_redis_fail(node, "out of memory");
        return;
    }

    n = 0;

    if (conf->password.len) {
        ngx_str_set(&auth[0], "AUTH");
        cmds[n].args = auth;
        cmds[n].nargs = 2;

        if (conf->user.len) {
            auth[1] = conf->user;
            auth[2] = conf->password;
            cmds[n].nargs = 3;

        } else {
            auth[1] = conf->password;
        }

        n++;
    }

    if (conf->db) {
        ngx_str_set(&select[0], "SELECT");
        select[1].data = db;
        select[1].len = ngx_sprintf(db, "%ui", conf->db) - db;
        cmds[n].args = select;
        cmds[n].nargs = 2;
        n++;
    }

    node->scripts_first = n;

    for (i = 0; i < conf->nscripts; i++) {
        ngx_str_set(&load[3 * i], "SCRIPT");
        ngx_str_set(&load[3 * i + 1], "LOAD");
        load[3 * i + 2] = conf->scripts[i];
        cmds[n].args = &load[3 * i];
        cmds[n].nargs = 3;
        n++;
    }

    ngx_str_set(&ping[0], "PING");
    cmds[n].args = ping;
    cmds[n].nargs = 1;
    n++;

    op = ngx_http_cwmp_redis_op_create(cmds, n, ngx_cycle->log);

    ngx_free(cmds);
    ngx_free(load);

    if (op == NULL) {
        ngx_http_cwmp_redis_close(node);
        ngx_http_cwmp_redis_fail(node, "out of memory");
        return;
    }

    op->node = node;
    op->data = node;
    op->reply = ngx_http_cwmp_redis_handshake_reply;
    op->done = ngx_http_cwmp_redis_handshake_done;

    if (ngx_http_cwmp_redis_send(node, op) != NGX_OK) {
        ngx_free(op);
        ngx_http_cwmp_redis_close(node);
        ngx_http_cwmp_redis_fail(node, "handshake not sent");
        return;
    }

    /* the connect timer, still running, bounds the handshake */
}


static ngx_int_t
ngx_http_cwmp_redis_handshake_reply(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply)
{
    ngx_str_t                   *sha;
    redisReply                  *r;
    ngx_http_cwmp_redis_node_t  *node;

    r = reply;
    node = op->data;

    if (i >= node->scripts_first
        && i < node->scripts_first + node->conf->nscripts
        && r->type == REDIS_REPLY_STRING)
    {
        /* SCRIPT LOAD answers the script's SHA1: the one computed here */

        sha = &node->shas[i - node->scripts_first];

        if ((size_t) r->len != sha->len
            || ngx_strncmp(r->str, sha->data, sha->len) != 0)
        {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "redis \"%V\" named script %ui \"%*s\", not "
                          "\"%V\"", &node->conf->name,
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
                      &node->conf->name, (size_t) r->len, r->str);
        node->outage = 1;
    }

    return NGX_ERROR;
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
                      "redis \"%V\" is available again", &node->conf->name);
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
                      "redis \"%V\" unavailable: %s", &conf->name,
                      reason ? reason : "unknown error");
        node->outage = 1;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                       "cwmp redis \"%V\" still unavailable: %s",
                       &conf->name, reason ? reason : "unknown error");
    }

    node->state = NGX_HTTP_CWMP_REDIS_BACKOFF;

    ngx_http_cwmp_redis_fail_waiting(node);

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
}


static void
ngx_http_cwmp_redis_reconnect(ngx_event_t *ev)
{
    ngx_http_cwmp_redis_node_t  *node;

    node = ev->data;

    if (node->exiting || node->ac) {
        return;
    }

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

        if (ngx_current_msec - op->sent >= node->conf->timeout) {
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


/*
 * Copyright (C) ngx_cwmp authors
 *
 * The Redis service of a worker: one server, the master a set of Sentinels
 * names (ngx_http_cwmp_redis_sentinel.c), or a Redis Cluster
 * (ngx_http_cwmp_redis_cluster.c).  An op goes to the node that holds its
 * key; while there is none yet (the master being asked for, the slot map
 * being learnt) it waits in a bounded queue, under its own timer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_sha1.h>

#include "ngx_http_cwmp_redis_node.h"


ngx_http_cwmp_redis_t *
ngx_http_cwmp_redis_create(ngx_cycle_t *cycle,
    ngx_http_cwmp_redis_conf_t *conf)
{
    u_char                  digest[20];
    ngx_int_t               rc;
    ngx_sha1_t              sha1;
    ngx_uint_t              i;
    ngx_http_cwmp_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_cwmp_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->conf = conf;
    rd->cycle = cycle;
    ngx_queue_init(&rd->waiting);

    rd->shas = ngx_pcalloc(cycle->pool,
                           (conf->nscripts + 1) * sizeof(ngx_str_t));
    if (rd->shas == NULL) {
        return NULL;
    }

    /*
     * the SHA1 of each script, as Redis names it: an op may be formatted
     * (EVALSHA) before a handshake has loaded the scripts
     */

    for (i = 0; i < conf->nscripts; i++) {
        rd->shas[i].len = 40;
        rd->shas[i].data = ngx_pnalloc(cycle->pool, 40);
        if (rd->shas[i].data == NULL) {
            return NULL;
        }

        ngx_sha1_init(&sha1);
        ngx_sha1_update(&sha1, conf->scripts[i].data, conf->scripts[i].len);
        ngx_sha1_final(digest, &sha1);

        ngx_hex_dump(rd->shas[i].data, digest, 20);
    }

    switch (conf->mode) {

    case NGX_HTTP_CWMP_REDIS_CLUSTER:
        rc = ngx_http_cwmp_redis_cluster_init(rd);
        break;

    case NGX_HTTP_CWMP_REDIS_SENTINEL:
        rc = ngx_http_cwmp_redis_sentinel_init(rd);
        break;

    default:
        rd->node = ngx_http_cwmp_redis_node_create(rd, conf, &conf->addr,
                                                   NGX_HTTP_CWMP_REDIS_DATA);
        rc = rd->node ? NGX_OK : NGX_ERROR;
        break;
    }

    return rc == NGX_OK ? rd : NULL;
}


void
ngx_http_cwmp_redis_destroy(ngx_http_cwmp_redis_t *rd)
{
    rd->exiting = 1;

    ngx_http_cwmp_redis_fail_waiting(rd, &rd->waiting, &rd->nwaiting);

    switch (rd->conf->mode) {

    case NGX_HTTP_CWMP_REDIS_CLUSTER:
        ngx_http_cwmp_redis_cluster_destroy(rd);
        break;

    case NGX_HTTP_CWMP_REDIS_SENTINEL:
        ngx_http_cwmp_redis_sentinel_destroy(rd);
        break;

    default:
        break;
    }

    if (rd->node) {
        ngx_http_cwmp_redis_node_destroy(rd->node);
    }
}


ngx_int_t
ngx_http_cwmp_redis_available(ngx_http_cwmp_redis_t *rd)
{
    if (rd == NULL || rd->exiting) {
        return NGX_DECLINED;
    }

    switch (rd->conf->mode) {

    case NGX_HTTP_CWMP_REDIS_CLUSTER:
        return ngx_http_cwmp_redis_cluster_available(rd);

    case NGX_HTTP_CWMP_REDIS_SENTINEL:
        return ngx_http_cwmp_redis_sentinel_available(rd);

    default:
        return ngx_http_cwmp_redis_node_available(rd->node);
    }
}


/* operations this worker has sent or queued and not yet seen answered */

ngx_uint_t
ngx_http_cwmp_redis_pending(ngx_http_cwmp_redis_t *rd)
{
    if (rd == NULL) {
        return 0;
    }

    switch (rd->conf->mode) {

    case NGX_HTTP_CWMP_REDIS_CLUSTER:
        return ngx_http_cwmp_redis_cluster_pending(rd) + rd->nwaiting;

    case NGX_HTTP_CWMP_REDIS_SENTINEL:
        return ngx_http_cwmp_redis_sentinel_pending(rd) + rd->nwaiting;

    default:
        return rd->node->nin_flight + rd->node->nwaiting;
    }
}


ngx_uint_t
ngx_http_cwmp_redis_masters(ngx_http_cwmp_redis_t *rd, ngx_uint_t *slots,
    ngx_uint_t n)
{
    if (rd == NULL || n == 0) {
        return 0;
    }

    if (rd->conf->mode == NGX_HTTP_CWMP_REDIS_CLUSTER) {
        return ngx_http_cwmp_redis_cluster_masters(rd, slots, n);
    }

    slots[0] = 0;

    return 1;
}


/* the SHA1 of a script, by which EVALSHA names it */

ngx_str_t *
ngx_http_cwmp_redis_script(ngx_http_cwmp_redis_t *rd, ngx_uint_t i)
{
    return &rd->shas[i];
}


/*
 * The slot of a key: CRC16 (XMODEM) of the part inside its first "{...}"
 * when that is not empty, else of the whole key, modulo 16384
 */

ngx_uint_t
ngx_http_cwmp_redis_slot(u_char *key, size_t len)
{
    u_char      *open, *close, *last;
    uint16_t     crc;
    ngx_uint_t   i;

    last = key + len;

    open = ngx_strlchr(key, last, '{');

    if (open) {
        close = ngx_strlchr(open + 1, last, '}');

        if (close && close > open + 1) {
            key = open + 1;
            last = close;
        }
    }

    crc = 0;

    for ( /* void */ ; key < last; key++) {
        crc ^= (uint16_t) (*key << 8);

        for (i = 0; i < 8; i++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc & (NGX_HTTP_CWMP_REDIS_SLOTS - 1);
}


ngx_int_t
ngx_http_cwmp_redis_submit(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_op_t *op, ngx_str_t *key, ngx_log_t *log)
{
    ngx_int_t  rc;

    op->redis = rd;
    op->timer.log = log;
    op->retry.log = log;

    if (key) {
        op->slot = ngx_http_cwmp_redis_slot(key->data, key->len);
    }

    if (rd->exiting) {
        ngx_free(op);
        return NGX_DECLINED;
    }

    switch (rd->conf->mode) {

    case NGX_HTTP_CWMP_REDIS_CLUSTER:
        rc = ngx_http_cwmp_redis_cluster_submit(rd, op);
        break;

    case NGX_HTTP_CWMP_REDIS_SENTINEL:
        rc = ngx_http_cwmp_redis_sentinel_submit(rd, op);
        break;

    default:
        rc = ngx_http_cwmp_redis_node_submit(rd->node, op);
        break;
    }

    if (rc != NGX_OK) {
        ngx_free(op);
        return NGX_DECLINED;
    }

    ngx_add_timer(&op->timer, rd->conf->timeout);

    return NGX_OK;
}


/* an op with nowhere to go yet: it waits for the master, or the map */

ngx_int_t
ngx_http_cwmp_redis_wait(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_op_t *op)
{
    if (rd->nwaiting >= rd->conf->queue_max) {
        ngx_log_error(NGX_LOG_INFO, op->timer.log, 0,
                      "redis \"%V\": %ui requests wait for a node already",
                      &rd->conf->name, rd->nwaiting);
        return NGX_DECLINED;
    }

    op->node = NULL;
    op->waiting = 1;
    ngx_queue_insert_tail(&rd->waiting, &op->queue);
    rd->nwaiting++;

    return NGX_OK;
}


void
ngx_http_cwmp_redis_fail_waiting(ngx_http_cwmp_redis_t *rd,
    ngx_queue_t *queue, ngx_uint_t *n)
{
    ngx_queue_t               *q;
    ngx_http_cwmp_redis_op_t  *op;

    while (!ngx_queue_empty(queue)) {
        q = ngx_queue_head(queue);
        ngx_queue_remove(q);
        (*n)--;

        op = ngx_queue_data(q, ngx_http_cwmp_redis_op_t, queue);
        op->waiting = 0;

        if (!op->finished) {
            ngx_http_cwmp_redis_finish(op, NGX_ERROR);
        }

        ngx_free(op);
    }
}


/* what the nodes tell the service */

void
ngx_http_cwmp_redis_node_ready(ngx_http_cwmp_redis_node_t *node)
{
    switch (node->redis->conf->mode) {

    case NGX_HTTP_CWMP_REDIS_CLUSTER:
        ngx_http_cwmp_redis_cluster_ready(node->redis, node);
        break;

    case NGX_HTTP_CWMP_REDIS_SENTINEL:
        ngx_http_cwmp_redis_sentinel_ready(node->redis, node);
        break;

    default:
        break;
    }
}


void
ngx_http_cwmp_redis_node_lost(ngx_http_cwmp_redis_node_t *node)
{
    if (node->redis->exiting) {
        return;
    }

    switch (node->redis->conf->mode) {

    case NGX_HTTP_CWMP_REDIS_CLUSTER:
        ngx_http_cwmp_redis_cluster_lost(node->redis, node);
        break;

    case NGX_HTTP_CWMP_REDIS_SENTINEL:
        ngx_http_cwmp_redis_sentinel_lost(node->redis, node);
        break;

    default:
        break;
    }
}


/* an attempt that left commands to redo: only a cluster redirects */

void
ngx_http_cwmp_redis_again(ngx_http_cwmp_redis_op_t *op)
{
    if (op->redis->conf->mode == NGX_HTTP_CWMP_REDIS_CLUSTER
        && !op->redis->exiting)
    {
        ngx_http_cwmp_redis_cluster_again(op);
        return;
    }

    ngx_http_cwmp_redis_finish(op, NGX_ERROR);
    ngx_free(op);
}


/* "host:port" (IPv6 "[::1]:port" or "::1:port"), numeric only */

ngx_int_t
ngx_http_cwmp_redis_addr_parse(u_char *p, size_t len, ngx_int_t port,
    ngx_http_cwmp_redis_addr_t *addr, u_char *buf, size_t size)
{
    u_char     *colon, *host, *last;
    size_t      hlen;
    ngx_int_t   n;

    last = p + len;
    host = p;
    hlen = len;

    if (port == 0) {
        for (colon = last - 1; colon > p && *colon != ':'; colon--) {
            /* void */
        }

        if (colon == p || *colon != ':') {
            return NGX_ERROR;
        }

        n = ngx_atoi(colon + 1, last - colon - 1);
        if (n < 1 || n > 65535) {
            return NGX_ERROR;
        }

        port = n;
        hlen = colon - p;
    }

    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }

    if (hlen == 0 || hlen + 1 + hlen + NGX_INT_T_LEN + 4 > size) {
        return NGX_ERROR;
    }

    if (ngx_inet_addr(host, hlen) == INADDR_NONE
#if (NGX_HAVE_INET6)
        && ngx_strlchr(host, host + hlen, ':') == NULL
#endif
       )
    {
        /* a host name: never resolved at run time */
        return NGX_ERROR;
    }

    addr->host.data = buf;
    addr->host.len = hlen;
    buf = ngx_cpymem(buf, host, hlen);
    *buf++ = '\0';

    addr->name.data = buf;
    addr->name.len = ngx_sprintf(buf, "%*s:%i", hlen, host, port) - buf;

    addr->port = port;
    ngx_str_null(&addr->path);

    return NGX_OK;
}


/*
 * Copyright (C) ngx_cwmp authors
 *
 * The redis layer's own: one connection to one Redis server (a data node,
 * or a Sentinel), as ngx_http_cwmp_redis.c, _cluster.c and _sentinel.c
 * share it.  Nothing outside ngx_http_cwmp_redis*.c includes this.
 */


#ifndef _NGX_HTTP_CWMP_REDIS_NODE_H_INCLUDED_
#define _NGX_HTTP_CWMP_REDIS_NODE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

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


/* why an attempt left commands unanswered (op->why) */
#define NGX_HTTP_CWMP_REDIS_MOVED     1
#define NGX_HTTP_CWMP_REDIS_ASK       2
#define NGX_HTTP_CWMP_REDIS_TRYAGAIN  3
#define NGX_HTTP_CWMP_REDIS_DOWN      4   /* CLUSTERDOWN: retried as TRYAGAIN */

/* op->order entries that are no command of the op */
#define NGX_HTTP_CWMP_REDIS_ORDER_ASKING  0xfe
#define NGX_HTTP_CWMP_REDIS_ORDER_WAIT    0xff

/* while WAIT falls short, an op a second tries the replicas again (ms) */
#define NGX_HTTP_CWMP_REDIS_UNREPLICATED_PROBE  1000


typedef enum {
    NGX_HTTP_CWMP_REDIS_DATA = 0,     /* where the keys are */
    NGX_HTTP_CWMP_REDIS_SENTINEL_NODE
} ngx_http_cwmp_redis_role_e;


struct ngx_http_cwmp_redis_node_s {
    ngx_http_cwmp_redis_t        *redis;
    ngx_http_cwmp_redis_conf_t   *conf;
    ngx_http_cwmp_redis_addr_t    addr;            /* its own copy */
    u_char                        addr_buf[NGX_SOCKADDR_STRLEN * 2];
    ngx_http_cwmp_redis_role_e    role;
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
    ngx_uint_t                    scripts_first;   /* in the handshake */
    ngx_uint_t                    functions_at;    /* FUNCTION LOAD in the
                                                      handshake + 1, or 0 */
    unsigned                      functions_refused:1;
    unsigned                      evicts_said:1;   /* maxmemory-policy */
    ngx_uint_t                    memory_at;       /* INFO memory in the
                                                      handshake + 1, or 0 */
    ngx_uint_t                    role_at;         /* ROLE in the handshake,
                                                      or 0 */
    ngx_msec_t                    probed;          /* unreplicated: the last
                                                      op let through */

    unsigned                      outage:1;        /* failure was logged */
    unsigned                      exiting:1;
    unsigned                      check_role:1;    /* must be a master */
    unsigned                      demoted:1;       /* it said READONLY */
    unsigned                      unreplicated:1;  /* WAIT fell short */
};


ngx_http_cwmp_redis_node_t *ngx_http_cwmp_redis_node_create(
    ngx_http_cwmp_redis_t *rd, ngx_http_cwmp_redis_conf_t *conf,
    ngx_http_cwmp_redis_addr_t *addr, ngx_http_cwmp_redis_role_e role);
void ngx_http_cwmp_redis_node_destroy(ngx_http_cwmp_redis_node_t *node);
ngx_int_t ngx_http_cwmp_redis_node_move(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_addr_t *addr);
ngx_int_t ngx_http_cwmp_redis_node_available(
    ngx_http_cwmp_redis_node_t *node);
void ngx_http_cwmp_redis_node_reset(ngx_http_cwmp_redis_node_t *node,
    const char *reason);

/* NGX_OK: queued or sent; NGX_DECLINED: not now (the op is the caller's) */
ngx_int_t ngx_http_cwmp_redis_node_submit(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_op_t *op);

/* the end of an op: done() once, timers off; the caller frees it */
void ngx_http_cwmp_redis_finish(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc);

/* an "host:port" of a redirect or a CLUSTER SLOTS entry, numeric only */
ngx_int_t ngx_http_cwmp_redis_addr_parse(u_char *p, size_t len,
    ngx_int_t port, ngx_http_cwmp_redis_addr_t *addr, u_char *buf,
    size_t size);

/*
 * What the nodes tell the service (ngx_http_cwmp_redis.c dispatches to the
 * cluster or the Sentinels): ready, lost (or demoted), and an op whose
 * attempt left commands to send elsewhere or later.
 */
void ngx_http_cwmp_redis_node_ready(ngx_http_cwmp_redis_node_t *node);
void ngx_http_cwmp_redis_node_lost(ngx_http_cwmp_redis_node_t *node);
void ngx_http_cwmp_redis_again(ngx_http_cwmp_redis_op_t *op);


/* ngx_http_cwmp_redis_cluster.c */

ngx_int_t ngx_http_cwmp_redis_cluster_init(ngx_http_cwmp_redis_t *rd);
void ngx_http_cwmp_redis_cluster_destroy(ngx_http_cwmp_redis_t *rd);
ngx_int_t ngx_http_cwmp_redis_cluster_submit(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_op_t *op);
ngx_int_t ngx_http_cwmp_redis_cluster_available(ngx_http_cwmp_redis_t *rd);
ngx_uint_t ngx_http_cwmp_redis_cluster_pending(ngx_http_cwmp_redis_t *rd);
ngx_uint_t ngx_http_cwmp_redis_cluster_masters(ngx_http_cwmp_redis_t *rd,
    ngx_uint_t *slots, ngx_uint_t n);
void ngx_http_cwmp_redis_cluster_ready(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_node_t *node);
void ngx_http_cwmp_redis_cluster_lost(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_node_t *node);
void ngx_http_cwmp_redis_cluster_again(ngx_http_cwmp_redis_op_t *op);


/* ngx_http_cwmp_redis_sentinel.c */

ngx_int_t ngx_http_cwmp_redis_sentinel_init(ngx_http_cwmp_redis_t *rd);
void ngx_http_cwmp_redis_sentinel_destroy(ngx_http_cwmp_redis_t *rd);
ngx_int_t ngx_http_cwmp_redis_sentinel_submit(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_op_t *op);
ngx_int_t ngx_http_cwmp_redis_sentinel_available(ngx_http_cwmp_redis_t *rd);
ngx_uint_t ngx_http_cwmp_redis_sentinel_pending(ngx_http_cwmp_redis_t *rd);
void ngx_http_cwmp_redis_sentinel_ready(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_node_t *node);
void ngx_http_cwmp_redis_sentinel_lost(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_node_t *node);


/* the service: one node, the Sentinels' master, or a cluster */

struct ngx_http_cwmp_redis_s {
    ngx_http_cwmp_redis_conf_t   *conf;
    ngx_cycle_t                  *cycle;
    ngx_str_t                    *shas;            /* of conf->scripts */
    ngx_http_cwmp_redis_node_t   *node;            /* SINGLE; SENTINEL: the
                                                      master */
    void                         *mode;            /* _cluster.c's,
                                                      _sentinel.c's */
    ngx_queue_t                   waiting;         /* ops waiting for the
                                                      master or the map */
    ngx_uint_t                    nwaiting;
    unsigned                      exiting:1;
};


/* ops waiting at the service: queued, drained, failed (redis.c) */
ngx_int_t ngx_http_cwmp_redis_wait(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_op_t *op);
void ngx_http_cwmp_redis_fail_waiting(ngx_http_cwmp_redis_t *rd,
    ngx_queue_t *queue, ngx_uint_t *n);


#endif /* _NGX_HTTP_CWMP_REDIS_NODE_H_INCLUDED_ */

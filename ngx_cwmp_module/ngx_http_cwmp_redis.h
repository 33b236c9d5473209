
/*
 * Copyright (C) ngx_cwmp authors
 *
 * hiredis <-> nginx event loop adapter.  Knows nothing of CWMP: it runs
 * batches of Redis commands ("ops") on one pipelined connection per worker,
 * with a timer on every wait, reconnect with backoff and a watchdog.
 */


#ifndef _NGX_HTTP_CWMP_REDIS_H_INCLUDED_
#define _NGX_HTTP_CWMP_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>


typedef struct ngx_http_cwmp_redis_node_s  ngx_http_cwmp_redis_node_t;
typedef struct ngx_http_cwmp_redis_op_s    ngx_http_cwmp_redis_op_t;


/*
 * Called once per reply, in order, while the op's owner is attached;
 * "reply" is a (redisReply *), never NULL.  Anything but NGX_OK marks
 * the op failed.
 */
typedef ngx_int_t (*ngx_http_cwmp_redis_reply_pt)(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);

/*
 * Called exactly once per op whose submission returned NGX_OK, unless the
 * owner cancelled it first: NGX_OK when every reply was accepted, NGX_ERROR
 * when Redis was lost, timed out or a reply was refused, NGX_ABORT when the
 * worker exits (forget the op; finalize nothing).
 */
typedef void (*ngx_http_cwmp_redis_done_pt)(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);


typedef struct {
    ngx_str_t                     name;          /* as configured, for logs */
    ngx_str_t                     host;          /* numeric, NUL-terminated */
    ngx_int_t                     port;
    ngx_str_t                     path;          /* unix socket, or empty */
    ngx_str_t                     user;
    ngx_str_t                     password;
    ngx_uint_t                    db;
    ngx_msec_t                    connect_timeout;
    ngx_msec_t                    timeout;
    ngx_uint_t                    queue_max;
    ngx_msec_t                    backoff_min;
    ngx_msec_t                    backoff_max;
    ngx_str_t                    *scripts;       /* loaded on connect */
    ngx_uint_t                    nscripts;
} ngx_http_cwmp_redis_conf_t;


typedef struct {
    ngx_str_t                    *args;
    ngx_uint_t                    nargs;
} ngx_http_cwmp_redis_cmd_t;


struct ngx_http_cwmp_redis_op_s {
    ngx_queue_t                   queue;         /* waiting or in flight */
    ngx_http_cwmp_redis_node_t   *node;
    ngx_http_cwmp_redis_reply_pt  reply;
    ngx_http_cwmp_redis_done_pt   done;
    void                         *data;          /* the owner's */
    ngx_event_t                   timer;
    ngx_msec_t                    sent;
    ngx_int_t                     rc;
    ngx_uint_t                    ncmds;
    ngx_uint_t                    nsent;
    ngx_uint_t                    nreplies;
    size_t                       *lens;
    u_char                       *buf;

    unsigned                      waiting:1;     /* in node->waiting */
    unsigned                      in_flight:1;   /* in node->in_flight */
    unsigned                      finished:1;    /* done() called or owner
                                                    gone */
    unsigned                      counted:1;     /* in nin_flight */
};


ngx_http_cwmp_redis_node_t *ngx_http_cwmp_redis_node_create(ngx_cycle_t *cycle,
    ngx_http_cwmp_redis_conf_t *conf);
void ngx_http_cwmp_redis_node_destroy(ngx_http_cwmp_redis_node_t *node);
ngx_int_t ngx_http_cwmp_redis_available(ngx_http_cwmp_redis_node_t *node);
ngx_uint_t ngx_http_cwmp_redis_pending(ngx_http_cwmp_redis_node_t *node);
ngx_str_t *ngx_http_cwmp_redis_script(ngx_http_cwmp_redis_node_t *node,
    ngx_uint_t i);
void ngx_http_cwmp_redis_reset(ngx_http_cwmp_redis_node_t *node,
    const char *reason);

ngx_http_cwmp_redis_op_t *ngx_http_cwmp_redis_op_create(
    ngx_http_cwmp_redis_cmd_t *cmds, ngx_uint_t ncmds, ngx_log_t *log);
ngx_int_t ngx_http_cwmp_redis_submit(ngx_http_cwmp_redis_node_t *node,
    ngx_http_cwmp_redis_op_t *op, ngx_log_t *log);
void ngx_http_cwmp_redis_cancel(ngx_http_cwmp_redis_op_t *op);


#endif /* _NGX_HTTP_CWMP_REDIS_H_INCLUDED_ */


/*
 * Copyright (C) ngx_cwmp authors
 *
 * hiredis <-> nginx event loop adapter.  Knows nothing of CWMP: it runs
 * batches of Redis commands ("ops") for this worker on one Redis server,
 * on the master a set of Sentinels names, or on a Redis Cluster (an op goes
 * to the master of the slot its key hashes to; MOVED, ASK, TRYAGAIN and
 * CLUSTERDOWN are followed here, unseen by the op's owner).  Pipelined
 * connections, a timer on every wait, reconnect with backoff, a watchdog.
 */


#ifndef _NGX_HTTP_CWMP_REDIS_H_INCLUDED_
#define _NGX_HTTP_CWMP_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>


typedef struct ngx_http_cwmp_redis_s       ngx_http_cwmp_redis_t;
typedef struct ngx_http_cwmp_redis_node_s  ngx_http_cwmp_redis_node_t;
typedef struct ngx_http_cwmp_redis_op_s    ngx_http_cwmp_redis_op_t;


/* the commands of one op, all on one slot; at most this many */
#define NGX_HTTP_CWMP_REDIS_MAX_CMDS  32

#define NGX_HTTP_CWMP_REDIS_SLOTS     16384


/*
 * Called once per reply, in the order of the op's commands, while the
 * op's owner is attached; "reply" is a (redisReply *), never NULL, and
 * never a redirect (MOVED, ASK) or TRYAGAIN, which the adapter follows.
 * Anything but NGX_OK marks the op failed.
 */
typedef ngx_int_t (*ngx_http_cwmp_redis_reply_pt)(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);

/*
 * Called exactly once per op whose submission returned NGX_OK, unless the
 * owner cancelled it first: NGX_OK when every reply was accepted, NGX_ERROR
 * when Redis was lost, timed out, refused a reply or (with wait=) did not
 * have the writes on enough replicas in time, NGX_ABORT when the worker
 * exits (forget the op; finalize nothing).
 */
typedef void (*ngx_http_cwmp_redis_done_pt)(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);


typedef enum {
    NGX_HTTP_CWMP_REDIS_SINGLE = 0,
    NGX_HTTP_CWMP_REDIS_SENTINEL,
    NGX_HTTP_CWMP_REDIS_CLUSTER
} ngx_http_cwmp_redis_mode_e;


typedef struct {
    ngx_str_t                     name;          /* for logs */
    ngx_str_t                     host;          /* numeric, NUL-terminated */
    ngx_int_t                     port;
    ngx_str_t                     path;          /* unix socket, or empty */
} ngx_http_cwmp_redis_addr_t;


typedef struct {
    ngx_http_cwmp_redis_mode_e    mode;
    ngx_str_t                     name;          /* as configured, for logs */
    ngx_http_cwmp_redis_addr_t    addr;          /* SINGLE */
    ngx_array_t                   seeds;         /* ..._addr_t: the cluster
                                                    nodes first asked, or
                                                    the Sentinels */
    ngx_str_t                     master;        /* SENTINEL: its name */
    ngx_str_t                     sentinel_user;
    ngx_str_t                     sentinel_password;
    ngx_str_t                     user;
    ngx_str_t                     password;
    ngx_uint_t                    db;
    ngx_msec_t                    connect_timeout;
    ngx_msec_t                    timeout;
    ngx_uint_t                    queue_max;
    ngx_msec_t                    backoff_min;
    ngx_msec_t                    backoff_max;
    ngx_uint_t                    wait_replicas; /* 0: writes not waited */
    ngx_msec_t                    wait_timeout;
    ngx_str_t                    *scripts;       /* loaded on connect */
    ngx_uint_t                    nscripts;
    ngx_str_t                     functions;     /* a function library
                                                    loaded on connect, or
                                                    empty */
} ngx_http_cwmp_redis_conf_t;


typedef struct {
    ngx_str_t                    *args;
    ngx_uint_t                    nargs;
} ngx_http_cwmp_redis_cmd_t;


struct ngx_http_cwmp_redis_op_s {
    ngx_queue_t                   queue;         /* waiting or in flight */
    ngx_http_cwmp_redis_t        *redis;
    ngx_http_cwmp_redis_node_t   *node;          /* where it was sent last */
    ngx_http_cwmp_redis_reply_pt  reply;
    ngx_http_cwmp_redis_done_pt   done;
    void                         *data;          /* the owner's */
    ngx_event_t                   timer;         /* the owner's deadline */
    ngx_event_t                   retry;         /* TRYAGAIN, CLUSTERDOWN */
    ngx_msec_t                    sent;
    ngx_int_t                     rc;
    ngx_uint_t                    slot;
    ngx_uint_t                    ncmds;
    ngx_uint_t                    nsent;
    ngx_uint_t                    nreplies;
    ngx_uint_t                    redirects;     /* followed so far */
    uint32_t                      todo;          /* commands not answered
                                                    yet, a bit each */
    uint32_t                      sent_todo;     /* todo as last sent */
    u_char                        order[NGX_HTTP_CWMP_REDIS_MAX_CMDS + 2];
    ngx_uint_t                    why;           /* the last attempt's
                                                    redirect or retry */
    u_char                        target[NGX_SOCKADDR_STRLEN];
    size_t                        target_len;
    size_t                       *lens;
    u_char                       *buf;

    unsigned                      waiting:1;     /* in a waiting queue */
    unsigned                      in_flight:1;   /* in node->in_flight */
    unsigned                      finished:1;    /* done() called or owner
                                                    gone */
    unsigned                      counted:1;     /* in nin_flight */
    unsigned                      asking:1;      /* ASKING first */
    unsigned                      internal:1;    /* the adapter's own: no
                                                    WAIT, no redirects */
};


ngx_http_cwmp_redis_t *ngx_http_cwmp_redis_create(ngx_cycle_t *cycle,
    ngx_http_cwmp_redis_conf_t *conf);
void ngx_http_cwmp_redis_destroy(ngx_http_cwmp_redis_t *rd);

/* NGX_OK when an op stands a chance; NGX_DECLINED: answer 503 at once */
ngx_int_t ngx_http_cwmp_redis_available(ngx_http_cwmp_redis_t *rd);
ngx_uint_t ngx_http_cwmp_redis_pending(ngx_http_cwmp_redis_t *rd);
ngx_str_t *ngx_http_cwmp_redis_script(ngx_http_cwmp_redis_t *rd,
    ngx_uint_t i);

/*
 * One slot of each master (a cluster's, as far as its map goes; one 0 for
 * a single server or the Sentinels' master), for an op that must reach
 * each (SCAN): how many, at most n
 */
ngx_uint_t ngx_http_cwmp_redis_masters(ngx_http_cwmp_redis_t *rd,
    ngx_uint_t *slots, ngx_uint_t n);

/* the slot of a key: CRC16 of its hash tag, as Redis Cluster has it */
ngx_uint_t ngx_http_cwmp_redis_slot(u_char *key, size_t len);

/* something only a new connection to the op's node mends */
void ngx_http_cwmp_redis_reset(ngx_http_cwmp_redis_op_t *op,
    const char *reason);

ngx_http_cwmp_redis_op_t *ngx_http_cwmp_redis_op_create(
    ngx_http_cwmp_redis_cmd_t *cmds, ngx_uint_t ncmds, ngx_log_t *log);

/*
 * Sends the op to the node that holds "key" (every command of the op is on
 * its slot; NULL: the op's slot as set, 0 unless set).  NGX_OK: done() will
 * be called; NGX_DECLINED: Redis is unavailable, the op is freed.
 */
ngx_int_t ngx_http_cwmp_redis_submit(ngx_http_cwmp_redis_t *rd,
    ngx_http_cwmp_redis_op_t *op, ngx_str_t *key, ngx_log_t *log);
void ngx_http_cwmp_redis_cancel(ngx_http_cwmp_redis_op_t *op);


#endif /* _NGX_HTTP_CWMP_REDIS_H_INCLUDED_ */


/*
 * Copyright (C) ngx_cwmp authors
 *
 * The store's calls for background work: connection requests (the
 * cwmp:connreq stream read through its consumer group, connreq_prepare.lua,
 * the outcome in cwmp:results; ngx_http_cwmp_connreq.c) and STUN bindings
 * (stun_binding.lua; ngx_stream_cwmp_stun_module.c).  Each call makes an
 * op of one step for the caller to submit (ngx_http_cwmp_store_submit);
 * args live in "pool".
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_store.h"


static ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_op(
    ngx_http_cwmp_store_cmd_t *c, ngx_uint_t n, ngx_log_t *log);


ngx_int_t
ngx_http_cwmp_store_submit(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_redis_op_t *op, ngx_log_t *log)
{
    return ngx_http_cwmp_redis_submit(st->node, op, log);
}


/* the commands written, as one op */

static ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_op(ngx_http_cwmp_store_cmd_t *c, ngx_uint_t n,
    ngx_log_t *log)
{
    ngx_uint_t                  i;
    ngx_http_cwmp_redis_cmd_t   cmds[2];

    for (i = 0; i < n; i++) {
        if (c[i].failed) {
            return NULL;
        }

        cmds[i] = c[i].cmd;
    }

    return ngx_http_cwmp_redis_op_create(cmds, n, log);
}


/* the entries of cwmp:connreq for this consumer: new ones, or taken over */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_take(ngx_http_cwmp_store_t *st, ngx_pool_t *pool,
    ngx_str_t *consumer, ngx_uint_t count, ngx_msec_t claim, ngx_log_t *log)
{
    ngx_http_cwmp_store_cmd_t    c;
    ngx_http_cwmp_store_owner_t  owner = { pool, log, NULL };

    if (claim) {
        /* an entry a dead worker took, idle for "claim" ms, is served here */

        if (ngx_http_cwmp_store_cmd(&c, st, &owner, 8, "XAUTOCLAIM")
            != NGX_OK)
        {
            return NULL;
        }

        ngx_http_cwmp_store_arg_key(&c, "connreq");
        ngx_http_cwmp_store_arg_text(&c, "cwmp");
        ngx_http_cwmp_store_arg(&c, consumer);
        ngx_http_cwmp_store_arg_num(&c, claim);
        ngx_http_cwmp_store_arg_text(&c, "0-0");
        ngx_http_cwmp_store_arg_text(&c, "COUNT");
        ngx_http_cwmp_store_arg_num(&c, count);

    } else {
        if (ngx_http_cwmp_store_cmd(&c, st, &owner, 9, "XREADGROUP")
            != NGX_OK)
        {
            return NULL;
        }

        ngx_http_cwmp_store_arg_text(&c, "GROUP");
        ngx_http_cwmp_store_arg_text(&c, "cwmp");
        ngx_http_cwmp_store_arg(&c, consumer);
        ngx_http_cwmp_store_arg_text(&c, "COUNT");
        ngx_http_cwmp_store_arg_num(&c, count);
        ngx_http_cwmp_store_arg_text(&c, "STREAMS");
        ngx_http_cwmp_store_arg_key(&c, "connreq");
        ngx_http_cwmp_store_arg_text(&c, ">");
    }

    return ngx_http_cwmp_store_op(&c, 1, log);
}


/* the consumer group, from the stream's start (MKSTREAM: none yet) */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_group(ngx_http_cwmp_store_t *st, ngx_pool_t *pool,
    ngx_log_t *log)
{
    ngx_http_cwmp_store_cmd_t    c;
    ngx_http_cwmp_store_owner_t  owner = { pool, log, NULL };

    if (ngx_http_cwmp_store_cmd(&c, st, &owner, 6, "XGROUP") != NGX_OK) {
        return NULL;
    }

    ngx_http_cwmp_store_arg_text(&c, "CREATE");
    ngx_http_cwmp_store_arg_key(&c, "connreq");
    ngx_http_cwmp_store_arg_text(&c, "cwmp");
    ngx_http_cwmp_store_arg_text(&c, "0");
    ngx_http_cwmp_store_arg_text(&c, "MKSTREAM");

    return ngx_http_cwmp_store_op(&c, 1, log);
}


/* connreq_prepare.lua: coalesced, or where and how to reach the device */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_prepare(ngx_http_cwmp_store_t *st,
    ngx_pool_t *pool, ngx_str_t *device_id, ngx_msec_t window,
    ngx_log_t *log)
{
    ngx_http_cwmp_store_cmd_t    c;
    ngx_http_cwmp_store_owner_t  owner = { pool, log, NULL };

    if (ngx_http_cwmp_store_script(&c, st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_CONNREQ_PREPARE,
                                   device_id, 1)
        != NGX_OK)
    {
        return NULL;
    }

    ngx_http_cwmp_store_arg_num(&c, window);

    return ngx_http_cwmp_store_op(&c, 1, log);
}


/* the outcome in cwmp:results, and the entry acknowledged */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_done(ngx_http_cwmp_store_t *st, ngx_pool_t *pool,
    ngx_str_t *device_id, ngx_str_t *entry, ngx_str_t *status,
    ngx_str_t *result, ngx_log_t *log)
{
    ngx_str_t                    task;
    ngx_http_cwmp_store_cmd_t    c[2];
    ngx_http_cwmp_store_owner_t  owner = { pool, log, NULL };

    task.data = ngx_pnalloc(pool, sizeof("connreq:") - 1 + entry->len);

    if (task.data == NULL
        || ngx_http_cwmp_store_cmd(&c[0], st, &owner, 18, "XADD") != NGX_OK
        || ngx_http_cwmp_store_cmd(&c[1], st, &owner, 4, "XACK") != NGX_OK)
    {
        return NULL;
    }

    task.len = ngx_sprintf(task.data, "connreq:%V", entry) - task.data;

    ngx_http_cwmp_store_arg_key(&c[0], "results");
    ngx_http_cwmp_store_arg_text(&c[0], "MAXLEN");
    ngx_http_cwmp_store_arg_text(&c[0], "~");
    ngx_http_cwmp_store_arg_text(&c[0], NGX_HTTP_CWMP_STREAM_MAXLEN);
    ngx_http_cwmp_store_arg_text(&c[0], "*");
    ngx_http_cwmp_store_arg_text(&c[0], "device");
    ngx_http_cwmp_store_arg(&c[0], device_id);
    ngx_http_cwmp_store_arg_text(&c[0], "task");
    ngx_http_cwmp_store_arg(&c[0], &task);
    ngx_http_cwmp_store_arg_text(&c[0], "name");
    ngx_http_cwmp_store_arg_text(&c[0], "connectionRequest");
    ngx_http_cwmp_store_arg_text(&c[0], "status");
    ngx_http_cwmp_store_arg(&c[0], status);
    ngx_http_cwmp_store_arg_text(&c[0], "result");
    ngx_http_cwmp_store_arg(&c[0], result);
    ngx_http_cwmp_store_arg_text(&c[0], "time");
    ngx_http_cwmp_store_arg_num(&c[0], (ngx_uint_t) ngx_time());

    ngx_http_cwmp_store_arg_key(&c[1], "connreq");
    ngx_http_cwmp_store_arg_text(&c[1], "cwmp");
    ngx_http_cwmp_store_arg(&c[1], entry);

    return ngx_http_cwmp_store_op(c, 2, log);
}


/*
 * A STUN binding (ngx_stream_cwmp_stun_module.c): stun_binding.lua checks
 * the device's own STUN password when Redis has one, else takes "trusted"
 * (the shared password checked, or none set), and records the address.
 */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_stun(ngx_http_cwmp_store_t *st, ngx_pool_t *pool,
    ngx_str_t *device_id, ngx_str_t *address, ngx_uint_t change,
    ngx_uint_t trusted, ngx_str_t *signed_text, ngx_str_t *mi,
    ngx_log_t *log)
{
    ngx_http_cwmp_store_cmd_t    c;
    ngx_http_cwmp_store_owner_t  owner = { pool, log, NULL };

    if (ngx_http_cwmp_store_script(&c, st, &owner,
                                   NGX_HTTP_CWMP_SCRIPT_STUN_BINDING,
                                   device_id, 6)
        != NGX_OK)
    {
        return NULL;
    }

    ngx_http_cwmp_store_arg(&c, address);
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
    ngx_http_cwmp_store_arg_text(&c, change ? "1" : "0");
    ngx_http_cwmp_store_arg_text(&c, trusted ? "1" : "0");
    ngx_http_cwmp_store_arg(&c, signed_text);
    ngx_http_cwmp_store_arg(&c, mi);

    return ngx_http_cwmp_store_op(&c, 1, log);
}


/*
 * Copyright (C) ngx_cwmp authors
 *
 * The store's calls for background work: connection requests (the
 * cwmp:connreq stream read through its consumer group, connreq_prepare.lua,
 * the outcome in cwmp:results:{<shard>}; ngx_http_cwmp_connreq.c) and STUN
 * bindings
 * (stun_binding.lua; ngx_stream_cwmp_stun_module.c).  Each call makes an
 * op of one step for the caller to submit (ngx_http_cwmp_store_submit);
 * args live in "pool".
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_http_cwmp_store.h"


ngx_int_t
ngx_http_cwmp_store_submit(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_redis_op_t *op, ngx_log_t *log)
{
    /* the op's slot was set when it was made */
    return ngx_http_cwmp_redis_submit(st->redis, op, NULL, log);
}


/* the commands written, as one op */


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


/*
 * The outcome in the device's shard of the results (a stream of its own
 * slot, not the connreq stream's: two ops, this one first)
 */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_done(ngx_http_cwmp_store_t *st, ngx_pool_t *pool,
    ngx_str_t *device_id, ngx_str_t *entry, ngx_str_t *status,
    ngx_str_t *result, ngx_log_t *log)
{
    u_char                       tag[NGX_INT_T_LEN];
    ngx_str_t                    task, shard;
    ngx_http_cwmp_store_cmd_t    c;
    ngx_http_cwmp_store_owner_t  owner = { pool, log, NULL };

    task.data = ngx_pnalloc(pool, sizeof("connreq:") - 1 + entry->len);

    if (task.data == NULL
        || ngx_http_cwmp_store_cmd(&c, st, &owner, 18, "XADD") != NGX_OK)
    {
        return NULL;
    }

    task.len = ngx_sprintf(task.data, "connreq:%V", entry) - task.data;

    shard.data = tag;
    shard.len = ngx_http_cwmp_store_shard(device_id, tag);

    ngx_http_cwmp_store_arg_tagged(&c, "results:{}", &shard);
    ngx_http_cwmp_store_arg_text(&c, "MAXLEN");
    ngx_http_cwmp_store_arg_text(&c, "~");
    ngx_http_cwmp_store_arg_text(&c, NGX_HTTP_CWMP_SHARD_MAXLEN);
    ngx_http_cwmp_store_arg_text(&c, "*");
    ngx_http_cwmp_store_arg_text(&c, "device");
    ngx_http_cwmp_store_arg(&c, device_id);
    ngx_http_cwmp_store_arg_text(&c, "task");
    ngx_http_cwmp_store_arg(&c, &task);
    ngx_http_cwmp_store_arg_text(&c, "name");
    ngx_http_cwmp_store_arg_text(&c, "connectionRequest");
    ngx_http_cwmp_store_arg_text(&c, "status");
    ngx_http_cwmp_store_arg(&c, status);
    ngx_http_cwmp_store_arg_text(&c, "result");
    ngx_http_cwmp_store_arg(&c, result);
    ngx_http_cwmp_store_arg_text(&c, "time");
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());

    return ngx_http_cwmp_store_op(&c, 1, log);
}


/* the entry acknowledged, once its outcome is stored */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_ack(ngx_http_cwmp_store_t *st, ngx_pool_t *pool,
    ngx_str_t *entry, ngx_log_t *log)
{
    ngx_http_cwmp_store_cmd_t    c;
    ngx_http_cwmp_store_owner_t  owner = { pool, log, NULL };

    if (ngx_http_cwmp_store_cmd(&c, st, &owner, 4, "XACK") != NGX_OK) {
        return NULL;
    }

    ngx_http_cwmp_store_arg_key(&c, "connreq");
    ngx_http_cwmp_store_arg_text(&c, "cwmp");
    ngx_http_cwmp_store_arg(&c, entry);

    return ngx_http_cwmp_store_op(&c, 1, log);
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


/*
 * The replies of the background calls, read.  Connection requests:
 *
 * XREADGROUP: [[stream, [[id, [field, value, ...]], ...]]] or nil;
 * XAUTOCLAIM: [next, [[id, [field, value, ...]], ...], [deleted]].
 * Each entry goes to handler with its id and "device" field (empty when
 * it has none).  NGX_DECLINED: the consumer group does not exist yet.
 */

ngx_int_t
ngx_http_cwmp_store_connreq_entries(void *reply,
    ngx_http_cwmp_store_entry_pt handler)
{
    ngx_str_t    id, device;
    ngx_uint_t   j, k;
    redisReply  *rr, *entries, *e, *f;

    rr = reply;
    entries = NULL;

    if (rr->type == REDIS_REPLY_ERROR) {
        if (rr->len >= 7 && ngx_strncmp(rr->str, "NOGROUP", 7) == 0) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "cwmp: reading connection requests: \"%*s\"",
                      rr->len, rr->str);
        return NGX_ERROR;
    }

    if (rr->type == REDIS_REPLY_ARRAY && rr->elements >= 2
        && rr->element[0]->type == REDIS_REPLY_STRING
        && rr->element[1]->type == REDIS_REPLY_ARRAY)
    {
        entries = rr->element[1];                       /* XAUTOCLAIM */

    } else if (rr->type == REDIS_REPLY_ARRAY && rr->elements == 1
               && rr->element[0]->type == REDIS_REPLY_ARRAY
               && rr->element[0]->elements == 2
               && rr->element[0]->element[1]->type == REDIS_REPLY_ARRAY)
    {
        entries = rr->element[0]->element[1];           /* XREADGROUP */
    }

    for (j = 0; entries && j < entries->elements; j++) {
        e = entries->element[j];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[0]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        id.data = (u_char *) e->element[0]->str;
        id.len = e->element[0]->len;
        ngx_str_set(&device, "");

        f = e->element[1];

        for (k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements;
             k += 2)
        {
            if (f->element[k]->type == REDIS_REPLY_STRING
                && f->element[k + 1]->type == REDIS_REPLY_STRING
                && f->element[k]->len == sizeof("device") - 1
                && ngx_strncmp(f->element[k]->str, "device", 6) == 0
                && f->element[k + 1]->len <= 256)
            {
                device.data = (u_char *) f->element[k + 1]->str;
                device.len = f->element[k + 1]->len;
            }
        }

        handler(&id, &device);
    }

    return NGX_OK;
}


/* connreq_prepare.lua's answer: n strings, copied NUL-terminated */

ngx_int_t
ngx_http_cwmp_store_connreq_prepared(void *reply, ngx_pool_t *pool,
    ngx_str_t *out, ngx_uint_t n)
{
    ngx_uint_t   k;
    redisReply  *rr;

    rr = reply;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != n) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "cwmp: redis answered a connection request "
                      "unexpectedly");
        return NGX_ERROR;
    }

    for (k = 0; k < n; k++) {
        if (rr->element[k]->type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }

        out[k].len = rr->element[k]->len;
        out[k].data = ngx_pnalloc(pool, out[k].len + 1);
        if (out[k].data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(out[k].data, rr->element[k]->str, out[k].len);
        out[k].data[out[k].len] = '\0';
    }

    return NGX_OK;
}


/* NGX_OK: recorded; NGX_DECLINED: not authentic; NGX_ERROR: unexpected */

ngx_int_t
ngx_http_cwmp_store_stun_recorded(void *reply)
{
    redisReply  *rr;

    rr = reply;

    if (rr->type != REDIS_REPLY_INTEGER) {
        return NGX_ERROR;
    }

    return rr->integer == NGX_HTTP_CWMP_STUN_BINDING_RECORDED
           ? NGX_OK : NGX_DECLINED;
}


/*
 * Copyright (C) ngx_cwmp authors
 *
 * The files at the ACS, in Redis: a stored file's metadata (the file
 * store's, cwmp:file:{<name>}, tools/cwmp-file writes it), the backups a
 * restore picks from (backup_pick.lua), and what the upload receiver
 * stored for a device's task (upload_stored.lua).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_http_cwmp_store.h"


static ngx_int_t ngx_http_cwmp_store_file_read(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_backup_read(
    ngx_http_cwmp_redis_op_t *op, ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_upload_read(
    ngx_http_cwmp_redis_op_t *op, ngx_uint_t i, void *reply);


/*
 * A stored file's metadata (cwmp:file:{<name>}, the file store's), for a
 * download task naming it: its size and type into *file
 */

ngx_int_t
ngx_http_cwmp_store_file(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_task_file_t *file,
    ngx_http_cwmp_store_handler_pt handler)
{
    ngx_http_cwmp_store_cmd_t  c;

    if (ngx_http_cwmp_store_cmd(&c, st, owner, 4, "HMGET") != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg_tagged(&c, "file:{}", &file->name);
    ngx_http_cwmp_store_arg_text(&c, "size");
    ngx_http_cwmp_store_arg_text(&c, "file_type");

    return ngx_http_cwmp_store_call(&c, owner, ngx_http_cwmp_store_file_read,
                                    handler, file);
}


static ngx_int_t
ngx_http_cwmp_store_file_read(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                 *rr;
    ngx_http_cwmp_store_ctx_t  *ctx;
    ngx_http_cwmp_task_file_t  *file;

    ctx = op->data;
    rr = reply;
    file = ctx->out;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 2) {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    if (ngx_http_cwmp_store_value(ctx->pool, rr->element[0], &file->size)
        != NGX_OK
        || ngx_http_cwmp_store_value(ctx->pool, rr->element[1],
                                     &file->file_type)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    file->read = 1;

    return NGX_OK;
}


/*
 * The backup a restoreConfig restores (backup_pick.lua, on the slot of the
 * device whose backup it is): the one file->name names, or the newest;
 * its name, size and type into *file, or none (file->read, no size)
 */

ngx_int_t
ngx_http_cwmp_store_backup(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_str_t *device_id,
    ngx_http_cwmp_task_file_t *file, ngx_http_cwmp_store_handler_pt handler)
{
    ngx_http_cwmp_store_cmd_t  c;

    if (ngx_http_cwmp_store_script(&c, st, owner,
                                   NGX_HTTP_CWMP_SCRIPT_BACKUP_PICK,
                                   device_id, 1)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(&c, &file->name);

    return ngx_http_cwmp_store_call(&c, owner,
                                    ngx_http_cwmp_store_backup_read, handler,
                                    file);
}


static ngx_int_t
ngx_http_cwmp_store_backup_read(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                 *rr;
    ngx_http_cwmp_store_ctx_t  *ctx;
    ngx_http_cwmp_task_file_t  *file;

    ctx = op->data;
    rr = reply;
    file = ctx->out;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements < 1
        || rr->element[0]->type != REDIS_REPLY_INTEGER
        || (rr->element[0]->integer == NGX_HTTP_CWMP_BACKUP_PICK_FOUND
            && rr->elements != 4))
    {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    file->read = 1;

    if (rr->element[0]->integer != NGX_HTTP_CWMP_BACKUP_PICK_FOUND) {
        return NGX_OK;
    }

    if (ngx_http_cwmp_store_value(ctx->pool, rr->element[1], &file->name)
        != NGX_OK
        || ngx_http_cwmp_store_value(ctx->pool, rr->element[2], &file->size)
           != NGX_OK
        || ngx_http_cwmp_store_value(ctx->pool, rr->element[3],
                                     &file->file_type)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A file the upload receiver stored for a device's task (upload_stored.lua):
 * recorded for its TransferComplete, kept among the device's backups or
 * logs; up->reused when the task has another file, up->dropped the names
 * of the device's files of the kind no longer kept
 */

ngx_int_t
ngx_http_cwmp_store_upload(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_upload_t *up,
    ngx_http_cwmp_store_handler_pt handler)
{
    ngx_time_t                 *tp;
    ngx_http_cwmp_store_cmd_t   c;

    if (ngx_http_cwmp_store_script(&c, st, owner,
                                   NGX_HTTP_CWMP_SCRIPT_UPLOAD_STORED,
                                   &up->device_id, 6)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(&c, &up->command_key);
    ngx_http_cwmp_store_arg(&c, &up->file);
    ngx_http_cwmp_store_arg(&c, &up->name);
    ngx_http_cwmp_store_arg_num(&c, up->keep);
    ngx_http_cwmp_store_arg(&c, &up->kind);

    tp = ngx_timeofday();
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) tp->sec * 1000 + tp->msec);

    return ngx_http_cwmp_store_call(&c, owner,
                                    ngx_http_cwmp_store_upload_read, handler,
                                    up);
}


static ngx_int_t
ngx_http_cwmp_store_upload_read(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    size_t                         j;
    ngx_str_t                     *name;
    redisReply                    *rr;
    ngx_http_cwmp_store_ctx_t     *ctx;
    ngx_http_cwmp_store_upload_t  *up;

    ctx = op->data;
    rr = reply;
    up = ctx->out;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements < 1
        || rr->element[0]->type != REDIS_REPLY_INTEGER)
    {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    up->reused = (rr->element[0]->integer
                  != NGX_HTTP_CWMP_UPLOAD_STORED_STORED);

    if (ngx_array_init(&up->dropped, ctx->pool, rr->elements,
                       sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (j = 1; j < rr->elements; j++) {
        name = ngx_array_push(&up->dropped);

        if (name == NULL
            || ngx_http_cwmp_store_value(ctx->pool, rr->element[j], name)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}

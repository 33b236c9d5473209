
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Tasks: the JSON documents other systems queue in Redis (GenieACS's NBI
 * vocabulary), turned into ACS requests; and what came of them, an
 * outcome (ngx_http_cwmp_outcome.c reads the CPE's answers).  No I/O.
 */


#ifndef _NGX_HTTP_CWMP_TASK_H_INCLUDED_
#define _NGX_HTTP_CWMP_TASK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_http_cwmp_soap.h"


#define NGX_HTTP_CWMP_MAX_TASK     (256 * 1024)


typedef struct {
    ngx_str_t                    status;        /* done, fault, expired */
    ngx_str_t                    result;        /* JSON */
    ngx_str_t                    answer;        /* the CPE's method */
    ngx_str_t                    request;       /* the ACS method sent */
    ngx_uint_t                   apply;         /* the task's writes hold */
    ngx_array_t                  params;        /* ngx_http_cwmp_param_t */
} ngx_http_cwmp_outcome_t;


/*
 * A transfer's file at the ACS: a stored file a download names ("file"
 * instead of "url"), the backup a restoreConfig restores, or the upload
 * of an upload, backupConfig or uploadLog with no "url" to the ACS's own
 * receiver
 */

typedef struct {
    ngx_str_t                    name;          /* the task's "file", the
                                                   restore's "backup" */
    ngx_str_t                    backup_of;     /* the restore's "from":
                                                   whose backup; empty: the
                                                   device's own */
    ngx_str_t                    kind;          /* an upload's: "backup",
                                                   "log" or empty */
    ngx_str_t                    command_key;   /* an upload's task's */
    ngx_str_t                    url;           /* signed for the device */
    ngx_str_t                    username;      /* the receiver's, unless */
    ngx_str_t                    password;      /* the task has its own */
    ngx_str_t                    size;          /* bytes; empty: no such
                                                   file in the store */
    ngx_str_t                    file_type;     /* the store's, or empty */
    char                        *error;         /* why it cannot be sent */
    unsigned                     restore:1;
    unsigned                     upload:1;
    unsigned                     read:1;        /* the store answered, or
                                                   the URL is signed */
} ngx_http_cwmp_task_file_t;


/*
 * The ACS request for a queued task, as a SOAP Body element (types: the
 * cached types of its parameters, a JSON object, or empty; file: the
 * stored file it names, as the store described it, or NULL): NGX_OK;
 * NGX_DECLINED when the task cannot be sent (broken JSON, unknown name,
 * bad arguments, expired, a file not in the store), with *outcome saying
 * so; NGX_ERROR.
 */
ngx_int_t ngx_http_cwmp_task_request(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *raw, ngx_str_t *types, ngx_http_cwmp_task_file_t *file,
    ngx_str_t *body, ngx_http_cwmp_outcome_t *outcome);

/* NGX_OK: a transfer task with its file at the ACS (*file says which) */
ngx_int_t ngx_http_cwmp_task_file(ngx_pool_t *pool, ngx_str_t *raw,
    ngx_http_cwmp_task_file_t *file);

/* the compact JSON text of j, in the pool; j is released */
ngx_int_t ngx_http_cwmp_task_json(ngx_pool_t *pool, json_t *j,
    ngx_str_t *out);


#endif /* _NGX_HTTP_CWMP_TASK_H_INCLUDED_ */

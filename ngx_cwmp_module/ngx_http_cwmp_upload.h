
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_UPLOAD_H_INCLUDED_
#define _NGX_HTTP_CWMP_UPLOAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_task.h"


/* the ACS's upload receiver, as the ACS requests go out with it */

typedef struct {
    ngx_str_t                    url;           /* cwmp_uploads_url; empty:
                                                   no receiver */
    time_t                       ttl;           /* a signed URL's life */
    off_t                        max_size;      /* an upload's cap */
    ngx_uint_t                   kept;          /* backups, logs per device */
    ngx_str_t                    username;      /* for a location that asks
                                                   for credentials */
    ngx_str_t                    password;
} ngx_http_cwmp_upload_conf_t;


void ngx_http_cwmp_upload_create_conf(ngx_http_cwmp_upload_conf_t *conf);
char *ngx_http_cwmp_upload_init_conf(ngx_conf_t *cf,
    ngx_http_cwmp_upload_conf_t *conf);
char *ngx_http_cwmp_upload_credentials(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_cwmp_upload_receiver(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * The URL an upload task's file goes to (file->url), a name of its own
 * (file->name), signed for the device, the task (file->command_key), the
 * kind (file->kind) and the cap; file->read
 */
ngx_int_t ngx_http_cwmp_upload_url(ngx_pool_t *pool,
    ngx_http_cwmp_upload_conf_t *conf, ngx_str_t *secret, ngx_str_t *device,
    ngx_http_cwmp_task_file_t *file, ngx_log_t *log);

/* the request body filter that counts and hashes an upload */
ngx_int_t ngx_http_cwmp_upload_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_CWMP_UPLOAD_H_INCLUDED_ */

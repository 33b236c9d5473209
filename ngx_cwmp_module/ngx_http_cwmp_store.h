
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Every Redis key and command lives here (redis-schema/README.md is the
 * catalogue).  Each call is one round trip on behalf of one request.
 */


#ifndef _NGX_HTTP_CWMP_STORE_H_INCLUDED_
#define _NGX_HTTP_CWMP_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_soap.h"


/*
 * NGX_OK: stored; NGX_ERROR: Redis was unavailable, slow, or refused
 * the commands.  Called once, unless the request went away first.
 */
typedef void (*ngx_http_cwmp_store_handler_pt)(ngx_http_request_t *r,
    ngx_int_t rc);


typedef struct {
    ngx_str_t                    device_id;
    ngx_str_t                    token;
    ngx_str_t                    version;       /* "1.0" ... */
    ngx_http_cwmp_msg_t         *msg;
    ngx_msec_t                   session_timeout;
} ngx_http_cwmp_store_inform_t;


/*
 * NGX_DONE: the handler will be called; NGX_DECLINED: Redis is unavailable
 * (answer at once); NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_cwmp_store_inform(ngx_http_request_t *r,
    ngx_http_cwmp_store_inform_t *inform,
    ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_session_end(ngx_http_request_t *r,
    ngx_str_t *device_id, ngx_str_t *token,
    ngx_http_cwmp_store_handler_pt handler);
ngx_str_t *ngx_http_cwmp_store_scripts(ngx_uint_t *n);


#endif /* _NGX_HTTP_CWMP_STORE_H_INCLUDED_ */


/*
 * Copyright (C) ngx_cwmp authors
 *
 * Every answer the ACS writes, as HTTP: a SOAP envelope (200), a SOAP
 * Fault (500), the end of a session (204), a refusal (4xx text), storage
 * or load trouble (503 + Retry-After); and the single finalize.
 */


#ifndef _NGX_HTTP_CWMP_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_CWMP_RESPONSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the answers; each returns what ngx_http_cwmp_finalize() takes */
ngx_int_t ngx_http_cwmp_response_soap(ngx_http_request_t *r,
    ngx_str_t *envelope);
ngx_int_t ngx_http_cwmp_response_fault(ngx_http_request_t *r,
    ngx_str_t *envelope);
ngx_int_t ngx_http_cwmp_response_end(ngx_http_request_t *r);
ngx_int_t ngx_http_cwmp_response_refuse(ngx_http_request_t *r,
    ngx_str_t *reason);
ngx_int_t ngx_http_cwmp_response_refuse_text(ngx_http_request_t *r,
    char *reason);
ngx_int_t ngx_http_cwmp_response_text(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *reason);
ngx_int_t ngx_http_cwmp_response_unavailable(ngx_http_request_t *r);
ngx_int_t ngx_http_cwmp_response_retry_later(ngx_http_request_t *r,
    char *text, time_t after);

ngx_int_t ngx_http_cwmp_response_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value);

/*
 * What a store call's NGX_DONE / NGX_DECLINED (Redis unavailable) /
 * NGX_ERROR means for the request: NGX_DONE (the store's handler
 * finalizes), or an answer.
 */
ngx_int_t ngx_http_cwmp_response_store(ngx_http_request_t *r, ngx_int_t rc);

/*
 * The single finalize, safe from Redis callbacks.  NGX_ERROR before
 * anything was sent is answered 500.
 */
void ngx_http_cwmp_finalize(ngx_http_request_t *r, ngx_int_t rc);


#endif /* _NGX_HTTP_CWMP_RESPONSE_H_INCLUDED_ */

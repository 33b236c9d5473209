
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Which session a request carries: the session cookie (read and written),
 * else the session bound to its keep-alive connection (for CPEs that drop
 * cookies), and the device that authenticated on that connection (TR-069
 * authenticates a connection, not each request).
 */


#ifndef _NGX_HTTP_CWMP_CONN_H_INCLUDED_
#define _NGX_HTTP_CWMP_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_CWMP_COOKIE_NAME  "cwmp_session"


/* the n-th "cwmp_session=<token>.<ID>" cookie: NGX_OK or NGX_DECLINED */
ngx_int_t ngx_http_cwmp_conn_cookie(ngx_http_request_t *r, ngx_uint_t n,
    ngx_str_t *token, ngx_str_t *device_id);
ngx_int_t ngx_http_cwmp_conn_set_cookie(ngx_http_request_t *r,
    ngx_str_t *token, ngx_str_t *device_id);

/*
 * The sessions a request may carry, best first (n from 0): its cookie, the
 * other cookies of the same device, the session bound to its connection
 */
ngx_int_t ngx_http_cwmp_conn_session(ngx_http_request_t *r, ngx_uint_t n,
    ngx_str_t *token, ngx_str_t *device_id);

/* the connection carries the session from now on, or no longer */
void ngx_http_cwmp_conn_open(ngx_connection_t *c, ngx_str_t *token,
    ngx_str_t *device_id);
void ngx_http_cwmp_conn_close(ngx_connection_t *c);

/* the device authenticated on the connection: NGX_OK, or NGX_DECLINED */
void ngx_http_cwmp_conn_authenticated(ngx_connection_t *c,
    ngx_str_t *device_id);
ngx_int_t ngx_http_cwmp_conn_is_authenticated(ngx_connection_t *c,
    ngx_str_t *device_id);

/* "<host>:<pid>:<number>": which connection a request came on */
ngx_int_t ngx_http_cwmp_conn_id(ngx_connection_t *c, ngx_pool_t *pool,
    ngx_str_t *id);

/* a cookie, or a session or authentication bound to the connection */
ngx_uint_t ngx_http_cwmp_conn_bound(ngx_http_request_t *r);

/* a cookie, or a connection that carried a session: not a new CPE */
ngx_uint_t ngx_http_cwmp_conn_seen(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CWMP_CONN_H_INCLUDED_ */

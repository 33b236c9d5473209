
/*
 * Copyright (C) ngx_cwmp authors
 *
 * CPE authentication of a request (cwmp_auth): the early check before the
 * body is read, the Inform's check (a connection, a client certificate,
 * Digest or Basic credentials verified against what Redis holds), and the
 * refusals (401 with challenges, 403, 429).  The session goes on through
 * the callback it gave.
 */


#ifndef _NGX_HTTP_CWMP_ACCESS_H_INCLUDED_
#define _NGX_HTTP_CWMP_ACCESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_auth.h"
#include "ngx_http_cwmp_soap.h"
#include "ngx_http_cwmp_store.h"


/* the session, once its Inform is authenticated: as a content phase rc */
typedef ngx_int_t (*ngx_http_cwmp_access_pt)(ngx_http_request_t *r);


typedef struct {
    ngx_http_request_t          *r;
    ngx_http_cwmp_msg_t         *msg;           /* the Inform */
    ngx_str_t                    claimed;       /* its device ID */
    ngx_http_cwmp_access_pt      granted;
    ngx_uint_t                   checked;       /* parsed, and its nonce
                                                   good, before the body
                                                   was read */
    ngx_http_cwmp_auth_t         auth;
    ngx_http_cwmp_store_auth_t   store;
} ngx_http_cwmp_access_t;


/*
 * Before the body: NGX_DECLINED, read it (what was parsed is kept in a);
 * anything else answers the request (the body discarded).
 */
ngx_int_t ngx_http_cwmp_access_early(ngx_http_request_t *r,
    ngx_http_cwmp_access_t *a);

/*
 * The Inform of the device "claimed": NGX_DECLINED, authenticated (the
 * session may open); NGX_DONE, Redis is asked and "granted" will be called
 * or the request answered; anything else answers the request.
 */
ngx_int_t ngx_http_cwmp_access_inform(ngx_http_request_t *r,
    ngx_http_cwmp_access_t *a, ngx_http_cwmp_msg_t *msg, ngx_str_t *claimed,
    ngx_http_cwmp_access_pt granted);


/* the directives of CPE authentication (ngx_http_cwmp_module.c's table) */
char *ngx_http_cwmp_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_cwmp_auth_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_cwmp_auth_bootstrap(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_cwmp_auth_failures(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CWMP_ACCESS_H_INCLUDED_ */

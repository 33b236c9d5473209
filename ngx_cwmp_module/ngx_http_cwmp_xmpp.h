
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_XMPP_H_INCLUDED_
#define _NGX_HTTP_CWMP_XMPP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_CWMP_XMPP_JID_MAX  256

/* cwmp_xmpp tls= */
#define NGX_HTTP_CWMP_XMPP_TLS_NONE    0
#define NGX_HTTP_CWMP_XMPP_TLS_START   1      /* RFC 6120 5, port 5222 */
#define NGX_HTTP_CWMP_XMPP_TLS_DIRECT  2      /* XEP-0368, port 5223 */


/* cwmp_xmpp <host:port> jid=<user@domain> password_file=<file> ... */

typedef struct {
    ngx_addr_t                  *server;        /* resolved at start */
    ngx_str_t                    user;
    ngx_str_t                    domain;
    ngx_str_t                    password;
    ngx_str_t                    resource;      /* each worker's:
                                                   -<host>-<pid> */
    ngx_array_t                  allow;         /* ngx_str_t: the domains
                                                   CPE JIDs may be in */
    ngx_msec_t                   timeout;       /* connect, log in, a
                                                   ping's answer */
    ngx_msec_t                   keepalive;     /* an XEP-0199 ping */
    ngx_uint_t                   tls;           /* NGX_HTTP_CWMP_XMPP_* */
#if (NGX_SSL)
    ngx_ssl_t                   *ssl;
#endif
} ngx_http_cwmp_xmpp_conf_t;


/* what came of a connection request IQ: "ok", "auth_failed", "offline" */
typedef void (*ngx_http_cwmp_xmpp_done_pt)(void *data, char *status,
    char *detail);


char *ngx_http_cwmp_xmpp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_cwmp_xmpp_allow(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_cwmp_xmpp_init_process(ngx_cycle_t *cycle,
    ngx_http_cwmp_xmpp_conf_t *conf);
void ngx_http_cwmp_xmpp_exit_process(void);

/* a JID of the right form, in an allowed domain: NGX_OK; why not, else */
char *ngx_http_cwmp_xmpp_jid_refused(ngx_http_cwmp_xmpp_conf_t *conf,
    ngx_str_t *jid);

/*
 * A connectionRequest IQ to the full JID "to": NGX_OK, and done is called
 * once (the CPE's result or error, the server's error, the timeout, the
 * stream lost); NGX_DECLINED when the ACS is not logged in (*why says);
 * NGX_ERROR.
 */
ngx_int_t ngx_http_cwmp_xmpp_request(ngx_str_t *to, ngx_str_t *username,
    ngx_str_t *password, ngx_msec_t timeout, ngx_http_cwmp_xmpp_done_pt done,
    void *data, char **why);


#endif /* _NGX_HTTP_CWMP_XMPP_H_INCLUDED_ */

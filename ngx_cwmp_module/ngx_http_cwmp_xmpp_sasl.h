
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_XMPP_SASL_H_INCLUDED_
#define _NGX_HTTP_CWMP_XMPP_SASL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the mechanisms a server offered, as bits */
#define NGX_HTTP_CWMP_SASL_PLAIN          0x01
#define NGX_HTTP_CWMP_SASL_SCRAM_SHA1     0x02
#define NGX_HTTP_CWMP_SASL_SCRAM_SHA256   0x04

#define NGX_HTTP_CWMP_SASL_HASH_MAX       32


/* one SCRAM exchange (RFC 5802, RFC 7677), no channel binding */

typedef struct {
    ngx_uint_t                   mechanism;     /* SCRAM_SHA1, _SHA256 */
    u_char                       cnonce[25];
    u_char                       server_signature[NGX_HTTP_CWMP_SASL_HASH_MAX];
    u_char                       auth_message[1024];
    size_t                       auth_message_len;
} ngx_http_cwmp_sasl_scram_t;


/* the mechanism to use of those offered: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN
 * (over TLS only); 0 for none */
ngx_uint_t ngx_http_cwmp_sasl_choose(ngx_uint_t offered, ngx_uint_t secure);

/* the bit of a <mechanism> name, 0 for one the client does not speak */
ngx_uint_t ngx_http_cwmp_sasl_mechanism(u_char *name, size_t len);

/* the mechanism's name, for logs */
char *ngx_http_cwmp_sasl_name(ngx_uint_t mechanism);

/*
 * Each writes its element (<auth>, <response>) into buf .. last and
 * returns its end, or NULL (too long, the server's message not SCRAM's,
 * out of randomness).
 */
u_char *ngx_http_cwmp_sasl_plain(u_char *buf, u_char *last, ngx_str_t *user,
    ngx_str_t *password);
u_char *ngx_http_cwmp_sasl_scram_first(ngx_http_cwmp_sasl_scram_t *sc,
    u_char *buf, u_char *last, ngx_str_t *user, ngx_log_t *log);
u_char *ngx_http_cwmp_sasl_scram_final(ngx_http_cwmp_sasl_scram_t *sc,
    u_char *buf, u_char *last, ngx_str_t *password, ngx_str_t *challenge);

/* the server's <success> proves it knows the password: NGX_OK, or
 * NGX_DECLINED (a server signature that is not the one computed) */
ngx_int_t ngx_http_cwmp_sasl_scram_verify(ngx_http_cwmp_sasl_scram_t *sc,
    ngx_str_t *success);


#endif /* _NGX_HTTP_CWMP_XMPP_SASL_H_INCLUDED_ */

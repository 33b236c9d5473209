
/*
 * Copyright (C) ngx_cwmp authors
 *
 * CPE authentication without I/O: the Authorization header, HTTP Digest
 * (RFC 7616: MD5 and SHA-256, qop=auth) and Basic, stateless nonces, the
 * identity a client certificate names.
 */


#ifndef _NGX_HTTP_CWMP_AUTH_H_INCLUDED_
#define _NGX_HTTP_CWMP_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* cwmp_auth: the methods a location accepts; 0 is "off" */
#define NGX_HTTP_CWMP_AUTH_DIGEST   0x01
#define NGX_HTTP_CWMP_AUTH_BASIC    0x02      /* over TLS only */
#define NGX_HTTP_CWMP_AUTH_CERT     0x04

/* cwmp_auth_digest_algorithms: what a challenge offers; 0 ends the list */
#define NGX_HTTP_CWMP_DIGEST_MD5     1
#define NGX_HTTP_CWMP_DIGEST_SHA256  2

/* cwmp_auth_username */
#define NGX_HTTP_CWMP_AUTH_ID_DEVICE  0       /* the device ID */
#define NGX_HTTP_CWMP_AUTH_ID_SERIAL  1       /* its serial number */

/* 12 hex digits of milliseconds, 8 random, 32 of HMAC-SHA1 */
#define NGX_HTTP_CWMP_NONCE_LEN     52

/* a hex digest, NUL-terminated: MD5 32, SHA-256 64 */
#define NGX_HTTP_CWMP_HASH_LEN      65


typedef struct {
    ngx_uint_t                   basic;         /* else Digest */
    ngx_uint_t                   sha256;        /* algorithm=SHA-256 */
    ngx_str_t                    username;
    ngx_str_t                    password;      /* Basic */
    ngx_str_t                    realm;
    ngx_str_t                    nonce;
    ngx_str_t                    uri;
    ngx_str_t                    response;
    ngx_str_t                    qop;
    ngx_str_t                    nc;
    ngx_str_t                    cnonce;
} ngx_http_cwmp_auth_t;


/* what Redis holds for a device; .len 0: absent */

typedef struct {
    ngx_str_t                    password;
    ngx_str_t                    ha1_md5;
    ngx_str_t                    ha1_sha256;
    ngx_str_t                    next_password;     /* being set on it */
    ngx_str_t                    previous_password; /* until it expires */
} ngx_http_cwmp_auth_creds_t;


ngx_int_t ngx_http_cwmp_auth_parse(ngx_pool_t *pool, ngx_str_t *header,
    ngx_http_cwmp_auth_t *auth);
ngx_int_t ngx_http_cwmp_auth_param(ngx_pool_t *pool, u_char *start,
    u_char *end, char *name, ngx_str_t *value);
ngx_int_t ngx_http_cwmp_auth_algorithm(ngx_pool_t *pool, u_char *start,
    u_char *end, ngx_uint_t *sha256);
void ngx_http_cwmp_auth_nonce(ngx_str_t *secret, ngx_str_t *addr,
    u_char *nonce);
ngx_int_t ngx_http_cwmp_auth_nonce_check(ngx_str_t *secret, ngx_str_t *addr,
    ngx_str_t *nonce, ngx_msec_t lifetime);
void ngx_http_cwmp_auth_hash(ngx_uint_t sha256, ngx_str_t *in, u_char *hex);
ngx_int_t ngx_http_cwmp_auth_digest(ngx_pool_t *pool, ngx_uint_t sha256,
    ngx_str_t *ha1, ngx_str_t *method, ngx_str_t *uri, ngx_str_t *nonce,
    ngx_str_t *nc, ngx_str_t *cnonce, u_char *hex);
ngx_int_t ngx_http_cwmp_auth_ha1(ngx_pool_t *pool, ngx_uint_t sha256,
    ngx_str_t *username, ngx_str_t *realm, ngx_str_t *password, u_char *hex);
ngx_int_t ngx_http_cwmp_auth_verify(ngx_pool_t *pool,
    ngx_http_cwmp_auth_t *auth, ngx_str_t *realm, ngx_str_t *method,
    ngx_http_cwmp_auth_creds_t *creds, ngx_str_t *bootstrap);
ngx_int_t ngx_http_cwmp_auth_uri(ngx_str_t *uri, ngx_str_t *request_uri);
ngx_int_t ngx_http_cwmp_auth_secret(ngx_conf_t *cf, ngx_str_t *file,
    ngx_str_t *secret);
#if (NGX_HTTP_SSL)
ngx_int_t ngx_http_cwmp_auth_cert(ngx_connection_t *c, ngx_pool_t *pool,
    ngx_str_t *cn);
#endif


#endif /* _NGX_HTTP_CWMP_AUTH_H_INCLUDED_ */

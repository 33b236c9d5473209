
/*
 * Copyright (C) ngx_cwmp authors
 *
 * What several rooms need and none owns, without HTTP types: device IDs,
 * random hex from the kernel's CSPRNG, HMAC-SHA1, CWMP versions.
 */


#ifndef _NGX_HTTP_CWMP_UTIL_H_INCLUDED_
#define _NGX_HTTP_CWMP_UTIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_CWMP_TOKEN_LEN    32           /* 128 bits, in hex */
#define NGX_HTTP_CWMP_RPC_ID_LEN   16           /* an ACS request's ID */
#define NGX_HTTP_CWMP_MAX_ID       (3 * 3 * 64 + 2)   /* an escaped ID */


ngx_int_t ngx_http_cwmp_util_init_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_cwmp_device_id(ngx_pool_t *pool, ngx_str_t *oui,
    ngx_str_t *product_class, ngx_str_t *serial, ngx_str_t *id);
ngx_int_t ngx_http_cwmp_random_hex(u_char *hex, size_t len, ngx_log_t *log);
ngx_int_t ngx_http_cwmp_version_negotiate(ngx_str_t *supported,
    ngx_str_t *version);
ngx_int_t ngx_http_cwmp_version_of_ns(ngx_pool_t *pool, ngx_str_t *ns,
    ngx_str_t *version);
/* a password kept in a file (never in the configuration): its first line */
ngx_int_t ngx_http_cwmp_conf_password(ngx_conf_t *cf, ngx_str_t *file,
    ngx_str_t *password);
void ngx_http_cwmp_hmac_sha1(ngx_str_t *key, ngx_str_t *parts, ngx_uint_t n,
    u_char *mac);


#endif /* _NGX_HTTP_CWMP_UTIL_H_INCLUDED_ */

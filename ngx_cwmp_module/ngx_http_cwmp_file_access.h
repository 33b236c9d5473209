
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_FILE_ACCESS_H_INCLUDED_
#define _NGX_HTTP_CWMP_FILE_ACCESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* a stored file's name: 1 to 128 of A-Z a-z 0-9 . _ -, not starting "." */
#define NGX_HTTP_CWMP_FILE_NAME_MAX  128


ngx_int_t ngx_http_cwmp_file_name_valid(ngx_str_t *name);

/* a signed URL's base: an http:// or https:// URL ending in "/", no query */
ngx_int_t ngx_http_cwmp_file_base_valid(ngx_str_t *url);

/*
 * The URL a device downloads a stored file from: <cwmp_files_url><name>
 * ?d=<device ID>&e=<expires>&s=<signature>, signed with the secret for
 * the device until expires
 */
ngx_int_t ngx_http_cwmp_file_url(ngx_pool_t *pool, ngx_str_t *secret,
    ngx_str_t *base, ngx_str_t *name, ngx_str_t *device, time_t expires,
    ngx_str_t *url);

/* more arguments a signed URL may carry (the upload receiver's) */
#define NGX_HTTP_CWMP_FILE_EXTRA     4

ngx_int_t ngx_http_cwmp_file_signed_url(ngx_pool_t *pool, ngx_str_t *secret,
    char *what, ngx_str_t *base, ngx_str_t *name, ngx_str_t *device,
    time_t expires, ngx_keyval_t *extra, ngx_uint_t nextra, ngx_str_t *url);

/*
 * A signed URL asked for: NGX_OK with the device, the name and the extra
 * arguments' values (extra[i].key named); 403 (logged) otherwise
 */
ngx_int_t ngx_http_cwmp_file_verify(ngx_http_request_t *r, ngx_str_t *secret,
    char *what, ngx_keyval_t *extra, ngx_uint_t nextra, ngx_str_t *device,
    ngx_str_t *name);

/* the access phase of "cwmp_file_access" locations, registered */
ngx_int_t ngx_http_cwmp_file_access_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_CWMP_FILE_ACCESS_H_INCLUDED_ */


/*
 * Copyright (C) ngx_cwmp authors
 *
 * The file store's download side: nginx serves the files (the static
 * module: sendfile, ranges, resumption), the module decides who may; and
 * the signed URLs of both sides (the upload receiver's too).  A
 * download task that names a stored file goes out with a URL the ACS
 * signs for that device and a time:
 *
 *   <cwmp_files_url><name>?d=<device ID>&e=<unix time>&s=<signature>
 *
 * signature = the first 32 hex digits of HMAC-SHA1(secret, "file\n" <the
 * URL's path> "\n" <device ID> "\n" <expires>), the secret being the
 * nonces' (cwmp_auth_secret_file: the same on every host).  In a location
 * with cwmp_file_access, a request whose signature does not verify, whose
 * time has passed, or whose path is not a stored file's gets 403 and a
 * log line; the others go on to nginx's content handlers.  A URL is bound
 * to its device: another device's ID does not verify with it, and each
 * fetch is logged with the device.
 *
 * Threat model: the URL is a bearer credential for one file, one device
 * and a limited time; names are checked before they reach a path (no "/",
 * no leading ".", no "%"), and the path the signature covers is the one
 * nginx resolves (r->uri, decoded and merged).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_file_access.h"
#include "ngx_http_cwmp_util.h"


#define NGX_HTTP_CWMP_FILE_SIG_LEN  32


static ngx_int_t ngx_http_cwmp_file_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_file_access(ngx_http_request_t *r,
    ngx_str_t *secret);
static ngx_int_t ngx_http_cwmp_file_unescape(ngx_pool_t *pool,
    ngx_str_t *value);
static void ngx_http_cwmp_file_sign(ngx_str_t *secret, char *what,
    ngx_str_t *path, ngx_str_t *device, ngx_str_t *expires,
    ngx_keyval_t *extra, ngx_uint_t nextra, u_char *sig);


ngx_int_t
ngx_http_cwmp_file_name_valid(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_CWMP_FILE_NAME_MAX
        || name->data[0] == '.')
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* a signed URL's base: http:// or https://, ending in "/", no query */

ngx_int_t
ngx_http_cwmp_file_base_valid(ngx_str_t *url)
{
    if (ngx_strncmp(url->data, "http", 4) != 0
        || ngx_strlchr(url->data, url->data + url->len, '?')
        || url->data[url->len - 1] != '/'
        || ngx_strnstr(url->data, "://", url->len) == NULL)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_cwmp_file_url(ngx_pool_t *pool, ngx_str_t *secret, ngx_str_t *base,
    ngx_str_t *name, ngx_str_t *device, time_t expires, ngx_str_t *url)
{
    return ngx_http_cwmp_file_signed_url(pool, secret, "file", base, name,
                                         device, expires, NULL, 0, url);
}


/*
 * <base><name>?d=<device>&e=<expires>[&<key>=<value>...]&s=<signature>,
 * the signature HMAC-SHA1(secret, <what> "\n" <path> "\n" <device> "\n"
 * <expires> ["\n" <value>]...), its first 32 hex digits
 */

ngx_int_t
ngx_http_cwmp_file_signed_url(ngx_pool_t *pool, ngx_str_t *secret,
    char *what, ngx_str_t *base, ngx_str_t *name, ngx_str_t *device,
    time_t expires, ngx_keyval_t *extra, ngx_uint_t nextra, ngx_str_t *url)
{
    u_char      *p, *path, e[NGX_TIME_T_LEN], sig[NGX_HTTP_CWMP_FILE_SIG_LEN];
    size_t       len;
    ngx_str_t    full, exp;
    ngx_uint_t   i;

    /* the path the CPE will ask for: the base URL's, then the name */

    p = ngx_strlcasestrn(base->data, base->data + base->len,
                         (u_char *) "://", 3 - 1);
    path = p ? ngx_strlchr(p + 3, base->data + base->len, '/') : NULL;

    if (path == NULL || nextra > NGX_HTTP_CWMP_FILE_EXTRA) {
        return NGX_ERROR;
    }

    full.len = base->data + base->len - path + name->len;
    full.data = ngx_pnalloc(pool, full.len);
    if (full.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(full.data, path, base->data + base->len - path),
               name->data, name->len);

    exp.data = e;
    exp.len = ngx_sprintf(e, "%T", expires) - e;

    ngx_http_cwmp_file_sign(secret, what, &full, device, &exp, extra, nextra,
                            sig);

    /* the values as query arguments ("%" of their own escaped) */

    len = base->len + name->len + sizeof("?d=&e=&s=") - 1
          + device->len + 2 * ngx_escape_uri(NULL, device->data, device->len,
                                             NGX_ESCAPE_ARGS)
          + exp.len + NGX_HTTP_CWMP_FILE_SIG_LEN;

    for (i = 0; i < nextra; i++) {
        len += sizeof("&=") - 1 + extra[i].key.len + extra[i].value.len
               + 2 * ngx_escape_uri(NULL, extra[i].value.data,
                                    extra[i].value.len, NGX_ESCAPE_ARGS);
    }

    url->data = ngx_pnalloc(pool, len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, base->data, base->len);
    p = ngx_cpymem(p, name->data, name->len);
    p = ngx_cpymem(p, "?d=", 3);
    p = (u_char *) ngx_escape_uri(p, device->data, device->len,
                                  NGX_ESCAPE_ARGS);
    p = ngx_cpymem(p, "&e=", 3);
    p = ngx_cpymem(p, exp.data, exp.len);

    for (i = 0; i < nextra; i++) {
        *p++ = '&';
        p = ngx_cpymem(p, extra[i].key.data, extra[i].key.len);
        *p++ = '=';
        p = (u_char *) ngx_escape_uri(p, extra[i].value.data,
                                      extra[i].value.len, NGX_ESCAPE_ARGS);
    }

    p = ngx_cpymem(p, "&s=", 3);
    p = ngx_cpymem(p, sig, NGX_HTTP_CWMP_FILE_SIG_LEN);

    url->len = p - url->data;

    return NGX_OK;
}


/* the access phase's handler of "cwmp_file_access" locations */

ngx_int_t
ngx_http_cwmp_file_access_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_cwmp_file_access_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_file_access_handler(ngx_http_request_t *r)
{
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    if (!lcf->file_access) {
        return NGX_DECLINED;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    return ngx_http_cwmp_file_access(r, &mcf->auth_secret);
}


/* NGX_DECLINED: on to the content handlers; 403 otherwise */

static ngx_int_t
ngx_http_cwmp_file_access(ngx_http_request_t *r, ngx_str_t *secret)
{
    ngx_int_t  rc;
    ngx_str_t  device, name;

    rc = ngx_http_cwmp_file_verify(r, secret, "file", NULL, 0, &device,
                                   &name);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: file \"%V\" fetched by device \"%V\"", &r->uri,
                  &device);
    ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_FILES_FETCHED);

    return NGX_DECLINED;
}


/*
 * A signed URL asked for: NGX_OK with the device, the name (what follows
 * the last "/", a stored file's form) and the extra arguments' values
 * (extra[i].key named, .value filled in, unescaped); 403 (logged) when it
 * is not signed, not a name, not signed right, or past its time
 */

ngx_int_t
ngx_http_cwmp_file_verify(ngx_http_request_t *r, ngx_str_t *secret,
    char *what, ngx_keyval_t *extra, ngx_uint_t nextra, ngx_str_t *device,
    ngx_str_t *name)
{
    u_char      *last, sig[NGX_HTTP_CWMP_FILE_SIG_LEN];
    time_t       expires;
    ngx_str_t    d, e, s;
    ngx_uint_t   i, diff;

    if (ngx_http_arg(r, (u_char *) "d", 1, &d) != NGX_OK
        || ngx_http_arg(r, (u_char *) "e", 1, &e) != NGX_OK
        || ngx_http_arg(r, (u_char *) "s", 1, &s) != NGX_OK
        || s.len != NGX_HTTP_CWMP_FILE_SIG_LEN || d.len == 0)
    {
        goto unsigned_url;
    }

    for (i = 0; i < nextra; i++) {
        if (ngx_http_arg(r, extra[i].key.data, extra[i].key.len,
                         &extra[i].value)
            != NGX_OK
            || ngx_http_cwmp_file_unescape(r->pool, &extra[i].value)
               != NGX_OK)
        {
            goto unsigned_url;
        }
    }

    /* the name: what follows the last "/" */

    last = r->uri.data + r->uri.len;
    name->data = last;

    while (name->data > r->uri.data && name->data[-1] != '/') {
        name->data--;
    }

    name->len = last - name->data;

    if (ngx_http_cwmp_file_name_valid(name) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: \"%V\" is not a stored file's name", &r->uri);
        return NGX_HTTP_FORBIDDEN;
    }

    /* the device ID, unescaped as the ACS escaped it */

    *device = d;

    if (ngx_http_cwmp_file_unescape(r->pool, device) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_cwmp_file_sign(secret, what, &r->uri, device, &e, extra, nextra,
                            sig);

    diff = 0;
    for (i = 0; i < NGX_HTTP_CWMP_FILE_SIG_LEN; i++) {
        diff |= sig[i] ^ s.data[i];
    }

    if (diff) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: %s \"%V\" for device \"%V\": the signature "
                      "does not verify", what, &r->uri, device);
        return NGX_HTTP_FORBIDDEN;
    }

    expires = ngx_atotm(e.data, e.len);

    if (expires == NGX_ERROR || expires < ngx_time()) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: %s \"%V\" for device \"%V\": the URL "
                      "expired", what, &r->uri, device);
        return NGX_HTTP_FORBIDDEN;
    }

    return NGX_OK;

unsigned_url:

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: %s \"%V\" asked for without a signature", what,
                  &r->uri);

    return NGX_HTTP_FORBIDDEN;
}


/* a query argument's value, unescaped into the pool */

static ngx_int_t
ngx_http_cwmp_file_unescape(ngx_pool_t *pool, ngx_str_t *value)
{
    u_char  *dst, *src;

    dst = ngx_pnalloc(pool, value->len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    src = value->data;
    value->data = dst;
    ngx_unescape_uri(&dst, &src, value->len, NGX_UNESCAPE_URI);
    value->len = dst - value->data;

    return NGX_OK;
}


static void
ngx_http_cwmp_file_sign(ngx_str_t *secret, char *what, ngx_str_t *path,
    ngx_str_t *device, ngx_str_t *expires, ngx_keyval_t *extra,
    ngx_uint_t nextra, u_char *sig)
{
    u_char      mac[20];
    ngx_str_t   parts[8 + 2 * NGX_HTTP_CWMP_FILE_EXTRA];
    ngx_uint_t  i, n;

    parts[0].data = (u_char *) what;
    parts[0].len = ngx_strlen(what);
    ngx_str_set(&parts[1], "\n");
    parts[2] = *path;
    ngx_str_set(&parts[3], "\n");
    parts[4] = *device;
    ngx_str_set(&parts[5], "\n");
    parts[6] = *expires;
    n = 7;

    for (i = 0; i < nextra; i++) {
        ngx_str_set(&parts[n], "\n");
        parts[n + 1] = extra[i].value;
        n += 2;
    }

    ngx_http_cwmp_hmac_sha1(secret, parts, n, mac);
    ngx_hex_dump(sig, mac, NGX_HTTP_CWMP_FILE_SIG_LEN / 2);
}

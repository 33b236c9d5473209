
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The file store's download side: nginx serves the files (the static
 * module: sendfile, ranges, resumption), the module decides who may.  A
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

#include "ngx_http_cwmp_file_access.h"
#include "ngx_http_cwmp_util.h"


#define NGX_HTTP_CWMP_FILE_SIG_LEN  32


static void ngx_http_cwmp_file_sign(ngx_str_t *secret, ngx_str_t *path,
    ngx_str_t *device, ngx_str_t *expires, u_char *sig);


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


ngx_int_t
ngx_http_cwmp_file_url(ngx_pool_t *pool, ngx_str_t *secret, ngx_str_t *base,
    ngx_str_t *name, ngx_str_t *device, time_t expires, ngx_str_t *url)
{
    u_char     *p, *path, e[NGX_TIME_T_LEN], sig[NGX_HTTP_CWMP_FILE_SIG_LEN];
    size_t      len;
    ngx_str_t   full, exp, dev;
    uintptr_t   escape;

    /* the path the CPE will ask for: the base URL's, then the name */

    p = ngx_strlcasestrn(base->data, base->data + base->len,
                         (u_char *) "://", 3 - 1);
    path = p ? ngx_strlchr(p + 3, base->data + base->len, '/') : NULL;

    if (path == NULL) {
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

    ngx_http_cwmp_file_sign(secret, &full, device, &exp, sig);

    /* the device ID as a query argument ("%" of its own escaped) */

    escape = ngx_escape_uri(NULL, device->data, device->len,
                            NGX_ESCAPE_ARGS);
    dev.len = device->len + 2 * escape;

    len = base->len + name->len + sizeof("?d=&e=&s=") - 1 + dev.len + exp.len
          + NGX_HTTP_CWMP_FILE_SIG_LEN;

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
    p = ngx_cpymem(p, "&s=", 3);
    p = ngx_cpymem(p, sig, NGX_HTTP_CWMP_FILE_SIG_LEN);

    url->len = p - url->data;

    return NGX_OK;
}


/* NGX_DECLINED: on to the content handlers; 403 otherwise */

ngx_int_t
ngx_http_cwmp_file_access(ngx_http_request_t *r, ngx_str_t *secret)
{
    u_char      *last, sig[NGX_HTTP_CWMP_FILE_SIG_LEN];
    time_t       expires;
    ngx_str_t    d, e, s, device, name;
    ngx_uint_t   i, diff;

    if (ngx_http_arg(r, (u_char *) "d", 1, &d) != NGX_OK
        || ngx_http_arg(r, (u_char *) "e", 1, &e) != NGX_OK
        || ngx_http_arg(r, (u_char *) "s", 1, &s) != NGX_OK
        || s.len != NGX_HTTP_CWMP_FILE_SIG_LEN || d.len == 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: file \"%V\" asked for without a signature",
                      &r->uri);
        return NGX_HTTP_FORBIDDEN;
    }

    /* the name: what follows the last "/", a stored file's form */

    last = r->uri.data + r->uri.len;
    name.data = last;

    while (name.data > r->uri.data && name.data[-1] != '/') {
        name.data--;
    }

    name.len = last - name.data;

    if (ngx_http_cwmp_file_name_valid(&name) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: \"%V\" is not a stored file's name", &r->uri);
        return NGX_HTTP_FORBIDDEN;
    }

    /* the device ID, unescaped as the ACS escaped it */

    device.data = ngx_pnalloc(r->pool, d.len);
    if (device.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = device.data;
    ngx_unescape_uri(&last, &d.data, d.len, NGX_UNESCAPE_URI);
    device.len = last - device.data;

    ngx_http_cwmp_file_sign(secret, &r->uri, &device, &e, sig);

    diff = 0;
    for (i = 0; i < NGX_HTTP_CWMP_FILE_SIG_LEN; i++) {
        diff |= sig[i] ^ s.data[i];
    }

    if (diff) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: file \"%V\" for device \"%V\": the signature "
                      "does not verify", &r->uri, &device);
        return NGX_HTTP_FORBIDDEN;
    }

    expires = ngx_atotm(e.data, e.len);

    if (expires == NGX_ERROR || expires < ngx_time()) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: file \"%V\" for device \"%V\": the URL "
                      "expired", &r->uri, &device);
        return NGX_HTTP_FORBIDDEN;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: file \"%V\" fetched by device \"%V\"", &r->uri,
                  &device);

    return NGX_DECLINED;
}


static void
ngx_http_cwmp_file_sign(ngx_str_t *secret, ngx_str_t *path,
    ngx_str_t *device, ngx_str_t *expires, u_char *sig)
{
    u_char     mac[20];
    ngx_str_t  parts[6];

    ngx_str_set(&parts[0], "file\n");
    parts[1] = *path;
    ngx_str_set(&parts[2], "\n");
    parts[3] = *device;
    ngx_str_set(&parts[4], "\n");
    parts[5] = *expires;

    ngx_http_cwmp_hmac_sha1(secret, parts, 6, mac);
    ngx_hex_dump(sig, mac, NGX_HTTP_CWMP_FILE_SIG_LEN / 2);
}

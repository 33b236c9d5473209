
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Device IDs, random hex, HMAC-SHA1, CWMP versions: used by the session,
 * access, connection requests, STUN and the policies alike.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_sha1.h>

#if (NGX_HTTP_CWMP_HAVE_GETRANDOM)
#include <sys/random.h>
#endif

#include "ngx_http_cwmp_util.h"


#if !(NGX_HTTP_CWMP_HAVE_GETRANDOM)
static ngx_fd_t  ngx_http_cwmp_urandom = NGX_INVALID_FILE;
#endif


static size_t ngx_http_cwmp_device_id_part(u_char *dst, ngx_str_t *part);
static ngx_int_t ngx_http_cwmp_random(u_char *buf, size_t len,
    ngx_log_t *log);


ngx_int_t
ngx_http_cwmp_util_init_process(ngx_cycle_t *cycle)
{
#if !(NGX_HTTP_CWMP_HAVE_GETRANDOM)

    /* opened once per worker: no file I/O on the request path */

    ngx_http_cwmp_urandom = ngx_open_file("/dev/urandom", NGX_FILE_RDONLY,
                                          NGX_FILE_OPEN, 0);
    if (ngx_http_cwmp_urandom == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      ngx_open_file_n " \"/dev/urandom\" failed");
        return NGX_ERROR;
    }

#endif

    return NGX_OK;
}


/*
 * The device ID as GenieACS builds it, so that existing IDs carry over:
 * OUI-ProductClass-SerialNumber, ProductClass left out when empty, every
 * byte outside [A-Za-z0-9_] written as %XX.
 */

ngx_int_t
ngx_http_cwmp_device_id(ngx_pool_t *pool, ngx_str_t *oui,
    ngx_str_t *product_class, ngx_str_t *serial, ngx_str_t *id)
{
    u_char  *p;

    p = ngx_pnalloc(pool, 3 * (oui->len + product_class->len + serial->len)
                          + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    id->data = p;

    p += ngx_http_cwmp_device_id_part(p, oui);
    *p++ = '-';

    if (product_class->len) {
        p += ngx_http_cwmp_device_id_part(p, product_class);
        *p++ = '-';
    }

    p += ngx_http_cwmp_device_id_part(p, serial);

    id->len = p - id->data;

    return NGX_OK;
}


static size_t
ngx_http_cwmp_device_id_part(u_char *dst, ngx_str_t *part)
{
    u_char      *p, c;
    ngx_uint_t   i;

    static u_char  hex[] = "0123456789ABCDEF";

    p = dst;

    for (i = 0; i < part->len; i++) {
        c = part->data[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '_')
        {
            *p++ = c;
            continue;
        }

        *p++ = '%';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0x0f];
    }

    return p - dst;
}


/*
 * len lower-case hex digits of the kernel's CSPRNG: session tokens (32,
 * 128 bits) and the cwmp:ID of ACS requests (16)
 */

ngx_int_t
ngx_http_cwmp_random_hex(u_char *hex, size_t len, ngx_log_t *log)
{
    u_char  raw[NGX_HTTP_CWMP_TOKEN_LEN / 2];

    if (len > NGX_HTTP_CWMP_TOKEN_LEN
        || ngx_http_cwmp_random(raw, len / 2, log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, raw, len / 2);

    return NGX_OK;
}


/*
 * The highest CWMP version of a SupportedCWMPVersions list ("1.0,1.2,1.4")
 * that the ACS speaks (1.0 to 1.4).
 */

ngx_int_t
ngx_http_cwmp_version_negotiate(ngx_str_t *supported, ngx_str_t *version)
{
    u_char      *p, *last;
    ngx_uint_t   best, minor;

    static u_char  versions[][4] = { "1.0", "1.1", "1.2", "1.3", "1.4" };

    best = 0;
    p = supported->data;
    last = p + supported->len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == ',')) {
            p++;
        }

        if (last - p >= 3 && p[0] == '1' && p[1] == '.'
            && p[2] >= '0' && p[2] <= '4'
            && (last - p == 3 || p[3] == ',' || p[3] == ' '))
        {
            minor = p[2] - '0' + 1;
            best = ngx_max(best, minor);
        }

        while (p < last && *p != ',') {
            p++;
        }
    }

    if (best == 0) {
        return NGX_DECLINED;
    }

    version->data = versions[best - 1];
    version->len = 3;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_random(u_char *buf, size_t len, ngx_log_t *log)
{
    ssize_t  n;

#if (NGX_HTTP_CWMP_HAVE_GETRANDOM)

    n = getrandom(buf, len, GRND_NONBLOCK);

    if (n != (ssize_t) len) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno, "getrandom() failed");
        return NGX_ERROR;
    }

#else

    n = read(ngx_http_cwmp_urandom, buf, len);

    if (n != (ssize_t) len) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "read(\"/dev/urandom\") failed");
        return NGX_ERROR;
    }

#endif

    return NGX_OK;
}


/* "urn:dslforum-org:cwmp-1-N" gives "1.N" */

ngx_int_t
ngx_http_cwmp_version_of_ns(ngx_pool_t *pool, ngx_str_t *ns,
    ngx_str_t *version)
{
    size_t  prefix;

    prefix = sizeof("urn:dslforum-org:cwmp-1-") - 1;

    if (ns->len <= prefix || ns->len > prefix + 2
        || ngx_strncmp(ns->data, "urn:dslforum-org:cwmp-1-", prefix) != 0
        || ngx_atoi(ns->data + prefix, ns->len - prefix) == NGX_ERROR)
    {
        return NGX_DECLINED;
    }

    version->len = ns->len - prefix + 2;
    version->data = ngx_pnalloc(pool, version->len);
    if (version->data == NULL) {
        return NGX_ERROR;
    }

    version->data[0] = '1';
    version->data[1] = '.';
    ngx_memcpy(version->data + 2, ns->data + prefix, ns->len - prefix);

    return NGX_OK;
}


/*
 * HMAC-SHA1 (RFC 2104) of the concatenated parts, into mac[20]: the
 * signature of UDP connection requests and STUN's MESSAGE-INTEGRITY.
 */

void
ngx_http_cwmp_hmac_sha1(ngx_str_t *key, ngx_str_t *parts,
    ngx_uint_t n, u_char *mac)
{
    u_char      k[64], pad[64];
    ngx_uint_t  i;
    ngx_sha1_t  sha1;

    ngx_memzero(k, sizeof(k));

    if (key->len > sizeof(k)) {
        ngx_sha1_init(&sha1);
        ngx_sha1_update(&sha1, key->data, key->len);
        ngx_sha1_final(k, &sha1);

    } else {
        ngx_memcpy(k, key->data, key->len);
    }

    for (i = 0; i < sizeof(k); i++) {
        pad[i] = k[i] ^ 0x36;
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, pad, sizeof(pad));

    for (i = 0; i < n; i++) {
        ngx_sha1_update(&sha1, parts[i].data, parts[i].len);
    }

    ngx_sha1_final(mac, &sha1);

    for (i = 0; i < sizeof(k); i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, pad, sizeof(pad));
    ngx_sha1_update(&sha1, mac, 20);
    ngx_sha1_final(mac, &sha1);
}


/*
 * The first line of a file (at most 255 bytes), resolved against the
 * configuration's prefix: a password that stays out of nginx.conf and
 * its logs
 */

ngx_int_t
ngx_http_cwmp_conf_password(ngx_conf_t *cf, ngx_str_t *file,
    ngx_str_t *password)
{
    u_char    *p;
    ssize_t    n;
    ngx_fd_t   fd;

    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    password->data = ngx_pnalloc(cf->pool, 256);
    if (password->data == NULL) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", file);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, password->data, 256);
    (void) ngx_close_file(fd);

    if (n <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" holds no password",
                           file);
        return NGX_ERROR;
    }

    p = ngx_strlchr(password->data, password->data + n, LF);
    password->len = (p ? p : password->data + n) - password->data;

    return NGX_OK;
}

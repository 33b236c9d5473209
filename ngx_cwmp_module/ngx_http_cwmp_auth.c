
/*
 * Copyright (C) ngx_cwmp authors
 *
 * CPE authentication, the logic without I/O (the handler asks Redis for a
 * device's credentials through the store).
 *
 * Nonces are stateless, so that any worker of any host verifies them:
 * <12 hex digits: milliseconds since the epoch><8 random hex digits><32 hex
 * digits: HMAC-SHA1(secret, time random ":" client address)>.  A nonce is
 * bound to the address it was issued to and expires; its nc values are
 * checked in Redis.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_md5.h>

#if (NGX_OPENSSL)
#include <openssl/sha.h>
#include <openssl/x509.h>
#endif

#include "ngx_http_cwmp_auth.h"
#include "ngx_http_cwmp_util.h"


#define NGX_HTTP_CWMP_AUTH_MAX_HEADER  4096


static ngx_int_t ngx_http_cwmp_auth_digest_parse(ngx_pool_t *pool,
    u_char *start, u_char *end, ngx_http_cwmp_auth_t *auth);
static ngx_int_t ngx_http_cwmp_auth_basic_parse(ngx_pool_t *pool,
    u_char *start, u_char *end, ngx_http_cwmp_auth_t *auth);
static ngx_int_t ngx_http_cwmp_auth_check(ngx_pool_t *pool,
    ngx_http_cwmp_auth_t *auth, ngx_str_t *realm, ngx_str_t *method,
    ngx_str_t *secret, ngx_uint_t is_ha1);
static ngx_int_t ngx_http_cwmp_auth_equal(u_char *a, u_char *b, size_t len);
static ngx_int_t ngx_http_cwmp_auth_same(ngx_str_t *a, ngx_str_t *b);
static void ngx_http_cwmp_auth_mac(ngx_str_t *secret, u_char *stamp,
    ngx_str_t *addr, u_char *hex);


/*
 * "Digest username=..., ..." or "Basic <base64>": NGX_OK, or NGX_DECLINED
 * for anything malformed, unknown or weaker than qop=auth
 */

ngx_int_t
ngx_http_cwmp_auth_parse(ngx_pool_t *pool, ngx_str_t *header,
    ngx_http_cwmp_auth_t *auth)
{
    u_char  *p, *end;

    ngx_memzero(auth, sizeof(ngx_http_cwmp_auth_t));

    if (header->len > NGX_HTTP_CWMP_AUTH_MAX_HEADER) {
        return NGX_DECLINED;
    }

    p = header->data;
    end = p + header->len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (end - p > 7 && ngx_strncasecmp(p, (u_char *) "Digest ", 7) == 0) {
        return ngx_http_cwmp_auth_digest_parse(pool, p + 7, end, auth);
    }

    if (end - p > 6 && ngx_strncasecmp(p, (u_char *) "Basic ", 6) == 0) {
        auth->basic = 1;
        return ngx_http_cwmp_auth_basic_parse(pool, p + 6, end, auth);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_cwmp_auth_digest_parse(ngx_pool_t *pool, u_char *start,
    u_char *end, ngx_http_cwmp_auth_t *auth)
{
    ngx_str_t    userhash;
    ngx_uint_t   i;

    static struct {
        char      *name;
        size_t     offset;
    } fields[] = {
        { "username", offsetof(ngx_http_cwmp_auth_t, username) },
        { "realm", offsetof(ngx_http_cwmp_auth_t, realm) },
        { "nonce", offsetof(ngx_http_cwmp_auth_t, nonce) },
        { "uri", offsetof(ngx_http_cwmp_auth_t, uri) },
        { "response", offsetof(ngx_http_cwmp_auth_t, response) },
        { "qop", offsetof(ngx_http_cwmp_auth_t, qop) },
        { "nc", offsetof(ngx_http_cwmp_auth_t, nc) },
        { "cnonce", offsetof(ngx_http_cwmp_auth_t, cnonce) },
    };

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (ngx_http_cwmp_auth_param(pool, start, end, fields[i].name,
                                     (ngx_str_t *) ((u_char *) auth
                                                    + fields[i].offset))
            != NGX_OK)
        {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_cwmp_auth_param(pool, start, end, "userhash", &userhash)
        == NGX_OK
        && !(userhash.len == 5
             && ngx_strncasecmp(userhash.data, (u_char *) "false", 5) == 0))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_cwmp_auth_algorithm(pool, start, end, &auth->sha256)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* qop=auth only: RFC 2069's digest has no nc, nothing stops replays */

    if (auth->qop.len != 4
        || ngx_strncasecmp(auth->qop.data, (u_char *) "auth", 4) != 0
        || auth->nc.len != 8
        || ngx_hextoi(auth->nc.data, 8) == NGX_ERROR
        || auth->cnonce.len == 0
        || auth->response.len != (auth->sha256 ? 64 : 32)
        || auth->username.len == 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_auth_basic_parse(ngx_pool_t *pool, u_char *start, u_char *end,
    ngx_http_cwmp_auth_t *auth)
{
    u_char     *colon;
    ngx_str_t   in, out;

    while (start < end && *start == ' ') {
        start++;
    }

    while (end > start && end[-1] == ' ') {
        end--;
    }

    in.data = start;
    in.len = end - start;

    out.data = ngx_pnalloc(pool, ngx_base64_decoded_length(in.len));
    if (out.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_decode_base64(&out, &in) != NGX_OK) {
        return NGX_DECLINED;
    }

    colon = ngx_strlchr(out.data, out.data + out.len, ':');

    if (colon == NULL || colon == out.data) {
        return NGX_DECLINED;
    }

    auth->username.data = out.data;
    auth->username.len = colon - out.data;
    auth->password.data = colon + 1;
    auth->password.len = out.data + out.len - (colon + 1);

    return NGX_OK;
}


/*
 * The algorithm parameter of a challenge or of credentials: MD5 (or none)
 * and SHA-256 (with OpenSSL) are NGX_OK, anything else NGX_DECLINED
 */

ngx_int_t
ngx_http_cwmp_auth_algorithm(ngx_pool_t *pool, u_char *start, u_char *end,
    ngx_uint_t *sha256)
{
    ngx_str_t  algorithm;

    *sha256 = 0;

    if (ngx_http_cwmp_auth_param(pool, start, end, "algorithm", &algorithm)
        != NGX_OK)
    {
        return NGX_OK;
    }

    if (algorithm.len == 7
        && ngx_strncasecmp(algorithm.data, (u_char *) "SHA-256", 7) == 0)
    {
#if (NGX_OPENSSL)
        *sha256 = 1;
        return NGX_OK;
#else
        return NGX_DECLINED;
#endif
    }

    if (algorithm.len == 3
        && ngx_strncasecmp(algorithm.data, (u_char *) "MD5", 3) == 0)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * One parameter of a challenge or of credentials (RFC 7235 auth-param:
 * name = token / quoted-string, comma separated): NGX_OK with its value,
 * unescaped; NGX_DECLINED when absent or the list is malformed.  A name
 * inside a quoted value is never taken for a parameter.
 */

ngx_int_t
ngx_http_cwmp_auth_param(ngx_pool_t *pool, u_char *start, u_char *end,
    char *name, ngx_str_t *value)
{
    u_char      *p, *n, *v, *d;
    size_t       len, nlen;
    ngx_uint_t   escaped;

    nlen = ngx_strlen(name);
    p = start;

    for ( ;; ) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        if (p == end) {
            return NGX_DECLINED;
        }

        n = p;

        while (p < end && *p != '=' && *p != ' ' && *p != '\t'
               && *p != ',' && *p != '"')
        {
            p++;
        }

        len = p - n;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (len == 0 || p == end || *p != '=') {
            return NGX_DECLINED;
        }

        p++;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        escaped = 0;

        if (p < end && *p == '"') {
            v = ++p;

            while (p < end && *p != '"') {
                if (*p == '\\') {
                    escaped = 1;
                    p++;
                }

                p++;
            }

            if (p >= end) {
                return NGX_DECLINED;
            }

            value->data = v;
            value->len = p - v;
            p++;

        } else {
            v = p;

            while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
                p++;
            }

            value->data = v;
            value->len = p - v;
        }

        if (len != nlen || ngx_strncasecmp(n, (u_char *) name, len) != 0) {
            continue;
        }

        if (!escaped) {
            return NGX_OK;
        }

        d = ngx_pnalloc(pool, value->len);
        if (d == NULL) {
            return NGX_ERROR;
        }

        v = value->data;
        value->data = d;

        for (p = v; p < v + value->len; p++) {
            if (*p == '\\') {
                p++;
            }

            *d++ = *p;
        }

        value->len = d - value->data;

        return NGX_OK;
    }
}


void
ngx_http_cwmp_auth_nonce(ngx_str_t *secret, ngx_str_t *addr, u_char *nonce)
{
    uint64_t     ms;
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    ms = (uint64_t) tp->sec * 1000 + tp->msec;

    /* two CPEs behind one address, challenged in the same ms, differ */

    ngx_sprintf(nonce, "%012uxL%08xD", ms, (uint32_t) ngx_random());
    ngx_http_cwmp_auth_mac(secret, nonce, addr, nonce + 20);
}


/*
 * NGX_OK: issued by an ACS with this secret to this address, in the last
 * "lifetime"; NGX_AGAIN: it was, but expired; NGX_DECLINED: it was not
 * (forged, another address, or a secret that changed with a reload)
 */

ngx_int_t
ngx_http_cwmp_auth_nonce_check(ngx_str_t *secret, ngx_str_t *addr,
    ngx_str_t *nonce, ngx_msec_t lifetime)
{
    u_char      mac[32];
    uint64_t    ms, now;
    ngx_uint_t  i, n;
    ngx_time_t *tp;

    if (nonce->len != NGX_HTTP_CWMP_NONCE_LEN) {
        return NGX_DECLINED;
    }

    ms = 0;

    for (i = 0; i < 20; i++) {
        if (nonce->data[i] >= '0' && nonce->data[i] <= '9') {
            n = nonce->data[i] - '0';

        } else if (nonce->data[i] >= 'a' && nonce->data[i] <= 'f') {
            n = nonce->data[i] - 'a' + 10;

        } else {
            return NGX_DECLINED;
        }

        if (i < 12) {
            ms = ms * 16 + n;
        }
    }

    ngx_http_cwmp_auth_mac(secret, nonce->data, addr, mac);

    if (ngx_http_cwmp_auth_equal(mac, nonce->data + 20, 32) != NGX_OK) {
        return NGX_DECLINED;
    }

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    if (ms > now || now - ms > lifetime) {
        return NGX_AGAIN;
    }

    return NGX_OK;
}


static void
ngx_http_cwmp_auth_mac(ngx_str_t *secret, u_char *stamp, ngx_str_t *addr,
    u_char *hex)
{
    u_char     mac[20];
    ngx_str_t  parts[3];

    parts[0].data = stamp;
    parts[0].len = 20;
    ngx_str_set(&parts[1], ":");
    parts[2] = *addr;

    ngx_http_cwmp_hmac_sha1(secret, parts, 3, mac);

    ngx_hex_dump(hex, mac, 16);
}


/* the hex digest, NUL-terminated: 32 or 64 digits */

void
ngx_http_cwmp_auth_hash(ngx_uint_t sha256, ngx_str_t *in, u_char *hex)
{
    u_char     digest[32];
    ngx_md5_t  md5;

#if (NGX_OPENSSL)
    if (sha256) {
        SHA256(in->data, in->len, digest);
        *ngx_hex_dump(hex, digest, 32) = '\0';
        return;
    }
#endif

    ngx_md5_init(&md5);
    ngx_md5_update(&md5, in->data, in->len);
    ngx_md5_final(digest, &md5);

    *ngx_hex_dump(hex, digest, 16) = '\0';
}


/* H(username:realm:password) */

ngx_int_t
ngx_http_cwmp_auth_ha1(ngx_pool_t *pool, ngx_uint_t sha256,
    ngx_str_t *username, ngx_str_t *realm, ngx_str_t *password, u_char *hex)
{
    ngx_str_t  s;

    s.data = ngx_pnalloc(pool, username->len + realm->len + password->len
                               + 2);
    if (s.data == NULL) {
        return NGX_ERROR;
    }

    s.len = ngx_sprintf(s.data, "%V:%V:%V", username, realm, password)
            - s.data;

    ngx_http_cwmp_auth_hash(sha256, &s, hex);

    return NGX_OK;
}


/* H(ha1:nonce:nc:cnonce:auth:H(method:uri)), qop=auth */

ngx_int_t
ngx_http_cwmp_auth_digest(ngx_pool_t *pool, ngx_uint_t sha256, ngx_str_t *ha1,
    ngx_str_t *method, ngx_str_t *uri, ngx_str_t *nonce, ngx_str_t *nc,
    ngx_str_t *cnonce, u_char *hex)
{
    u_char     ha2[NGX_HTTP_CWMP_HASH_LEN];
    ngx_str_t  s;

    s.data = ngx_pnalloc(pool, method->len + uri->len + ha1->len + nonce->len
                               + nc->len + cnonce->len + 64 + 16);
    if (s.data == NULL) {
        return NGX_ERROR;
    }

    s.len = ngx_sprintf(s.data, "%V:%V", method, uri) - s.data;
    ngx_http_cwmp_auth_hash(sha256, &s, ha2);

    s.len = ngx_sprintf(s.data, "%V:%V:%V:%V:auth:%s", ha1, nonce, nc, cnonce,
                        ha2)
            - s.data;
    ngx_http_cwmp_auth_hash(sha256, &s, hex);

    return NGX_OK;
}


/*
 * The credentials against what the device may hold: its password, the HA1
 * a provisioning system stored instead, the password a policy is setting
 * on it, the one it had before; without any of them, the bootstrap
 * secret.  NGX_OK, NGX_DECLINED (wrong), NGX_DONE (no credential for the
 * device), NGX_ERROR.
 */

ngx_int_t
ngx_http_cwmp_auth_verify(ngx_pool_t *pool, ngx_http_cwmp_auth_t *auth,
    ngx_str_t *realm, ngx_str_t *method, ngx_http_cwmp_auth_creds_t *creds,
    ngx_str_t *bootstrap)
{
    ngx_int_t   rc;
    ngx_str_t  *ha1, *pw[3];
    ngx_uint_t  i, n;

    if (!auth->basic && !ngx_http_cwmp_auth_same(&auth->realm, realm)) {
        return NGX_DECLINED;
    }

    n = 0;

    if (creds->password.len) {
        pw[n++] = &creds->password;
    }

    if (creds->next_password.len) {
        pw[n++] = &creds->next_password;
    }

    if (creds->previous_password.len) {
        pw[n++] = &creds->previous_password;
    }

    ha1 = auth->sha256 ? &creds->ha1_sha256 : &creds->ha1_md5;

    if (n == 0 && creds->ha1_md5.len == 0 && creds->ha1_sha256.len == 0) {

        if (bootstrap->len == 0) {
            return NGX_DONE;
        }

        pw[n++] = bootstrap;
    }

    /* every candidate is tried: the time taken tells nothing */

    rc = NGX_DECLINED;

    for (i = 0; i < n; i++) {
        switch (ngx_http_cwmp_auth_check(pool, auth, realm, method, pw[i],
                                         0))
        {
        case NGX_OK:
            rc = NGX_OK;
            break;

        case NGX_ERROR:
            return NGX_ERROR;
        }
    }

    if (ha1->len) {
        switch (ngx_http_cwmp_auth_check(pool, auth, realm, method, ha1, 1)) {
        case NGX_OK:
            rc = NGX_OK;
            break;

        case NGX_ERROR:
            return NGX_ERROR;
        }
    }

    return rc;
}


static ngx_int_t
ngx_http_cwmp_auth_check(ngx_pool_t *pool, ngx_http_cwmp_auth_t *auth,
    ngx_str_t *realm, ngx_str_t *method, ngx_str_t *secret, ngx_uint_t is_ha1)
{
    u_char     ha1[NGX_HTTP_CWMP_HASH_LEN], resp[NGX_HTTP_CWMP_HASH_LEN];
    ngx_str_t  h;

    if (auth->basic && !is_ha1) {
        return ngx_http_cwmp_auth_same(&auth->password, secret)
               ? NGX_OK : NGX_DECLINED;
    }

    if (is_ha1) {
        h = *secret;

        if (auth->basic) {
            /* Basic against a stored HA1: the HA1 of what was sent */

            if (ngx_http_cwmp_auth_ha1(pool, h.len == 64, &auth->username,
                                       realm, &auth->password, ha1)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            return (h.len == 32 || h.len == 64)
                   && ngx_http_cwmp_auth_equal(ha1, h.data, h.len) == NGX_OK
                   ? NGX_OK : NGX_DECLINED;
        }

    } else {
        if (ngx_http_cwmp_auth_ha1(pool, auth->sha256, &auth->username,
                                   realm, secret, ha1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        h.data = ha1;
        h.len = auth->sha256 ? 64 : 32;
    }

    if (h.len != auth->response.len) {
        return NGX_DECLINED;
    }

    if (ngx_http_cwmp_auth_digest(pool, auth->sha256, &h, method, &auth->uri,
                                  &auth->nonce, &auth->nc, &auth->cnonce,
                                  resp)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* hex digits in either case */

    ngx_strlow(ha1, auth->response.data, h.len);

    return ngx_http_cwmp_auth_equal(resp, ha1, h.len);
}


/* two secrets of any length, compared in a time that tells nothing */

static ngx_int_t
ngx_http_cwmp_auth_same(ngx_str_t *a, ngx_str_t *b)
{
    u_char     ha[NGX_HTTP_CWMP_HASH_LEN], hb[NGX_HTTP_CWMP_HASH_LEN];

    ngx_http_cwmp_auth_hash(0, a, ha);
    ngx_http_cwmp_auth_hash(0, b, hb);

    return ngx_http_cwmp_auth_equal(ha, hb, 32) == NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_auth_equal(u_char *a, u_char *b, size_t len)
{
    u_char  d;
    size_t  i;

    d = 0;

    for (i = 0; i < len; i++) {
        d |= a[i] ^ b[i];
    }

    return d == 0 ? NGX_OK : NGX_DECLINED;
}


/*
 * The digest's uri names this request: its request-target as sent, or
 * the absolute form of it some CPEs send
 */

ngx_int_t
ngx_http_cwmp_auth_uri(ngx_str_t *uri, ngx_str_t *request_uri)
{
    u_char  *p, *end;

    if (uri->len == request_uri->len
        && ngx_strncmp(uri->data, request_uri->data, uri->len) == 0)
    {
        return NGX_OK;
    }

    end = uri->data + uri->len;
    p = ngx_strlcasestrn(uri->data, end, (u_char *) "://", 3 - 1);

    if (p == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_strlchr(p + 3, end, '/');

    if (p == NULL || (size_t) (end - p) != request_uri->len
        || ngx_strncmp(p, request_uri->data, request_uri->len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The nonce secret: cwmp_auth_secret_file's first line (the same on every
 * host behind a load balancer), else 32 random bytes drawn at start and
 * at each reload, shared by the workers of this host
 */

ngx_int_t
ngx_http_cwmp_auth_secret(ngx_conf_t *cf, ngx_str_t *file, ngx_str_t *secret)
{
    u_char      *p;
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_str_t    name;

    secret->data = ngx_pnalloc(cf->pool, 256);
    if (secret->data == NULL) {
        return NGX_ERROR;
    }

    if (file->len) {
        name = *file;

    } else {
        ngx_str_set(&name, "/dev/urandom");
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, secret->data, file->len ? 256 : 32);

    (void) ngx_close_file(fd);

    if (n <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &name);
        return NGX_ERROR;
    }

    secret->len = n;

    if (file->len) {
        p = ngx_strlchr(secret->data, secret->data + n, LF);

        if (p) {
            secret->len = p - secret->data;
        }

        if (secret->len < 16) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" holds a secret of %uz bytes, at "
                               "least 16 expected", &name, secret->len);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


#if (NGX_HTTP_SSL)

/*
 * The subject CN of the client certificate nginx verified (ssl_verify_client
 * on or optional, against ssl_client_certificate): NGX_OK, or NGX_DECLINED
 * when there is none or it did not verify
 */

ngx_int_t
ngx_http_cwmp_auth_cert(ngx_connection_t *c, ngx_pool_t *pool,
    ngx_str_t *cn)
{
    int              i;
    X509            *cert;
    X509_NAME       *name;
    ngx_int_t        rc;
    ASN1_STRING     *s;
    X509_NAME_ENTRY *e;

    if (c->ssl == NULL
        || SSL_get_verify_result(c->ssl->connection) != X509_V_OK)
    {
        return NGX_DECLINED;
    }

    cert = SSL_get_peer_certificate(c->ssl->connection);
    if (cert == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;
    name = X509_get_subject_name(cert);
    i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;

    if (i >= 0) {
        e = X509_NAME_get_entry(name, i);
        s = e ? X509_NAME_ENTRY_get_data(e) : NULL;

        if (s && ASN1_STRING_length(s) > 0
            && ASN1_STRING_length(s) <= NGX_HTTP_CWMP_MAX_ID)
        {
            cn->len = ASN1_STRING_length(s);
            cn->data = ngx_pnalloc(pool, cn->len);

            if (cn->data == NULL) {
                rc = NGX_ERROR;

            } else {
                ngx_memcpy(cn->data, ASN1_STRING_get0_data(s), cn->len);
                rc = NGX_OK;
            }
        }
    }

    X509_free(cert);

    return rc;
}

#endif

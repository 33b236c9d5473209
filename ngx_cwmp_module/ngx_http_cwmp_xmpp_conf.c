
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The XMPP client's configuration (ngx_http_cwmp_xmpp.c): the server, the
 * ACS's JID and password, TLS, and the domains CPE JIDs may be in; and the
 * check of a JID a CPE reported.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_xmpp.h"
#include "ngx_http_cwmp_util.h"


/* cwmp_xmpp <host:port> jid=<user@domain> password_file=<file>
 *     [tls=starttls|direct|off] [trusted=<CA file>] [resource=<name>]
 *     [timeout=<time>] [keepalive=<time>] */

char *
ngx_http_cwmp_xmpp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_xmpp_conf_t  **xp;

    u_char                      *p;
    ngx_str_t                   *value, v, file, trusted;
    ngx_url_t                    u;
    ngx_uint_t                   i, tls_set;
    ngx_http_cwmp_xmpp_conf_t   *xc;
#if (NGX_SSL)
    ngx_pool_cleanup_t          *cln;
#endif

    xp = (ngx_http_cwmp_xmpp_conf_t **) ((char *) conf + cmd->offset);
    tls_set = 0;
    ngx_str_null(&trusted);

    if (*xp && (*xp)->server) {
        return "is duplicate";
    }

    if (*xp == NULL) {
        *xp = ngx_pcalloc(cf->pool, sizeof(ngx_http_cwmp_xmpp_conf_t));
        if (*xp == NULL
            || ngx_array_init(&(*xp)->allow, cf->pool, 2, sizeof(ngx_str_t))
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    xc = *xp;
    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 5222;

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_strcmp(value[i].data, "tls=direct") == 0) {
            u.default_port = 5223;
        }
    }

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid XMPP server \"%V\"%s%s", &value[1],
                           u.err ? ": " : "", u.err ? u.err : "");
        return NGX_CONF_ERROR;
    }

    xc->server = &u.addrs[0];
    xc->timeout = 10000;
    xc->keepalive = 60000;
    ngx_str_set(&xc->resource, "cwmp");
    ngx_str_null(&file);

    for (i = 2; i < cf->args->nelts; i++) {
        v = value[i];

        if (ngx_strncmp(v.data, "jid=", 4) == 0) {
            p = ngx_strlchr(v.data + 4, v.data + v.len, '@');
            if (p == NULL || p == v.data + 4 || p + 1 == v.data + v.len) {
                goto invalid;
            }

            xc->user.data = v.data + 4;
            xc->user.len = p - v.data - 4;
            xc->domain.data = p + 1;
            xc->domain.len = v.data + v.len - p - 1;

        } else if (ngx_strncmp(v.data, "password_file=", 14) == 0) {
            file.data = v.data + 14;
            file.len = v.len - 14;

        } else if (ngx_strncmp(v.data, "resource=", 9) == 0
                   && v.len > 9 && v.len < 64)
        {
            xc->resource.data = v.data + 9;
            xc->resource.len = v.len - 9;

        } else if (ngx_strncmp(v.data, "timeout=", 8) == 0) {
            v.data += 8;
            v.len -= 8;
            xc->timeout = ngx_parse_time(&v, 0);
            if (xc->timeout == (ngx_msec_t) NGX_ERROR) {
                goto invalid;
            }

        } else if (ngx_strcmp(v.data, "tls=off") == 0) {
            xc->tls = NGX_HTTP_CWMP_XMPP_TLS_NONE;
            tls_set = 1;

        } else if (ngx_strcmp(v.data, "tls=starttls") == 0) {
            xc->tls = NGX_HTTP_CWMP_XMPP_TLS_START;
            tls_set = 1;

        } else if (ngx_strcmp(v.data, "tls=direct") == 0) {
            xc->tls = NGX_HTTP_CWMP_XMPP_TLS_DIRECT;
            tls_set = 1;

        } else if (ngx_strncmp(v.data, "trusted=", 8) == 0) {
            trusted.data = v.data + 8;
            trusted.len = v.len - 8;

        } else if (ngx_strncmp(v.data, "keepalive=", 10) == 0) {
            v.data += 10;
            v.len -= 10;
            xc->keepalive = ngx_parse_time(&v, 0);
            if (xc->keepalive == (ngx_msec_t) NGX_ERROR) {
                goto invalid;
            }

        } else {
            goto invalid;
        }
    }

    if (xc->user.len == 0 || file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_xmpp\" needs jid=<user@domain> and "
                           "password_file=<file>");
        return NGX_CONF_ERROR;
    }

    /* TLS unless told off: STARTTLS, the server verified */

    if (!tls_set) {
        xc->tls = NGX_HTTP_CWMP_XMPP_TLS_START;
    }

    if (xc->tls) {
#if (NGX_SSL)
        if (trusted.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"cwmp_xmpp\" with TLS needs trusted=<CA "
                               "file> to verify the server (or tls=off for "
                               "a server on the ACS's own network)");
            return NGX_CONF_ERROR;
        }

        xc->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
        if (xc->ssl == NULL) {
            return NGX_CONF_ERROR;
        }

        xc->ssl->log = cf->log;

        if (ngx_ssl_create(xc->ssl, NGX_SSL_TLSv1_2 | NGX_SSL_TLSv1_3, NULL)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            ngx_ssl_cleanup_ctx(xc->ssl);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_ssl_cleanup_ctx;
        cln->data = xc->ssl;

        if (ngx_ssl_trusted_certificate(cf, xc->ssl, &trusted, 4) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
#else
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_xmpp\": nginx is built without SSL: "
                           "tls=off only");
        return NGX_CONF_ERROR;
#endif
    }

    /* the password: the file's first line, never in the configuration */

    if (ngx_http_cwmp_conf_password(cf, &file, &xc->password) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"cwmp_xmpp\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* cwmp_xmpp_allow <domain> ...: the domains CPE JIDs may be in */

char *
ngx_http_cwmp_xmpp_allow(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_xmpp_conf_t  **xp;

    ngx_str_t   *value, *d;
    ngx_uint_t   i;

    xp = (ngx_http_cwmp_xmpp_conf_t **) ((char *) conf + cmd->offset);

    if (*xp == NULL) {
        *xp = ngx_pcalloc(cf->pool, sizeof(ngx_http_cwmp_xmpp_conf_t));
        if (*xp == NULL
            || ngx_array_init(&(*xp)->allow, cf->pool, 2, sizeof(ngx_str_t))
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        d = ngx_array_push(&(*xp)->allow);
        if (d == NULL) {
            return NGX_CONF_ERROR;
        }

        *d = value[i];
        ngx_strlow(d->data, d->data, d->len);
    }

    return NGX_CONF_OK;
}


/*
 * user@domain/resource: each part present, at most 1023 bytes in all as
 * RFC 7622 says (here NGX_HTTP_CWMP_XMPP_JID_MAX), no space, quote or
 * angle bracket, and the domain one of cwmp_xmpp_allow's
 */

char *
ngx_http_cwmp_xmpp_jid_refused(ngx_http_cwmp_xmpp_conf_t *conf,
    ngx_str_t *jid)
{
    u_char      *at, *slash, *d;
    size_t       dlen;
    ngx_str_t   *allow;
    ngx_uint_t   i;

    if (jid->len == 0 || jid->len >= NGX_HTTP_CWMP_XMPP_JID_MAX) {
        return "ConnReqJabberID is empty or too long";
    }

    for (i = 0; i < jid->len; i++) {
        if (jid->data[i] <= ' ' || jid->data[i] == '"' || jid->data[i] == '\''
            || jid->data[i] == '<' || jid->data[i] == '>'
            || jid->data[i] == '&' || jid->data[i] == 0x7f)
        {
            return "ConnReqJabberID is not a JID";
        }
    }

    at = ngx_strlchr(jid->data, jid->data + jid->len, '@');
    slash = at ? ngx_strlchr(at, jid->data + jid->len, '/') : NULL;

    if (at == NULL || at == jid->data || slash == NULL || slash == at + 1
        || slash + 1 == jid->data + jid->len)
    {
        return "ConnReqJabberID is not a full JID (user@domain/resource)";
    }

    d = at + 1;
    dlen = slash - d;
    allow = conf->allow.elts;

    for (i = 0; i < conf->allow.nelts; i++) {
        if (allow[i].len == dlen && ngx_strncasecmp(allow[i].data, d, dlen)
                                    == 0)
        {
            return NULL;
        }
    }

    return "ConnReqJabberID is in a domain cwmp_xmpp_allow does not name";
}

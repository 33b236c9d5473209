
/*
 * Copyright (C) ngx_cwmp authors
 *
 * CPE authentication of a request.  A request outside a session is
 * checked before its body is read as far as it can be; an Inform is
 * authenticated by its connection (TR-069 3.4.4: once per connection), a
 * verified client certificate, or Digest / Basic credentials checked
 * against what Redis holds for the device (auth.lua: limits, nonce count,
 * credentials; nginx verifies: Redis's Lua has no MD5).  The identity
 * claimed must be the Inform's device.  Refusals are 401 with the
 * challenges the location offers, 403 (another device's identity, no
 * credentials anywhere), 429 (too many failures); one log line each.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_access.h"
#include "ngx_http_cwmp_conn.h"
#include "ngx_http_cwmp_response.h"


static void ngx_http_cwmp_access_checked(void *data, ngx_int_t rc);
static void ngx_http_cwmp_access_failed(void *data, ngx_int_t rc);
static void ngx_http_cwmp_access_granted(ngx_http_cwmp_access_t *a);
static ngx_int_t ngx_http_cwmp_access_ask(ngx_http_cwmp_access_t *a,
    ngx_http_cwmp_store_handler_pt handler);
static ngx_int_t ngx_http_cwmp_access_is(ngx_http_cwmp_access_t *a,
    ngx_uint_t mode, ngx_str_t *name);
static ngx_uint_t ngx_http_cwmp_access_offered(
    ngx_http_cwmp_loc_conf_t *lcf, ngx_http_cwmp_auth_t *auth);
static ngx_int_t ngx_http_cwmp_access_refuse(ngx_http_request_t *r,
    ngx_uint_t stale, ngx_uint_t status, char *reason);


/*
 * A connection authenticates once (TR-069 3.4.4): later Informs on it of
 * the same device need no credentials; the session cookie binds the
 * requests of a session to the device that authenticated.
 */

ngx_int_t
ngx_http_cwmp_access_inform(ngx_http_request_t *r,
    ngx_http_cwmp_access_t *a, ngx_http_cwmp_msg_t *msg, ngx_str_t *claimed,
    ngx_http_cwmp_access_pt granted)
{
    ngx_int_t                    rc;
    ngx_uint_t                   tls;
    ngx_table_elt_t             *h;
    ngx_http_cwmp_loc_conf_t    *lcf;
    ngx_http_cwmp_main_conf_t   *mcf;
    ngx_http_cwmp_store_auth_t  *q;
#if (NGX_HTTP_SSL)
    ngx_str_t                    identity;
#endif

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (lcf->auth == 0) {
        return NGX_DECLINED;
    }

    a->r = r;
    a->msg = msg;
    a->claimed = *claimed;
    a->granted = granted;

    if (ngx_http_cwmp_conn_is_authenticated(r->connection, claimed)
        == NGX_OK)
    {
        return NGX_DECLINED;
    }

    tls = 0;

#if (NGX_HTTP_SSL)

    tls = (r->connection->ssl != NULL);

    if (lcf->auth & NGX_HTTP_CWMP_AUTH_CERT) {
        rc = ngx_http_cwmp_auth_cert(r->connection, r->pool, &identity);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_OK) {
            if (ngx_http_cwmp_access_is(a, lcf->auth_username, &identity)
                != NGX_OK)
            {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "cwmp: client certificate of \"%V\" used for "
                              "an Inform of another device", &identity);
                return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_FORBIDDEN,
                                               "certificate of another "
                                               "device");
            }

            ngx_http_cwmp_access_granted(a);
            return NGX_DECLINED;
        }
    }

#endif

    if (!(lcf->auth & (NGX_HTTP_CWMP_AUTH_DIGEST|NGX_HTTP_CWMP_AUTH_BASIC))) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: no verified client certificate");
        return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_FORBIDDEN,
                                       "a client certificate is required");
    }

    h = r->headers_in.authorization;

    if (h == NULL) {
        return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       "no credentials");
    }

    rc = a->checked ? NGX_OK
                           : ngx_http_cwmp_auth_parse(r->pool, &h->value,
                                                      &a->auth);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       "malformed or unsupported "
                                       "Authorization");
    }

    if (a->auth.basic
        && (!(lcf->auth & NGX_HTTP_CWMP_AUTH_BASIC) || !tls))
    {
        return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       tls ? "Basic is not accepted here"
                                           : "Basic refused without TLS");
    }

    if (!a->auth.basic && !(lcf->auth & NGX_HTTP_CWMP_AUTH_DIGEST)) {
        return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       "Digest is not accepted here");
    }

    if (!a->auth.basic && !ngx_http_cwmp_access_offered(lcf, &a->auth)) {
        return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       "a Digest algorithm not offered here");
    }

    /* the identity claimed must be the Inform's */

    if (ngx_http_cwmp_access_is(a, lcf->auth_username, &a->auth.username)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cwmp: credentials of \"%V\" used for an Inform of "
                      "another device", &a->auth.username);
        return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_FORBIDDEN,
                                       "credentials of another device");
    }

    q = &a->store;
    q->device_id = a->claimed;
    q->addr = r->connection->addr_text;
    q->limit_device = mcf->auth_limit_device;
    q->limit_addr = mcf->auth_limit_addr;
    q->window = mcf->auth_window;
    q->nonce_timeout = mcf->auth_nonce_timeout;

    if (!a->auth.basic) {
        if (ngx_http_cwmp_auth_uri(&a->auth.uri, &r->unparsed_uri)
            != NGX_OK)
        {
            return ngx_http_cwmp_access_refuse(r, 0, NGX_HTTP_BAD_REQUEST,
                                           "digest uri is not the "
                                           "request's");
        }

        rc = a->checked
             ? NGX_OK
             : ngx_http_cwmp_auth_nonce_check(&mcf->auth_secret,
                                              &r->connection->addr_text,
                                              &a->auth.nonce,
                                              mcf->auth_nonce_timeout);
        if (rc != NGX_OK) {
            return ngx_http_cwmp_access_refuse(r, 1, NGX_HTTP_UNAUTHORIZED,
                                           rc == NGX_AGAIN
                                           ? "nonce expired"
                                           : "nonce not issued to this "
                                             "address (or before a "
                                             "restart)");
        }

        q->nonce = a->auth.nonce;
        q->nc = a->auth.nc;
    }

    return ngx_http_cwmp_response_store(r,
               ngx_http_cwmp_access_ask(a, ngx_http_cwmp_access_checked));
}


/* what Redis said of the device: verified here (Redis has no MD5) */

static void
ngx_http_cwmp_access_checked(void *data, ngx_int_t rc)
{
    ngx_http_cwmp_access_t *a = data;

    ngx_str_t                    value;
    ngx_http_request_t          *r;
    ngx_http_cwmp_loc_conf_t    *lcf;
    ngx_http_cwmp_store_auth_t  *q;

    r = a->r;
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    q = &a->store;

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_response_unavailable(r));
        return;
    }

    /* the address over its limit (its own slot's answer) limits too */

    if (q->address_retry && q->status != NGX_HTTP_CWMP_AUTH_FAILED) {
        if (q->status != NGX_HTTP_CWMP_AUTH_LIMITED
            || q->retry < q->address_retry)
        {
            q->retry = q->address_retry;
        }

        q->status = NGX_HTTP_CWMP_AUTH_LIMITED;
    }

    if (q->status == NGX_HTTP_CWMP_AUTH_LIMITED) {
        value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (value.data == NULL) {
            ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        value.len = ngx_sprintf(value.data, "%M", (q->retry + 999) / 1000)
                    - value.data;

        if (ngx_http_cwmp_response_header(r, "Retry-After", &value)
            != NGX_OK)
        {
            ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_cwmp_finalize(r, ngx_http_cwmp_access_refuse(r, 0,
                                  NGX_HTTP_TOO_MANY_REQUESTS,
                                  "too many failed attempts of the device "
                                  "or its address"));
        return;
    }

    if (q->status == NGX_HTTP_CWMP_AUTH_REPLAY) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_access_refuse(r, 1,
                                  NGX_HTTP_UNAUTHORIZED,
                                  "nonce count or nonce replayed"));
        return;
    }

    ngx_str_set(&value, "POST");

    rc = ngx_http_cwmp_auth_verify(r->pool, &a->auth, &lcf->auth_realm,
                                   &value, &q->creds, &lcf->auth_bootstrap);

    if (rc == NGX_ERROR) {
        ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc == NGX_DONE) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_access_refuse(r, 0,
                                  NGX_HTTP_FORBIDDEN,
                                  "no credentials for the device in Redis "
                                  "and no cwmp_auth_bootstrap"));
        return;
    }

    if (rc != NGX_OK) {
        /* counted against the device and the address, then challenged */

        q->fail = 1;

        if (ngx_http_cwmp_access_ask(a, ngx_http_cwmp_access_failed)
            != NGX_DONE)
        {
            ngx_http_cwmp_access_failed(a, NGX_ERROR);
        }

        return;
    }

    ngx_http_cwmp_access_granted(a);

    rc = a->granted(r);

    if (rc != NGX_DONE) {
        ngx_http_cwmp_finalize(r, rc);
    }
}


static void
ngx_http_cwmp_access_failed(void *data, ngx_int_t rc)
{
    ngx_http_cwmp_access_t *a = data;

    ngx_http_cwmp_finalize(a->r, ngx_http_cwmp_access_refuse(a->r, 0,
                                NGX_HTTP_UNAUTHORIZED, "wrong credentials"));
}


/* auth.lua, for the Inform's device: its credentials, or a failure */

static ngx_int_t
ngx_http_cwmp_access_ask(ngx_http_cwmp_access_t *a,
    ngx_http_cwmp_store_handler_pt handler)
{
    ngx_http_cwmp_main_conf_t    *mcf;
    ngx_http_cwmp_store_owner_t   owner;

    mcf = ngx_http_get_module_main_conf(a->r, ngx_http_cwmp_module);

    owner.pool = a->r->pool;
    owner.log = a->r->connection->log;
    owner.data = a;

    return ngx_http_cwmp_store_auth(&mcf->store, &owner, &a->store, handler);
}


/* the connection is the device's: later Informs on it need nothing more */

static void
ngx_http_cwmp_access_granted(ngx_http_cwmp_access_t *a)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, a->r->connection->log, 0,
                   "cwmp: authenticated as \"%V\"", &a->claimed);

    ngx_http_cwmp_conn_authenticated(a->r->connection, &a->claimed);
}


/*
 * A request outside a session (no cookie, nothing on its connection) is
 * checked before its body is read, as far as that can be done without
 * the body: nothing to authenticate with (an empty POST too: HTTP clients
 * probe with one), credentials that do not parse, a nonce this ACS did not
 * issue to this address or that expired.  NGX_DECLINED: read the body
 * (what was parsed is kept in a); anything else: answered (the body
 * discarded).
 */

ngx_int_t
ngx_http_cwmp_access_early(ngx_http_request_t *r, ngx_http_cwmp_access_t *a)
{
    char                       *reason;
    ngx_int_t                   rc;
    ngx_uint_t                  stale;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (!(lcf->auth & (NGX_HTTP_CWMP_AUTH_DIGEST|NGX_HTTP_CWMP_AUTH_BASIC))) {
        return NGX_DECLINED;
    }

#if (NGX_HTTP_SSL)
    if ((lcf->auth & NGX_HTTP_CWMP_AUTH_CERT) && r->connection->ssl) {
        return NGX_DECLINED;
    }
#endif

    if (ngx_http_cwmp_conn_bound(r)) {
        return NGX_DECLINED;
    }

    stale = 0;

    if (r->headers_in.authorization == NULL) {
        reason = "no credentials";

    } else {
        rc = ngx_http_cwmp_auth_parse(r->pool,
                                      &r->headers_in.authorization->value,
                                      &a->auth);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            reason = "malformed or unsupported Authorization";

        } else if (a->auth.basic) {
            a->checked = 1;
            return NGX_DECLINED;

        } else {
            rc = ngx_http_cwmp_auth_nonce_check(&mcf->auth_secret,
                                                &r->connection->addr_text,
                                                &a->auth.nonce,
                                                mcf->auth_nonce_timeout);
            if (rc == NGX_OK) {
                /* the Inform does not parse or check them again */
                a->checked = 1;
                return NGX_DECLINED;
            }

            stale = 1;
            reason = (rc == NGX_AGAIN) ? "nonce expired"
                                       : "nonce not issued to this address "
                                         "(or before a restart)";
        }
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_cwmp_access_refuse(r, stale, NGX_HTTP_UNAUTHORIZED, reason);
}


/*
 * A name (username, certificate CN) is the Inform's device: its device ID
 * (or TR-069's OUI-ProductClass-SerialNumber, unescaped), or its serial
 * number
 */

static ngx_int_t
ngx_http_cwmp_access_is(ngx_http_cwmp_access_t *a, ngx_uint_t mode,
    ngx_str_t *name)
{
    u_char               *p, *last;
    ngx_http_cwmp_msg_t  *msg;

    msg = a->msg;

    if (mode == NGX_HTTP_CWMP_AUTH_ID_SERIAL) {
        return (name->len == msg->serial_number.len
                && ngx_strncmp(name->data, msg->serial_number.data,
                               name->len) == 0)
               ? NGX_OK : NGX_DECLINED;
    }

    if (name->len == a->claimed.len
        && ngx_strncmp(name->data, a->claimed.data, name->len) == 0)
    {
        return NGX_OK;
    }

    p = name->data;
    last = p + name->len;

    if ((size_t) (last - p) <= msg->oui.len
        || ngx_strncmp(p, msg->oui.data, msg->oui.len) != 0
        || p[msg->oui.len] != '-')
    {
        return NGX_DECLINED;
    }

    p += msg->oui.len + 1;

    if (msg->product_class.len) {
        if ((size_t) (last - p) <= msg->product_class.len
            || ngx_strncmp(p, msg->product_class.data,
                           msg->product_class.len) != 0
            || p[msg->product_class.len] != '-')
        {
            return NGX_DECLINED;
        }

        p += msg->product_class.len + 1;
    }

    return ((size_t) (last - p) == msg->serial_number.len
            && ngx_strncmp(p, msg->serial_number.data,
                           msg->serial_number.len) == 0)
           ? NGX_OK : NGX_DECLINED;
}


/* the Digest credentials' algorithm is one the location offers */

static ngx_uint_t
ngx_http_cwmp_access_offered(ngx_http_cwmp_loc_conf_t *lcf,
    ngx_http_cwmp_auth_t *auth)
{
    ngx_uint_t  i, want;

    want = auth->sha256 ? NGX_HTTP_CWMP_DIGEST_SHA256
                        : NGX_HTTP_CWMP_DIGEST_MD5;

    for (i = 0; lcf->auth_algorithms[i]; i++) {
        if (lcf->auth_algorithms[i] == want) {
            return 1;
        }
    }

    return 0;
}


/*
 * 401 with the challenges this location offers (Digest, one challenge per
 * algorithm in cwmp_auth_digest_algorithms' order, MD5 then SHA-256 by
 * default; Basic over TLS when allowed), or 403 / 429 / 400 with a
 * reason; one log line each
 */

static ngx_int_t
ngx_http_cwmp_access_refuse(ngx_http_request_t *r, ngx_uint_t stale,
    ngx_uint_t status, char *reason)
{
    u_char                     *p, nonce[NGX_HTTP_CWMP_NONCE_LEN];
    size_t                      len;
    ngx_str_t                   value, body;
    ngx_uint_t                  i, level;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    static char  *algorithms[] = { NULL, "MD5", "SHA-256" };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    /* a CPE's mistake is info; a device's identity misused, or a lock-out,
     * is worth an operator's attention */

    level = (status == NGX_HTTP_FORBIDDEN
             || status == NGX_HTTP_TOO_MANY_REQUESTS)
            ? NGX_LOG_WARN : NGX_LOG_INFO;

    ngx_log_error(level, r->connection->log, 0,
                  "cwmp: authentication refused (%ui): %s", status, reason);

    ngx_http_cwmp_metric(status == NGX_HTTP_BAD_REQUEST
                         ? NGX_HTTP_CWMP_M_AUTH_MALFORMED
                         : status == NGX_HTTP_TOO_MANY_REQUESTS
                           ? NGX_HTTP_CWMP_M_AUTH_LIMITED
                           : status == NGX_HTTP_FORBIDDEN
                             ? NGX_HTTP_CWMP_M_AUTH_FORBIDDEN
                             : ngx_strcmp(reason, "no credentials") == 0
                               ? NGX_HTTP_CWMP_M_AUTH_CHALLENGE
                               : NGX_HTTP_CWMP_M_AUTH_CREDENTIALS);

    if (status == NGX_HTTP_UNAUTHORIZED) {

        if (lcf->auth & NGX_HTTP_CWMP_AUTH_DIGEST) {
            ngx_http_cwmp_auth_nonce(&mcf->auth_secret,
                                     &r->connection->addr_text, nonce);

            for (i = 0; lcf->auth_algorithms[i]; i++) {
                len = sizeof("Digest realm=\"\", qop=\"auth\", "
                             "algorithm=SHA-256, nonce=\"\", stale=true")
                      - 1 + lcf->auth_realm.len + NGX_HTTP_CWMP_NONCE_LEN;

                p = ngx_pnalloc(r->pool, len);
                if (p == NULL) {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }

                value.data = p;
                p = ngx_sprintf(p, "Digest realm=\"%V\", qop=\"auth\", "
                                "algorithm=%s, nonce=\"%*s\"",
                                &lcf->auth_realm,
                                algorithms[lcf->auth_algorithms[i]],
                                (size_t) NGX_HTTP_CWMP_NONCE_LEN, nonce);

                if (stale) {
                    p = ngx_cpymem(p, ", stale=true",
                                   sizeof(", stale=true") - 1);
                }

                value.len = p - value.data;

                if (ngx_http_cwmp_response_header(r, "WWW-Authenticate", &value)
                    != NGX_OK)
                {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }
            }
        }

#if (NGX_HTTP_SSL)
        if ((lcf->auth & NGX_HTTP_CWMP_AUTH_BASIC) && r->connection->ssl) {
            len = sizeof("Basic realm=\"\"") - 1 + lcf->auth_realm.len;

            value.data = ngx_pnalloc(r->pool, len);
            if (value.data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            value.len = ngx_sprintf(value.data, "Basic realm=\"%V\"",
                                    &lcf->auth_realm)
                        - value.data;

            if (ngx_http_cwmp_response_header(r, "WWW-Authenticate", &value)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
#endif
    }

    body.data = (u_char *) reason;
    body.len = ngx_strlen(reason);

    return ngx_http_cwmp_response_text(r, status, &body);
}


/* --- the directives of CPE authentication --------------------------- */


/* "cwmp_auth off | digest | basic | cert ..." */

char *
ngx_http_cwmp_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_loc_conf_t *lcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->auth != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->auth = 0;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "digest") == 0) {
            lcf->auth |= NGX_HTTP_CWMP_AUTH_DIGEST;

        } else if (ngx_strcmp(value[i].data, "basic") == 0) {
            lcf->auth |= NGX_HTTP_CWMP_AUTH_BASIC;

        } else if (ngx_strcmp(value[i].data, "cert") == 0) {
#if (NGX_HTTP_SSL)
            lcf->auth |= NGX_HTTP_CWMP_AUTH_CERT;
#else
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"cwmp_auth cert\" needs nginx built with "
                               "the http_ssl_module");
            return NGX_CONF_ERROR;
#endif

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\" directive, "
                               "it must be \"off\" or any of \"digest\", "
                               "\"basic\", \"cert\"", &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* "cwmp_auth_digest_algorithms MD5 | SHA-256 ...": offered in this order */

char *
ngx_http_cwmp_auth_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cwmp_loc_conf_t *lcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, a;

    if (lcf->auth_algorithms[0]) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcasecmp(value[i].data, (u_char *) "MD5") == 0) {
            a = NGX_HTTP_CWMP_DIGEST_MD5;

        } else if (ngx_strcasecmp(value[i].data, (u_char *) "SHA-256") == 0)
        {
#if (NGX_OPENSSL)
            a = NGX_HTTP_CWMP_DIGEST_SHA256;
#else
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "Digest SHA-256 needs nginx built with "
                               "OpenSSL");
            return NGX_CONF_ERROR;
#endif

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid Digest algorithm \"%V\": \"MD5\" "
                               "or \"SHA-256\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (i == 2 && lcf->auth_algorithms[0] == a) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "Digest algorithm \"%V\" listed twice",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        lcf->auth_algorithms[i - 1] = a;
    }

    return NGX_CONF_OK;
}


/* "cwmp_auth_bootstrap <password> | off" */

char *
ngx_http_cwmp_auth_bootstrap(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->auth_bootstrap.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&lcf->auth_bootstrap, "");
        return NGX_CONF_OK;
    }

    if (value[1].len < 8) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_auth_bootstrap\" needs a password of at "
                           "least 8 characters");
        return NGX_CONF_ERROR;
    }

    lcf->auth_bootstrap = value[1];

    return NGX_CONF_OK;
}


/* "cwmp_auth_failures <per device> <per address> <window>" */

char *
ngx_http_cwmp_auth_failures(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_main_conf_t *mcf = conf;

    ngx_int_t    device, addr;
    ngx_str_t   *value;
    ngx_msec_t   window;

    if (mcf->auth_limit_device != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    device = ngx_atoi(value[1].data, value[1].len);
    addr = ngx_atoi(value[2].data, value[2].len);
    window = ngx_parse_time(&value[3], 0);

    if (device <= 0 || addr <= 0 || window == (ngx_msec_t) NGX_ERROR
        || window < 1000)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\": <failures per device> "
                           "<failures per address> <window of at least 1s> "
                           "expected", &cmd->name);
        return NGX_CONF_ERROR;
    }

    mcf->auth_limit_device = device;
    mcf->auth_limit_addr = addr;
    mcf->auth_window = window;

    return NGX_CONF_OK;
}

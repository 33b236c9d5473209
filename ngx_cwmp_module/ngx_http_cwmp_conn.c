
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The session a request carries.  The cookie names it ("cwmp_session=
 * <token>.<ID>", so that the session's keys are known without a look-up);
 * for CPEs that drop cookies, the session is also bound to the keep-alive
 * connection, in a structure in the connection's pool found by its
 * cleanup's handler.  The cookie wins when both are there.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_conn.h"
#include "ngx_http_cwmp_metrics.h"
#include "ngx_http_cwmp_response.h"
#include "ngx_http_cwmp_util.h"


typedef struct {
    u_char                       token[NGX_HTTP_CWMP_TOKEN_LEN];
    u_char                       device_id[NGX_HTTP_CWMP_MAX_ID];
    size_t                       device_id_len;
    ngx_uint_t                   active;
    ngx_uint_t                   authenticated; /* device_id did, here */
} ngx_http_cwmp_conn_t;


static u_char *ngx_http_cwmp_conn_cookie_next(u_char *p, u_char *last,
    ngx_str_t *token, ngx_str_t *device_id);
static ngx_http_cwmp_conn_t *ngx_http_cwmp_conn(ngx_connection_t *c,
    ngx_uint_t create);
static ngx_uint_t ngx_http_cwmp_conn_is(ngx_http_cwmp_conn_t *conn,
    ngx_str_t *device_id);
static void ngx_http_cwmp_conn_cleanup(void *data);


/*
 * Our session cookies in the Cookie headers: "cwmp_session=<token>.<ID>"
 * (32 hex digits, then the device ID, so that the session's keys are known
 * without a look-up).  CPEs send cookies separated by ";" or "," and echo
 * attributes ("Path=/; HttpOnly"), which are ignored; some send the last
 * session's cookie before this one's ("old; new").  The n-th (0 the
 * first): NGX_OK, or NGX_DECLINED when there are fewer.
 */

ngx_int_t
ngx_http_cwmp_conn_cookie(ngx_http_request_t *r, ngx_uint_t n,
    ngx_str_t *token, ngx_str_t *device_id)
{
    u_char  *p, *last;

#if (nginx_version >= 1023000)

    ngx_table_elt_t  *h;

    for (h = r->headers_in.cookie; h; h = h->next) {
        p = h->value.data;
        last = p + h->value.len;

#else

    ngx_uint_t         i;
    ngx_table_elt_t  **hh, *h;

    hh = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = hh[i];
        p = h->value.data;
        last = p + h->value.len;

#endif

        while ((p = ngx_http_cwmp_conn_cookie_next(p, last, token,
                                                   device_id)))
        {
            if (n-- == 0) {
                return NGX_OK;
            }
        }
    }

    return NGX_DECLINED;
}


/* the next session cookie from p on; where its value ends, or NULL */

static u_char *
ngx_http_cwmp_conn_cookie_next(u_char *p, u_char *last, ngx_str_t *token,
    ngx_str_t *device_id)
{
    u_char      *v, *id, c;
    ngx_uint_t   i;

    static ngx_str_t  name = ngx_string(NGX_HTTP_CWMP_COOKIE_NAME "=");

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t' || *p == ';'
                            || *p == ','))
        {
            p++;
        }

        if ((size_t) (last - p) >= name.len + NGX_HTTP_CWMP_TOKEN_LEN
            && ngx_strncasecmp(p, name.data, name.len) == 0)
        {
            v = p + name.len;

            for (i = 0; i < NGX_HTTP_CWMP_TOKEN_LEN; i++) {
                if (!((v[i] >= '0' && v[i] <= '9')
                      || (v[i] >= 'a' && v[i] <= 'f')))
                {
                    break;
                }
            }

            if (i == NGX_HTTP_CWMP_TOKEN_LEN && v + i < last && v[i] == '.') {

                /* the device ID: the bytes device IDs are made of */

                id = v + i + 1;

                for (p = id; p < last && p - id <= NGX_HTTP_CWMP_MAX_ID; p++) {
                    c = *p;

                    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                          || (c >= '0' && c <= '9') || c == '_' || c == '%'
                          || c == '-'))
                    {
                        break;
                    }
                }

                if (p > id && p - id <= NGX_HTTP_CWMP_MAX_ID
                    && (p == last || *p == ';' || *p == ',' || *p == ' '
                        || *p == '\t'))
                {
                    token->data = v;
                    token->len = NGX_HTTP_CWMP_TOKEN_LEN;
                    device_id->data = id;
                    device_id->len = p - id;
                    return p;
                }
            }
        }

        while (p < last && *p != ';' && *p != ',') {
            p++;
        }
    }

    return NULL;
}


/* "cwmp_session=<token>.<device ID>": the ID is cookie-safe */

ngx_int_t
ngx_http_cwmp_conn_set_cookie(ngx_http_request_t *r, ngx_str_t *token,
    ngx_str_t *device_id)
{
    u_char     *p;
    ngx_str_t   cookie;

    cookie.len = sizeof(NGX_HTTP_CWMP_COOKIE_NAME "=.; Path=/; HttpOnly") - 1
                 + token->len + device_id->len;
    cookie.data = ngx_pnalloc(r->pool, cookie.len);
    if (cookie.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(cookie.data, NGX_HTTP_CWMP_COOKIE_NAME "=",
                   sizeof(NGX_HTTP_CWMP_COOKIE_NAME "=") - 1);
    p = ngx_cpymem(p, token->data, token->len);
    *p++ = '.';
    p = ngx_cpymem(p, device_id->data, device_id->len);
    ngx_memcpy(p, "; Path=/; HttpOnly", sizeof("; Path=/; HttpOnly") - 1);

    return ngx_http_cwmp_response_header(r, "Set-Cookie", &cookie);
}


/*
 * The sessions a request may carry, the n-th (0 the first): its cookies in
 * the order sent, then the session bound to its connection.  Only the
 * first names any device: the others are tried when it is not the
 * device's session (a stale cookie), and only for the same device.
 */

ngx_int_t
ngx_http_cwmp_conn_session(ngx_http_request_t *r, ngx_uint_t n,
    ngx_str_t *token, ngx_str_t *device_id)
{
    ngx_str_t              first_token, first_id;
    ngx_uint_t             k;
    ngx_http_cwmp_conn_t  *conn;

    conn = ngx_http_cwmp_conn(r->connection, 0);

    if (conn && !conn->active) {
        conn = NULL;
    }

    if (ngx_http_cwmp_conn_cookie(r, 0, &first_token, &first_id) != NGX_OK) {

        /* no cookie: the connection's, or none */

        if (n || conn == NULL) {
            return NGX_DECLINED;
        }

        token->data = conn->token;
        token->len = NGX_HTTP_CWMP_TOKEN_LEN;
        device_id->data = conn->device_id;
        device_id->len = conn->device_id_len;

        return NGX_OK;
    }

    for (k = 0; ngx_http_cwmp_conn_cookie(r, k, token, device_id) == NGX_OK;
         k++)
    {
        if (device_id->len != first_id.len
            || ngx_strncmp(device_id->data, first_id.data, first_id.len) != 0)
        {
            continue;
        }

        if (n-- == 0) {
            return NGX_OK;
        }
    }

    if (n || conn == NULL || !ngx_http_cwmp_conn_is(conn, &first_id)) {
        return NGX_DECLINED;
    }

    token->data = conn->token;
    token->len = NGX_HTTP_CWMP_TOKEN_LEN;
    device_id->data = conn->device_id;
    device_id->len = conn->device_id_len;

    return NGX_OK;
}


void
ngx_http_cwmp_conn_open(ngx_connection_t *c, ngx_str_t *token,
    ngx_str_t *device_id)
{
    ngx_http_cwmp_conn_t  *conn;

    conn = ngx_http_cwmp_conn(c, 1);

    if (conn == NULL || device_id->len > NGX_HTTP_CWMP_MAX_ID) {
        return;
    }

    ngx_memcpy(conn->token, token->data, NGX_HTTP_CWMP_TOKEN_LEN);
    ngx_memcpy(conn->device_id, device_id->data, device_id->len);
    conn->device_id_len = device_id->len;

    if (conn->active) {
        ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_SESSION_REPLACED);
    }

    ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_SESSIONS_OPENED);
    conn->active = 1;
}


/* the session ends (or was not there): the connection forgets it */

void
ngx_http_cwmp_conn_close(ngx_connection_t *c)
{
    ngx_http_cwmp_conn_t  *conn;

    conn = ngx_http_cwmp_conn(c, 0);
    if (conn && conn->active) {
        ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_SESSION_COMPLETED);
        conn->active = 0;
    }
}


/* the connection is the device's: later Informs on it need nothing more */

void
ngx_http_cwmp_conn_authenticated(ngx_connection_t *c, ngx_str_t *device_id)
{
    ngx_http_cwmp_conn_t  *conn;

    conn = ngx_http_cwmp_conn(c, 1);

    if (conn == NULL || device_id->len > NGX_HTTP_CWMP_MAX_ID) {
        return;
    }

    if (!ngx_http_cwmp_conn_is(conn, device_id)) {
        /* the connection's session, if any, was another device's */
        conn->active = 0;
    }

    ngx_memcpy(conn->device_id, device_id->data, device_id->len);
    conn->device_id_len = device_id->len;
    conn->authenticated = 1;
}


ngx_int_t
ngx_http_cwmp_conn_is_authenticated(ngx_connection_t *c,
    ngx_str_t *device_id)
{
    ngx_http_cwmp_conn_t  *conn;

    conn = ngx_http_cwmp_conn(c, 0);

    if (conn && conn->authenticated
        && ngx_http_cwmp_conn_is(conn, device_id))
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_cwmp_conn_id(ngx_connection_t *c, ngx_pool_t *pool, ngx_str_t *id)
{
    size_t  len;

    len = ngx_cycle->hostname.len + 2 * NGX_ATOMIC_T_LEN + 2;

    id->data = ngx_pnalloc(pool, len);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    id->len = ngx_snprintf(id->data, len, "%V:%P:%uA", &ngx_cycle->hostname,
                           ngx_pid, c->number)
              - id->data;

    return NGX_OK;
}


ngx_uint_t
ngx_http_cwmp_conn_bound(ngx_http_request_t *r)
{
    ngx_str_t              token, device_id;
    ngx_http_cwmp_conn_t  *conn;

    conn = ngx_http_cwmp_conn(r->connection, 0);

    return (conn && (conn->active || conn->authenticated))
           || ngx_http_cwmp_conn_cookie(r, 0, &token, &device_id) == NGX_OK;
}


ngx_uint_t
ngx_http_cwmp_conn_seen(ngx_http_request_t *r)
{
    ngx_str_t  token, device_id;

    return ngx_http_cwmp_conn_cookie(r, 0, &token, &device_id) == NGX_OK
           || ngx_http_cwmp_conn(r->connection, 0) != NULL;
}


static ngx_http_cwmp_conn_t *
ngx_http_cwmp_conn(ngx_connection_t *c, ngx_uint_t create)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = c->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_cwmp_conn_cleanup) {
            return cln->data;
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(c->pool, sizeof(ngx_http_cwmp_conn_t));
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_cwmp_conn_cleanup;
    ngx_memzero(cln->data, sizeof(ngx_http_cwmp_conn_t));

    return cln->data;
}


static ngx_uint_t
ngx_http_cwmp_conn_is(ngx_http_cwmp_conn_t *conn, ngx_str_t *device_id)
{
    return conn->device_id_len == device_id->len
           && ngx_strncmp(conn->device_id, device_id->data, device_id->len)
              == 0;
}


static void
ngx_http_cwmp_conn_cleanup(void *data)
{
    ngx_http_cwmp_conn_t *conn = data;

    /* the data goes with the connection's pool; a session it had open
     * ends with it */

    if (conn->active) {
        ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_SESSION_CLOSED);
    }
}

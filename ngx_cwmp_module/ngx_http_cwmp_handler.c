
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The HTTP edge of a "cwmp" location: the method, the length and the
 * encoding checked; new sessions shed while Redis is down or deep in work;
 * CPE authentication's early check; the body read whole (gunzipped, bounded
 * before and after); then the session takes the message.  The log names
 * the device.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <zlib.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_access.h"
#include "ngx_http_cwmp_conn.h"
#include "ngx_http_cwmp_handler.h"
#include "ngx_http_cwmp_response.h"
#include "ngx_http_cwmp_session.h"


static ngx_int_t ngx_http_cwmp_encoding(ngx_http_request_t *r,
    ngx_uint_t *gzip);
static ngx_int_t ngx_http_cwmp_overloaded(ngx_http_request_t *r);
static void ngx_http_cwmp_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_body(ngx_http_request_t *r, ngx_str_t *body);
static ngx_int_t ngx_http_cwmp_gunzip(ngx_http_request_t *r, ngx_str_t *body);
static u_char *ngx_http_cwmp_log_error(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len);


ngx_int_t
ngx_http_cwmp_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_str_t                   allow = ngx_string("POST");
    ngx_uint_t                  gzip;
    ngx_http_cwmp_ctx_t        *ctx;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    if (!(r->method & NGX_HTTP_POST)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: method \"%V\" refused, CWMP uses POST",
                      &r->method_name);

        if (ngx_http_cwmp_response_header(r, "Allow", &allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (r->headers_in.content_length_n > (off_t) lcf->max_body_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: body of %O bytes is larger than "
                      "cwmp_max_body_size %uz",
                      r->headers_in.content_length_n, lcf->max_body_size);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    rc = ngx_http_cwmp_encoding(r, &gzip);
    if (rc != NGX_OK) {
        return rc;
    }

    /* shed load at once while Redis is unreachable: no body, no parsing */

    if (ngx_http_cwmp_store_available(&mcf->store) != NGX_OK) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_cwmp_response_unavailable(r);
    }

    if (ngx_http_cwmp_overloaded(r) == NGX_OK) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        /* a spread of retries, so that a storm does not come back whole */

        r->keepalive = 0;

        return ngx_http_cwmp_response_retry_later(r,
                                         "ACS overloaded, retry later\n",
                                         lcf->retry_after
                                         + ngx_random() % lcf->retry_after);
    }

    ctx = ngx_http_cwmp_session_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->gzip = gzip;
    ctx->log_handler = r->log_handler;
    r->log_handler = ngx_http_cwmp_log_error;

    /* a new session without valid-looking credentials: before its body */

    if (lcf->auth) {
        rc = ngx_http_cwmp_access_early(r, &ctx->access);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_cwmp_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* Content-Encoding: identity, or gzip (CWMP allows it); 415 otherwise */

static ngx_int_t
ngx_http_cwmp_encoding(ngx_http_request_t *r, ngx_uint_t *gzip)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;
    *gzip = 0;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("Content-Encoding") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Content-Encoding",
                               h[i].key.len) != 0
            || (h[i].value.len == sizeof("identity") - 1
                && ngx_strncasecmp(h[i].value.data, (u_char *) "identity",
                                   h[i].value.len) == 0))
        {
            continue;
        }

        /* bounded after inflating, too */

        if ((h[i].value.len == sizeof("gzip") - 1
             && ngx_strncasecmp(h[i].value.data, (u_char *) "gzip", 4) == 0)
            || (h[i].value.len == sizeof("x-gzip") - 1
                && ngx_strncasecmp(h[i].value.data, (u_char *) "x-gzip", 6)
                   == 0))
        {
            *gzip = 1;
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: unsupported Content-Encoding \"%V\"",
                      &h[i].value);
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    return NGX_OK;
}


/*
 * Load shedding.  A worker that has cwmp_shed_pending Redis operations
 * pending turns away new sessions (a body, no session cookie, no session on
 * the connection) before reading them: a 503 costs a fraction of a session,
 * and the sessions already running keep their share of Redis and CPU, so none
 * of them is lost to the storm.  One line when shedding starts, one when it
 * ends, with the count.  The 503s close their connections and spread their
 * Retry-After over [cwmp_retry_after, 2 * cwmp_retry_after).
 */

static ngx_uint_t  ngx_http_cwmp_shed;
static ngx_uint_t  ngx_http_cwmp_shedding;


static ngx_int_t
ngx_http_cwmp_overloaded(ngx_http_request_t *r)
{
    ngx_uint_t                  pending, limit;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (lcf->shed_pending == 0 || r->headers_in.content_length_n == 0) {
        return NGX_DECLINED;
    }

    /* hysteresis: once shedding, until the queue is down to half */

    pending = ngx_http_cwmp_store_pending(&mcf->store);
    limit = ngx_http_cwmp_shedding ? (ngx_uint_t) lcf->shed_pending / 2
                                   : (ngx_uint_t) lcf->shed_pending;

    if (pending < ngx_max(limit, 1)) {

        if (ngx_http_cwmp_shedding) {
            ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                          "cwmp: load is back under cwmp_shed_pending, "
                          "%ui new sessions were shed", ngx_http_cwmp_shed);
            ngx_http_cwmp_shedding = 0;
            ngx_http_cwmp_shed = 0;
        }

        return NGX_DECLINED;
    }

    if (ngx_http_cwmp_conn_seen(r)) {
        return NGX_DECLINED;
    }

    if (!ngx_http_cwmp_shedding) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cwmp: overloaded, %ui Redis operations pending, "
                      "answering new sessions 503 until under %i",
                      pending, lcf->shed_pending);
        ngx_http_cwmp_shedding = 1;
    }

    ngx_http_cwmp_shed++;
    ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_SHED);

    return NGX_OK;
}


static void
ngx_http_cwmp_body_handler(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_str_t             body, reason;
    ngx_http_cwmp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    rc = ngx_http_cwmp_body(r, &body);

    if (rc == NGX_OK && ctx->gzip && body.len) {
        rc = ngx_http_cwmp_gunzip(r, &body);
    }

    if (rc == NGX_HTTP_BAD_REQUEST) {
        ngx_str_set(&reason, "broken gzip body");
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_response_refuse(r, &reason));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, rc);
        return;
    }

    rc = ngx_http_cwmp_session_message(r, &body);

    if (rc == NGX_DONE) {
        /* waiting for Redis: the session finalizes */
        return;
    }

    ngx_http_cwmp_finalize(r, rc);
}


/* the whole body, contiguous; in a file only if nginx put it there */

static ngx_int_t
ngx_http_cwmp_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char                    *p;
    off_t                      len;
    ssize_t                    n;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_http_cwmp_loc_conf_t  *lcf;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > (off_t) lcf->max_body_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: body of %O bytes is larger than "
                      "cwmp_max_body_size %uz", len, lcf->max_body_size);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    if (len == 0) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && ngx_buf_in_memory(cl->buf)) {
        body->data = cl->buf->pos;
        body->len = (size_t) len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;
    body->len = (size_t) len;

    for (/* void */; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (!b->in_file || b->file == NULL) {
            /* a special buffer: the last_buf mark of a chunked body */
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != (ssize_t) (b->file_last - b->file_pos)) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


/*
 * A gzip body, inflated into at most cwmp_max_body_size bytes: NGX_OK, or
 * 413 for a bomb (it stops there), 400 for a broken stream; logged.
 */

static ngx_int_t
ngx_http_cwmp_gunzip(ngx_http_request_t *r, ngx_str_t *body)
{
    int                        zrc;
    u_char                    *out;
    z_stream                   z;
    ngx_http_cwmp_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    out = ngx_pnalloc(r->pool, lcf->max_body_size + 1);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&z, sizeof(z_stream));

    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    z.next_in = body->data;
    z.avail_in = body->len;
    z.next_out = out;
    z.avail_out = lcf->max_body_size + 1;

    zrc = inflate(&z, Z_FINISH);

    inflateEnd(&z);

    if (zrc == Z_STREAM_END && z.total_out <= lcf->max_body_size) {
        body->data = out;
        body->len = z.total_out;
        return NGX_OK;
    }

    if (z.avail_out == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: gzip body larger than cwmp_max_body_size %uz "
                      "once inflated (%uz bytes sent)", lcf->max_body_size,
                      body->len);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: broken gzip body (zlib %d: %s)", zrc,
                  z.msg ? z.msg : "truncated");

    return NGX_HTTP_BAD_REQUEST;
}


/* nginx's context first (server, request, host...), then the device */

static u_char *
ngx_http_cwmp_log_error(ngx_http_request_t *r, ngx_http_request_t *sr,
    u_char *buf, size_t len)
{
    u_char               *p;
    ngx_http_cwmp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (ctx == NULL) {
        return buf;
    }

    p = ctx->log_handler ? ctx->log_handler(r, sr, buf, len) : buf;

    if (ctx->device_id.len == 0) {
        return p;
    }

    len -= p - buf;

    return ngx_snprintf(p, len, ", device: \"%V\"", &ctx->device_id);
}


/*
 * Copyright (C) ngx_cwmp authors
 *
 * TR-143 test endpoints, for the DownloadDiagnostics and UploadDiagnostics
 * a CPE runs against the ACS's hosts (the diagnostics task kinds): an ISP
 * measures line throughput against servers it already has.
 *
 *   cwmp_tr143_download [max]  GET <location>/<size> ("10m", "1g",
 *                              "1048576"): that many bytes, from one block
 *                              of zeros in memory (no disk), at nginx's
 *                              own writev speed
 *   cwmp_tr143_upload [max]    PUT or POST with a Content-Length: the body
 *                              read and dropped as it arrives (no buffer,
 *                              no file), then 200 and a line with the bytes
 *                              and the time, logged too
 *
 * Threat model: both are open endpoints by design (CPEs test without
 * credentials); max caps what one request may cost, and nginx's own
 * limits (limit_req, limit_conn, allow/deny) guard the rest.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_tr143.h"


#define NGX_HTTP_CWMP_TR143_BLOCK  (1024 * 1024)


static ngx_int_t ngx_http_cwmp_tr143_download_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_tr143_upload_handler(ngx_http_request_t *r);
static void ngx_http_cwmp_tr143_upload_read(ngx_http_request_t *r);
static void ngx_http_cwmp_tr143_uploaded(ngx_http_request_t *r);


/* what a download sends, a block at a time: zeros, never written */
static u_char  ngx_http_cwmp_tr143_zeros[NGX_HTTP_CWMP_TR143_BLOCK];


/* cwmp_tr143_download [max], cwmp_tr143_upload [max]: a location's */

char *
ngx_http_cwmp_tr143(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_loc_conf_t *lcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (lcf->tr143_max) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->tr143_max = 1024 * 1024 * 1024;

    if (cf->args->nelts == 2) {
        lcf->tr143_max = ngx_parse_offset(&value[1]);

        if (lcf->tr143_max <= 0) {
            return "takes a size, \"1g\" by default";
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = (value[0].data[sizeof("cwmp_tr143_") - 1] == 'd')
                    ? ngx_http_cwmp_tr143_download_handler
                    : ngx_http_cwmp_tr143_upload_handler;

    return NGX_CONF_OK;
}


/* GET <location>/<size>: that many bytes */

static ngx_int_t
ngx_http_cwmp_tr143_download_handler(ngx_http_request_t *r)
{
    off_t                      size, n;
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_str_t                  arg;
    ngx_chain_t               *out, **ll, *cl;
    ngx_http_cwmp_loc_conf_t  *lcf;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    /* the size: the last segment of the path */

    arg.data = r->uri.data + r->uri.len;
    while (arg.data > r->uri.data && arg.data[-1] != '/') {
        arg.data--;
    }

    arg.len = r->uri.data + r->uri.len - arg.data;
    size = arg.len ? ngx_parse_offset(&arg) : NGX_ERROR;

    if (size <= 0 || size > lcf->tr143_max) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: tr143 download \"%V\": a size from 1 byte to "
                      "%O expected", &r->uri, lcf->tr143_max);
        return NGX_HTTP_NOT_FOUND;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = size;
    ngx_str_set(&r->headers_out.content_type, "application/octet-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    /* the same block again and again, a buffer each */

    out = NULL;
    ll = &out;
    b = NULL;

    for (n = size; n > 0; n -= NGX_HTTP_CWMP_TR143_BLOCK) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->memory = 1;
        b->pos = ngx_http_cwmp_tr143_zeros;
        b->last = b->pos + ngx_min(n, NGX_HTTP_CWMP_TR143_BLOCK);

        cl->buf = b;
        cl->next = NULL;
        *ll = cl;
        ll = &cl->next;
    }

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


/* PUT or POST: the body read and dropped, its bytes and time answered */

static ngx_int_t
ngx_http_cwmp_tr143_upload_handler(ngx_http_request_t *r)
{
    off_t                      n;
    ngx_http_cwmp_loc_conf_t  *lcf;

    if (!(r->method & (NGX_HTTP_PUT | NGX_HTTP_POST))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    if (r->headers_in.content_length_n <= 0
        || r->headers_in.transfer_encoding
#if (NGX_HTTP_V2)
        || r->stream
#endif
       )
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: tr143 upload without a Content-Length (or "
                      "not HTTP/1): refused");
        return NGX_HTTP_LENGTH_REQUIRED;
    }

    if (r->headers_in.content_length_n > lcf->tr143_max) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: tr143 upload of %O bytes, over %O",
                      r->headers_in.content_length_n, lcf->tr143_max);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    /* what came with the header; the rest as it arrives.  The length
     * counts down what is still to come (as nginx's discarding does) */

    n = ngx_min(r->header_in->last - r->header_in->pos,
                r->headers_in.content_length_n);
    r->header_in->pos += n;
    r->headers_in.content_length_n -= n;

    r->main->count++;
    r->read_event_handler = ngx_http_cwmp_tr143_upload_read;

    ngx_http_cwmp_tr143_upload_read(r);

    return NGX_DONE;
}


static void
ngx_http_cwmp_tr143_upload_read(ngx_http_request_t *r)
{
    u_char                     buf[16384];
    ssize_t                    n;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;

    if (c->read->timedout) {
        c->timedout = 1;
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "cwmp: tr143 upload timed out, %O bytes short",
                      r->headers_in.content_length_n);
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    while (r->headers_in.content_length_n > 0) {
        n = c->recv(c, buf, ngx_min(r->headers_in.content_length_n,
                                    (off_t) sizeof(buf)));

        if (n == NGX_AGAIN) {
            clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
            ngx_add_timer(c->read, clcf->client_body_timeout);

            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "cwmp: tr143 upload: the client left, %O bytes "
                          "short", r->headers_in.content_length_n);
            c->error = 1;
            ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
            return;
        }

        r->headers_in.content_length_n -= n;
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_cwmp_tr143_uploaded(r);
}


/* the whole body came: "<bytes> bytes in <ms> ms", answered and logged */

static void
ngx_http_cwmp_tr143_uploaded(ngx_http_request_t *r)
{
    off_t         bytes;
    ngx_buf_t    *b;
    ngx_msec_t    ms;
    ngx_time_t   *tp;
    ngx_chain_t   out;

    bytes = ngx_atoof(r->headers_in.content_length->value.data,
                      r->headers_in.content_length->value.len);

    tp = ngx_timeofday();
    ms = (ngx_msec_t) ((tp->sec - r->start_sec) * 1000
                       + (tp->msec - r->start_msec));

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: tr143 upload: %O bytes in %M ms", bytes, ms);

    b = ngx_create_temp_buf(r->pool, NGX_OFF_T_LEN + NGX_INT_T_LEN + 32);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b->last = ngx_sprintf(b->last, "%O bytes in %M ms" CRLF, bytes, ms);
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    out.buf = b;
    out.next = NULL;

    if (ngx_http_send_header(r) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
}

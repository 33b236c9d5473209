
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The HTTP answers.  Along with the HTTP edge (handler) and CPE
 * authentication (access), the only place that speaks HTTP status codes;
 * every request of the module ends in ngx_http_cwmp_finalize().
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_response.h"


static ngx_int_t ngx_http_cwmp_response_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, ngx_str_t *body);


static ngx_str_t  ngx_http_cwmp_xml_type =
    ngx_string("text/xml; charset=\"utf-8\"");
static ngx_str_t  ngx_http_cwmp_text_type = ngx_string("text/plain");


ngx_int_t
ngx_http_cwmp_response_soap(ngx_http_request_t *r, ngx_str_t *envelope)
{
    return ngx_http_cwmp_response_send(r, NGX_HTTP_OK,
                                       &ngx_http_cwmp_xml_type, envelope);
}


/* SOAP 1.1 over HTTP carries a fault in a 500 response */

ngx_int_t
ngx_http_cwmp_response_fault(ngx_http_request_t *r, ngx_str_t *envelope)
{
    return ngx_http_cwmp_response_send(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                       &ngx_http_cwmp_xml_type, envelope);
}


/* 204: the session ends (or was not there) */

ngx_int_t
ngx_http_cwmp_response_end(ngx_http_request_t *r)
{
    return ngx_http_cwmp_response_send(r, NGX_HTTP_NO_CONTENT, NULL, NULL);
}


ngx_int_t
ngx_http_cwmp_response_refuse(ngx_http_request_t *r, ngx_str_t *reason)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: refused: %V", reason);

    return ngx_http_cwmp_response_text(r, NGX_HTTP_BAD_REQUEST, reason);
}


ngx_int_t
ngx_http_cwmp_response_refuse_text(ngx_http_request_t *r, char *reason)
{
    ngx_str_t  s;

    s.data = (u_char *) reason;
    s.len = ngx_strlen(reason);

    return ngx_http_cwmp_response_refuse(r, &s);
}


/* "cwmp: <reason>\n", text/plain */

ngx_int_t
ngx_http_cwmp_response_text(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *reason)
{
    ngx_str_t  body;

    body.len = sizeof("cwmp: \n") - 1 + reason->len;
    body.data = ngx_pnalloc(r->pool, body.len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(body.data, "cwmp: %V\n", reason);

    return ngx_http_cwmp_response_send(r, status, &ngx_http_cwmp_text_type,
                                       &body);
}


ngx_int_t
ngx_http_cwmp_response_unavailable(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: redis unavailable, answering 503");
    ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_UNAVAILABLE);

    return ngx_http_cwmp_response_retry_later(r,
                                     "ACS storage unavailable, retry later\n",
                                     0);
}


/* 503 with Retry-After (0: cwmp_retry_after) */

ngx_int_t
ngx_http_cwmp_response_retry_later(ngx_http_request_t *r, char *text,
    time_t after)
{
    ngx_str_t                  value, body;
    ngx_http_cwmp_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    body.data = (u_char *) text;
    body.len = ngx_strlen(text);

    value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%T",
                            after ? after : lcf->retry_after)
                - value.data;

    if (ngx_http_cwmp_response_header(r, "Retry-After", &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cwmp_response_send(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       &ngx_http_cwmp_text_type, &body);
}


ngx_int_t
ngx_http_cwmp_response_store(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_DECLINED) {
        return ngx_http_cwmp_response_unavailable(r);
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;      /* the store's handler finalizes */
}


static ngx_int_t
ngx_http_cwmp_response_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;

    if (body == NULL || body->len == 0) {
        r->header_only = 1;
        r->headers_out.content_length_n = 0;

    } else {
        r->headers_out.content_length_n = body->len;
        r->headers_out.content_type = *type;
        r->headers_out.content_type_len = type->len;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_cwmp_response_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


void
ngx_http_cwmp_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    /* the session's and the store's failures: nothing was sent yet */

    if (rc == NGX_ERROR && !r->header_sent) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

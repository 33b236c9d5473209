
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The content handler: reads the body, hands it to the SOAP parser and
 * the store, and answers.  The only place that speaks HTTP status codes;
 * every request ends in ngx_http_cwmp_finalize().
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <zlib.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_auth.h"
#include "ngx_http_cwmp_handler.h"
#include "ngx_http_cwmp_session.h"
#include "ngx_http_cwmp_soap.h"
#include "ngx_http_cwmp_store.h"
#include "ngx_http_cwmp_task.h"


/* tasks that cannot be sent, dropped in one exchange before a 503 */
#define NGX_HTTP_CWMP_MAX_SKIPPED  64


typedef struct {
    ngx_http_cwmp_msg_t          msg;
    ngx_http_log_handler_pt      log_handler;   /* nginx's, then ours */
    ngx_str_t                    device_id;
    ngx_str_t                    token;
    u_char                       token_data[NGX_HTTP_CWMP_TOKEN_LEN];

    /* the ACS turn */
    ngx_http_cwmp_store_step_t   step;
    ngx_http_cwmp_store_turn_t   turn;
    ngx_http_cwmp_outcome_t      outcome;
    u_char                       rpc_id[NGX_HTTP_CWMP_RPC_ID_LEN];
    ngx_uint_t                   skipped;
    ngx_str_t                    use_version;   /* UseCWMPVersion */

    /* the policies at the Inform: the wanted values and objects read */
    ngx_array_t                  candidates;    /* ngx_uint_t */
    ngx_array_t                  wanted;        /* ngx_str_t */
    ngx_array_t                  object_index;  /* ngx_uint_t */
    ngx_array_t                  objects;       /* ngx_str_t */

    ngx_str_t                    rpc_out;       /* what the ACS answered */
    ngx_uint_t                   gzip;          /* Content-Encoding: gzip */

    /* the Inform's authentication */
    ngx_str_t                    claimed;       /* its device ID */
    ngx_uint_t                   auth_checked;  /* auth parsed and its
                                                   nonce good, before the
                                                   body was read */
    ngx_http_cwmp_auth_t         auth;
    ngx_http_cwmp_store_auth_t   auth_store;
} ngx_http_cwmp_ctx_t;


/*
 * The session bound to a keep-alive connection, for CPEs that drop
 * cookies.  It lives in the connection's pool.
 */

typedef struct {
    u_char                       token[NGX_HTTP_CWMP_TOKEN_LEN];
    u_char                       device_id[NGX_HTTP_CWMP_MAX_ID];
    size_t                       device_id_len;
    ngx_uint_t                   active;
    ngx_uint_t                   authenticated; /* device_id did, here:
                                                   TR-069 authenticates a
                                                   connection */
} ngx_http_cwmp_conn_t;


static void ngx_http_cwmp_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_process(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_gunzip(ngx_http_request_t *r, ngx_str_t *body);
static ngx_int_t ngx_http_cwmp_body(ngx_http_request_t *r, ngx_str_t *body);
static ngx_int_t ngx_http_cwmp_inform(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_inform_open(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static void ngx_http_cwmp_inform_done(ngx_http_request_t *r, ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_authenticate(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static void ngx_http_cwmp_auth_done(ngx_http_request_t *r, ngx_int_t rc);
static void ngx_http_cwmp_auth_failed(ngx_http_request_t *r, ngx_int_t rc);
static void ngx_http_cwmp_authenticated(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_auth_early(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_auth_is(ngx_http_cwmp_ctx_t *ctx,
    ngx_uint_t mode, ngx_str_t *name);
static ngx_int_t ngx_http_cwmp_challenge(ngx_http_request_t *r,
    ngx_uint_t stale, ngx_uint_t status, char *reason);
static ngx_int_t ngx_http_cwmp_policy_inform(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx, ngx_http_cwmp_store_inform_t *inform);
static ngx_int_t ngx_http_cwmp_policy_values(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx, ngx_http_cwmp_policies_t *policies);
static ngx_int_t ngx_http_cwmp_policy_remap(ngx_http_request_t *r,
    ngx_array_t *got, ngx_array_t *index, ngx_uint_t total);
static ngx_int_t ngx_http_cwmp_empty_post(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_step(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx, ngx_str_t *answered,
    ngx_http_cwmp_outcome_t *outcome);
static void ngx_http_cwmp_step_done(ngx_http_request_t *r, ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_policies(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_dispatch(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static void ngx_http_cwmp_session_over(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_other(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_cpe_request(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static void ngx_http_cwmp_cpe_request_done(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_find_session(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);

static ngx_int_t ngx_http_cwmp_waiting(ngx_http_request_t *r, ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_fault(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx, ngx_uint_t code, char *text);
static ngx_int_t ngx_http_cwmp_unavailable(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_overloaded(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_retry_later(ngx_http_request_t *r,
    char *text, time_t after);
static ngx_int_t ngx_http_cwmp_refuse(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *reason);
static ngx_int_t ngx_http_cwmp_send_text(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *reason);
static ngx_int_t ngx_http_cwmp_refuse_text(ngx_http_request_t *r,
    char *reason);
static ngx_int_t ngx_http_cwmp_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body);
static ngx_int_t ngx_http_cwmp_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value);
static void ngx_http_cwmp_finalize(ngx_http_request_t *r, ngx_int_t rc);

static ngx_http_cwmp_conn_t *ngx_http_cwmp_conn(ngx_connection_t *c,
    ngx_uint_t create);
static void ngx_http_cwmp_conn_cleanup(void *data);
static u_char *ngx_http_cwmp_log_error(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len);
static ngx_int_t ngx_http_cwmp_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_cwmp_xml_type =
    ngx_string("text/xml; charset=\"utf-8\"");
static ngx_str_t  ngx_http_cwmp_text_type = ngx_string("text/plain");


ngx_int_t
ngx_http_cwmp_handler_init_process(ngx_cycle_t *cycle)
{
    return ngx_http_cwmp_session_init_process(cycle);
}


ngx_int_t
ngx_http_cwmp_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_str_t                   allow = ngx_string("POST");
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h;
    ngx_uint_t                  i, gzip;
    ngx_http_cwmp_ctx_t        *ctx;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    if (!(r->method & NGX_HTTP_POST)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: method \"%V\" refused, CWMP uses POST",
                      &r->method_name);

        if (ngx_http_cwmp_header(r, "Allow", &allow) != NGX_OK) {
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

    part = &r->headers_in.headers.part;
    h = part->elts;
    gzip = 0;

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

        /* CWMP allows gzip bodies (bounded after inflating, too) */

        if ((h[i].value.len == sizeof("gzip") - 1
             && ngx_strncasecmp(h[i].value.data, (u_char *) "gzip", 4) == 0)
            || (h[i].value.len == sizeof("x-gzip") - 1
                && ngx_strncasecmp(h[i].value.data, (u_char *) "x-gzip", 6)
                   == 0))
        {
            gzip = 1;
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: unsupported Content-Encoding \"%V\"",
                      &h[i].value);
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    /* shed load at once while Redis is unreachable: no body, no parsing */

    if (ngx_http_cwmp_redis_available(mcf->node) != NGX_OK) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_cwmp_unavailable(r);
    }

    if (ngx_http_cwmp_overloaded(r) == NGX_OK) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        /* a spread of retries, so that a storm does not come back whole */

        r->keepalive = 0;

        return ngx_http_cwmp_retry_later(r, "ACS overloaded, retry later\n",
                                         lcf->retry_after
                                         + ngx_random() % lcf->retry_after);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_cwmp_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_cwmp_module);

    ctx->gzip = gzip;
    ctx->log_handler = r->log_handler;
    r->log_handler = ngx_http_cwmp_log_error;

    /* a new session without valid-looking credentials: before its body */

    if (lcf->auth) {
        rc = ngx_http_cwmp_auth_early(r, ctx);
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


static void
ngx_http_cwmp_body_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_cwmp_process(r);

    if (rc == NGX_DONE) {
        /* waiting for Redis: the store's handler finalizes */
        return;
    }

    ngx_http_cwmp_finalize(r, rc);
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


static ngx_int_t
ngx_http_cwmp_process(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_str_t             body, reason;
    ngx_uint_t            i;
    ngx_http_cwmp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    rc = ngx_http_cwmp_body(r, &body);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->gzip && body.len) {
        rc = ngx_http_cwmp_gunzip(r, &body);

        if (rc == NGX_HTTP_BAD_REQUEST) {
            ngx_str_set(&reason, "broken gzip body");
            return ngx_http_cwmp_refuse(r, NGX_HTTP_BAD_REQUEST, &reason);
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    for (i = 0; i < body.len; i++) {
        if (body.data[i] != ' ' && body.data[i] != '\t'
            && body.data[i] != CR && body.data[i] != LF)
        {
            break;
        }
    }

    if (i == body.len) {
        return ngx_http_cwmp_empty_post(r, ctx);
    }

    rc = ngx_http_cwmp_soap_parse(r, body.data, body.len, &ctx->msg);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_cwmp_refuse(r, NGX_HTTP_BAD_REQUEST, &ctx->msg.error);
    }

    if (ctx->msg.type == NGX_HTTP_CWMP_MSG_INFORM) {
        return ngx_http_cwmp_inform(r, ctx);
    }

    return ngx_http_cwmp_other(r, ctx);
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


static ngx_int_t
ngx_http_cwmp_inform(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t             rc;
    ngx_http_cwmp_msg_t  *msg;

    msg = &ctx->msg;

    if (msg->oui.len == 0 || msg->serial_number.len == 0
        || msg->oui.len > NGX_HTTP_CWMP_MAX_FIELD
        || msg->serial_number.len > NGX_HTTP_CWMP_MAX_FIELD
        || msg->product_class.len > NGX_HTTP_CWMP_MAX_FIELD
        || msg->manufacturer.len > NGX_HTTP_CWMP_MAX_FIELD)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: Inform with a missing or invalid DeviceId");
        return ngx_http_cwmp_fault(r, ctx, 8003,
                                   "Invalid arguments: DeviceId needs OUI "
                                   "and SerialNumber, each at most 64 "
                                   "characters");
    }

    if (ngx_http_cwmp_device_id(r->pool, &msg->oui, &msg->product_class,
                                &msg->serial_number, &ctx->claimed)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the log lines of the authentication name the device */

    ctx->device_id = ctx->claimed;

    rc = ngx_http_cwmp_authenticate(r, ctx);

    if (rc != NGX_DECLINED) {
        /* waiting for Redis, or refused */
        return rc;
    }

    return ngx_http_cwmp_inform_open(r, ctx);
}


/* an Inform from a CPE that authenticated: its session opens */

static ngx_int_t
ngx_http_cwmp_inform_open(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t                      rc, timeout;
    ngx_str_t                      device_id;
    ngx_http_cwmp_msg_t           *msg;
    ngx_http_cwmp_loc_conf_t      *lcf;
    ngx_http_cwmp_main_conf_t     *mcf;
    ngx_http_cwmp_store_inform_t  *inform;

    msg = &ctx->msg;
    device_id = ctx->claimed;

    inform = ngx_pcalloc(r->pool, sizeof(ngx_http_cwmp_store_inform_t));
    if (inform == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * The session the CPE still holds (its cookie, or its connection's)
     * is its own: this Inform replaces it.  Any other open session of the
     * device refuses this one.
     */

    if (ngx_http_cwmp_find_session(r, ctx) == NGX_OK
        && ctx->device_id.len == device_id.len
        && ngx_strncmp(ctx->device_id.data, device_id.data, device_id.len)
           == 0)
    {
        inform->held = ctx->token;
    }

    ctx->device_id = device_id;

    /* a new Inform always starts a new session, whatever cookie it has */

    if (ngx_http_cwmp_session_random_hex(ctx->token_data,
                                         NGX_HTTP_CWMP_TOKEN_LEN,
                                         r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->token.data = ctx->token_data;
    ctx->token.len = NGX_HTTP_CWMP_TOKEN_LEN;

    /*
     * The version: the highest of SupportedCWMPVersions the ACS speaks
     * (CWMP 1.4, answered with UseCWMPVersion), else the namespace's
     */

    if (msg->versions.len) {
        if (ngx_http_cwmp_session_negotiate(&msg->versions,
                                            &ctx->use_version)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "cwmp: no CWMP version in common with \"%V\"",
                          &msg->versions);
            return ngx_http_cwmp_fault(r, ctx, 8006,
                                       "ACS version incompatible with CPE");
        }

        inform->version = ctx->use_version;

    } else if (ngx_http_cwmp_session_version(r->pool, &msg->ns,
                                             &inform->version)
               != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    inform->device_id = ctx->device_id;
    inform->token = ctx->token;
    inform->msg = msg;
    inform->session_timeout = lcf->session_timeout;

    /* the CPE's own SessionTimeout, when longer (at most an hour) */

    timeout = ngx_atoi(msg->session_timeout.data, msg->session_timeout.len);

    if (timeout != NGX_ERROR && timeout <= 3600
        && (ngx_msec_t) timeout * 1000 > inform->session_timeout)
    {
        inform->session_timeout = (ngx_msec_t) timeout * 1000;
    }

    /* with policies in force, what they read comes back with the store */

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (mcf->policies.policies.nelts
        && ngx_http_cwmp_policy_inform(r, ctx, inform) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_cwmp_store_inform(r, inform, &ctx->turn,
                                    ngx_http_cwmp_inform_done);

    return ngx_http_cwmp_waiting(r, rc);
}


/*
 * The policies at an Inform: those its device's fields leave in play say
 * which cached values session_open.lua sends back with the store.
 */

static ngx_int_t
ngx_http_cwmp_policy_inform(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx,
    ngx_http_cwmp_store_inform_t *inform)
{
    ngx_str_t                  *name, *all;
    ngx_uint_t                  i, *k;
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (ngx_http_cwmp_store_fields(r, &ctx->msg, ctx->turn.inputs.device)
        != NGX_OK
        || ngx_http_cwmp_policy_candidates(r, &mcf->policies,
                                           ctx->turn.inputs.device,
                                           &ctx->device_id, &ctx->candidates,
                                           &ctx->object_index)
           != NGX_OK
        || ngx_array_init(&ctx->wanted, r->pool, ctx->candidates.nelts + 1,
                          sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&ctx->objects, r->pool,
                          ctx->object_index.nelts + 1, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    all = mcf->policies.objects.elts;
    k = ctx->object_index.elts;

    for (i = 0; i < ctx->object_index.nelts; i++) {
        name = ngx_array_push(&ctx->objects);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = all[k[i]];
    }

    all = mcf->policies.wanted.elts;
    k = ctx->candidates.elts;

    for (i = 0; i < ctx->candidates.nelts; i++) {
        name = ngx_array_push(&ctx->wanted);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = all[k[i]];
    }

    inform->wanted = &ctx->wanted;
    inform->campaigns = &mcf->policies.campaigns;
    inform->objects = &ctx->objects;
    inform->tags = mcf->policies.tags;

    return NGX_OK;
}


/* the values and objects read at the Inform, back in the policies' order */

static ngx_int_t
ngx_http_cwmp_policy_values(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx,
    ngx_http_cwmp_policies_t *policies)
{
    if (ngx_http_cwmp_policy_remap(r, &ctx->turn.inputs.values,
                                   &ctx->candidates, policies->wanted.nelts)
        != NGX_OK
        || ngx_http_cwmp_policy_remap(r, &ctx->turn.inputs.objects,
                                      &ctx->object_index,
                                      policies->objects.nelts)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * got holds one element per index, in index's order; it becomes an array
 * of total elements where element index[i] is got's i-th, zeroed elsewhere
 * (absent: what no candidate policy reads).
 */

static ngx_int_t
ngx_http_cwmp_policy_remap(ngx_http_request_t *r, ngx_array_t *got,
    ngx_array_t *index, ngx_uint_t total)
{
    u_char      *all;
    ngx_uint_t   i, *k;

    if (got->nelts != index->nelts) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "redis sent %ui policy inputs for %ui names",
                      got->nelts, index->nelts);
        return NGX_ERROR;
    }

    all = ngx_pcalloc(r->pool, (total + 1) * got->size);
    if (all == NULL) {
        return NGX_ERROR;
    }

    k = index->elts;

    for (i = 0; i < index->nelts; i++) {
        ngx_memcpy(all + k[i] * got->size, (u_char *) got->elts + i * got->size,
                   got->size);
    }

    got->elts = all;
    got->nelts = total;
    got->nalloc = total + 1;

    return NGX_OK;
}


static void
ngx_http_cwmp_inform_done(ngx_http_request_t *r, ngx_int_t rc)
{
    u_char                     *p;
    ngx_str_t                   out, cookie;
    ngx_http_cwmp_ctx_t        *ctx;
    ngx_http_cwmp_conn_t       *conn;
    ngx_http_cwmp_main_conf_t  *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: Inform refused, another session of the device "
                      "is in progress");
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_retry_later(r,
                                  "another session of this device is in "
                                  "progress, retry later\n", 0));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_unavailable(r));
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "cwmp inform stored, session %V", &ctx->token);

    /* the policies, evaluated at once: a plan waits for the ACS turn */

    if (ctx->turn.status == 1) {
        ctx->turn.status = 0;
        mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

        if (ngx_http_cwmp_policy_values(r, ctx, &mcf->policies) != NGX_OK) {
            ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (ngx_http_cwmp_policy_plan(r, &mcf->policies, &ctx->turn.inputs,
                                      &ctx->device_id, &ctx->step.plan,
                                      &ctx->step.ops)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "cwmp: policy evaluation failed");
            ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        if (ctx->step.plan.len != 2 || ctx->step.ops.len != 2) {
            rc = ngx_http_cwmp_store_plan(r, &ctx->device_id,
                                          &ctx->step.plan, &ctx->step.ops,
                                          ngx_http_cwmp_inform_done);

            rc = ngx_http_cwmp_waiting(r, rc);

            if (rc != NGX_DONE) {
                ngx_http_cwmp_finalize(r, rc);
            }

            return;
        }
    }

    if (ngx_http_cwmp_soap_inform_response(r, &ctx->msg, &ctx->use_version,
                                           &out)
        != NGX_OK)
    {
        ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* "cwmp_session=<token>.<device ID>": the ID is cookie-safe */

    cookie.len = sizeof(NGX_HTTP_CWMP_COOKIE_NAME "=.; Path=/; HttpOnly") - 1
                 + ctx->token.len + ctx->device_id.len;
    cookie.data = ngx_pnalloc(r->pool, cookie.len);
    if (cookie.data == NULL) {
        ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_cpymem(cookie.data, NGX_HTTP_CWMP_COOKIE_NAME "=",
                   sizeof(NGX_HTTP_CWMP_COOKIE_NAME "=") - 1);
    p = ngx_cpymem(p, ctx->token.data, ctx->token.len);
    *p++ = '.';
    p = ngx_cpymem(p, ctx->device_id.data, ctx->device_id.len);
    ngx_memcpy(p, "; Path=/; HttpOnly", sizeof("; Path=/; HttpOnly") - 1);

    if (ngx_http_cwmp_header(r, "Set-Cookie", &cookie) != NGX_OK) {
        ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    conn = ngx_http_cwmp_conn(r->connection, 1);
    if (conn) {
        ngx_memcpy(conn->token, ctx->token.data, NGX_HTTP_CWMP_TOKEN_LEN);
        ngx_memcpy(conn->device_id, ctx->device_id.data, ctx->device_id.len);
        conn->device_id_len = ctx->device_id.len;
        conn->active = 1;
    }

    ngx_str_set(&ctx->rpc_out, "InformResponse");

    ngx_http_cwmp_finalize(r, ngx_http_cwmp_send(r, NGX_HTTP_OK,
                                                 &ngx_http_cwmp_xml_type,
                                                 &out));
}


/*
 * CPE authentication at the Inform (cwmp_auth).  NGX_DECLINED: it is
 * authenticated, the session may open; NGX_DONE: Redis is asked for its
 * credentials; anything else answers the request (401, 403, 429).
 *
 * A connection authenticates once (TR-069 3.4.4): later Informs on it of
 * the same device need no credentials; the session cookie binds the
 * requests of a session to the device that authenticated.
 */

static ngx_int_t
ngx_http_cwmp_authenticate(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_uint_t                   tls;
    ngx_table_elt_t             *h;
    ngx_http_cwmp_conn_t        *conn;
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

    conn = ngx_http_cwmp_conn(r->connection, 0);

    if (conn && conn->authenticated
        && conn->device_id_len == ctx->claimed.len
        && ngx_strncmp(conn->device_id, ctx->claimed.data, ctx->claimed.len)
           == 0)
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
            if (ngx_http_cwmp_auth_is(ctx, lcf->auth_username, &identity)
                != NGX_OK)
            {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "cwmp: client certificate of \"%V\" used for "
                              "an Inform of another device", &identity);
                return ngx_http_cwmp_challenge(r, 0, NGX_HTTP_FORBIDDEN,
                                               "certificate of another "
                                               "device");
            }

            ngx_http_cwmp_authenticated(r, ctx);
            return NGX_DECLINED;
        }
    }

#endif

    if (!(lcf->auth & (NGX_HTTP_CWMP_AUTH_DIGEST|NGX_HTTP_CWMP_AUTH_BASIC))) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: no verified client certificate");
        return ngx_http_cwmp_challenge(r, 0, NGX_HTTP_FORBIDDEN,
                                       "a client certificate is required");
    }

    h = r->headers_in.authorization;

    if (h == NULL) {
        return ngx_http_cwmp_challenge(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       "no credentials");
    }

    rc = ctx->auth_checked ? NGX_OK
                           : ngx_http_cwmp_auth_parse(r->pool, &h->value,
                                                      &ctx->auth);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_cwmp_challenge(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       "malformed or unsupported "
                                       "Authorization");
    }

    if (ctx->auth.basic
        && (!(lcf->auth & NGX_HTTP_CWMP_AUTH_BASIC) || !tls))
    {
        return ngx_http_cwmp_challenge(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       tls ? "Basic is not accepted here"
                                           : "Basic refused without TLS");
    }

    if (!ctx->auth.basic && !(lcf->auth & NGX_HTTP_CWMP_AUTH_DIGEST)) {
        return ngx_http_cwmp_challenge(r, 0, NGX_HTTP_UNAUTHORIZED,
                                       "Digest is not accepted here");
    }

    /* the identity claimed must be the Inform's */

    if (ngx_http_cwmp_auth_is(ctx, lcf->auth_username, &ctx->auth.username)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cwmp: credentials of \"%V\" used for an Inform of "
                      "another device", &ctx->auth.username);
        return ngx_http_cwmp_challenge(r, 0, NGX_HTTP_FORBIDDEN,
                                       "credentials of another device");
    }

    q = &ctx->auth_store;
    q->device_id = ctx->claimed;
    q->addr = r->connection->addr_text;
    q->limit_device = mcf->auth_limit_device;
    q->limit_addr = mcf->auth_limit_addr;
    q->window = mcf->auth_window;
    q->nonce_timeout = mcf->auth_nonce_timeout;

    if (!ctx->auth.basic) {
        if (ngx_http_cwmp_auth_uri(&ctx->auth.uri, &r->unparsed_uri)
            != NGX_OK)
        {
            return ngx_http_cwmp_challenge(r, 0, NGX_HTTP_BAD_REQUEST,
                                           "digest uri is not the "
                                           "request's");
        }

        rc = ctx->auth_checked
             ? NGX_OK
             : ngx_http_cwmp_auth_nonce_check(&mcf->auth_secret,
                                              &r->connection->addr_text,
                                              &ctx->auth.nonce,
                                              mcf->auth_nonce_timeout);
        if (rc != NGX_OK) {
            return ngx_http_cwmp_challenge(r, 1, NGX_HTTP_UNAUTHORIZED,
                                           rc == NGX_AGAIN
                                           ? "nonce expired"
                                           : "nonce not issued to this "
                                             "address (or before a "
                                             "restart)");
        }

        q->nonce = ctx->auth.nonce;
        q->nc = ctx->auth.nc;
    }

    rc = ngx_http_cwmp_store_auth(r, q, ngx_http_cwmp_auth_done);

    return ngx_http_cwmp_waiting(r, rc);
}


/* what Redis said of the device: verified here (Redis has no MD5) */

static void
ngx_http_cwmp_auth_done(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_str_t                    value;
    ngx_http_cwmp_ctx_t         *ctx;
    ngx_http_cwmp_loc_conf_t    *lcf;
    ngx_http_cwmp_store_auth_t  *q;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    q = &ctx->auth_store;

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_unavailable(r));
        return;
    }

    if (q->status.len == 7 && ngx_strncmp(q->status.data, "limited", 7) == 0)
    {
        value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (value.data == NULL) {
            ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        value.len = ngx_sprintf(value.data, "%M", (q->retry + 999) / 1000)
                    - value.data;

        if (ngx_http_cwmp_header(r, "Retry-After", &value) != NGX_OK) {
            ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_cwmp_finalize(r, ngx_http_cwmp_challenge(r, 0,
                                  NGX_HTTP_TOO_MANY_REQUESTS,
                                  "too many failed attempts of the device "
                                  "or its address"));
        return;
    }

    if (q->status.len == 6 && ngx_strncmp(q->status.data, "replay", 6) == 0)
    {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_challenge(r, 1,
                                  NGX_HTTP_UNAUTHORIZED,
                                  "nonce count or nonce replayed"));
        return;
    }

    ngx_str_set(&value, "POST");

    rc = ngx_http_cwmp_auth_verify(r->pool, &ctx->auth, &lcf->auth_realm,
                                   &value, &q->creds, &lcf->auth_bootstrap);

    if (rc == NGX_ERROR) {
        ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc == NGX_DONE) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_challenge(r, 0,
                                  NGX_HTTP_FORBIDDEN,
                                  "no credentials for the device in Redis "
                                  "and no cwmp_auth_bootstrap"));
        return;
    }

    if (rc != NGX_OK) {
        /* counted against the device and the address, then challenged */

        q->fail = 1;

        rc = ngx_http_cwmp_store_auth(r, q, ngx_http_cwmp_auth_failed);

        if (rc != NGX_DONE) {
            ngx_http_cwmp_auth_failed(r, NGX_ERROR);
        }

        return;
    }

    ngx_http_cwmp_authenticated(r, ctx);

    rc = ngx_http_cwmp_inform_open(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_cwmp_finalize(r, rc);
    }
}


static void
ngx_http_cwmp_auth_failed(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_cwmp_finalize(r, ngx_http_cwmp_challenge(r, 0,
                              NGX_HTTP_UNAUTHORIZED, "wrong credentials"));
}


/* the connection is the device's: later Informs on it need nothing more */

static void
ngx_http_cwmp_authenticated(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_http_cwmp_conn_t  *conn;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "cwmp: authenticated as \"%V\"", &ctx->claimed);

    conn = ngx_http_cwmp_conn(r->connection, 1);

    if (conn == NULL || ctx->claimed.len > NGX_HTTP_CWMP_MAX_ID) {
        return;
    }

    if (conn->device_id_len != ctx->claimed.len
        || ngx_strncmp(conn->device_id, ctx->claimed.data, ctx->claimed.len)
           != 0)
    {
        /* the connection's session, if any, was another device's */
        conn->active = 0;
    }

    ngx_memcpy(conn->device_id, ctx->claimed.data, ctx->claimed.len);
    conn->device_id_len = ctx->claimed.len;
    conn->authenticated = 1;
}


/*
 * A request outside a session (no cookie, nothing on its connection) is
 * checked before its body is read, as far as that can be done without
 * the body: nothing to authenticate with (an empty POST too: HTTP clients
 * probe with one), credentials that do not parse, a nonce this ACS did not
 * issue to this address or that expired.  NGX_DECLINED: read the body
 * (what was parsed is kept in ctx); anything else: answered (the body
 * discarded).
 */

static ngx_int_t
ngx_http_cwmp_auth_early(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    char                       *reason;
    ngx_int_t                   rc;
    ngx_str_t                   token, device_id;
    ngx_uint_t                  stale;
    ngx_http_cwmp_conn_t       *conn;
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

    conn = ngx_http_cwmp_conn(r->connection, 0);

    if ((conn && (conn->active || conn->authenticated))
        || ngx_http_cwmp_session_cookie(r, &token, &device_id) == NGX_OK)
    {
        return NGX_DECLINED;
    }

    stale = 0;

    if (r->headers_in.authorization == NULL) {
        reason = "no credentials";

    } else {
        rc = ngx_http_cwmp_auth_parse(r->pool,
                                      &r->headers_in.authorization->value,
                                      &ctx->auth);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            reason = "malformed or unsupported Authorization";

        } else if (ctx->auth.basic) {
            ctx->auth_checked = 1;
            return NGX_DECLINED;

        } else {
            rc = ngx_http_cwmp_auth_nonce_check(&mcf->auth_secret,
                                                &r->connection->addr_text,
                                                &ctx->auth.nonce,
                                                mcf->auth_nonce_timeout);
            if (rc == NGX_OK) {
                /* the Inform does not parse or check them again */
                ctx->auth_checked = 1;
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

    return ngx_http_cwmp_challenge(r, stale, NGX_HTTP_UNAUTHORIZED, reason);
}


/*
 * A name (username, certificate CN) is the Inform's device: its device ID
 * (or TR-069's OUI-ProductClass-SerialNumber, unescaped), or its serial
 * number
 */

static ngx_int_t
ngx_http_cwmp_auth_is(ngx_http_cwmp_ctx_t *ctx, ngx_uint_t mode,
    ngx_str_t *name)
{
    u_char               *p, *last;
    ngx_http_cwmp_msg_t  *msg;

    msg = &ctx->msg;

    if (mode == NGX_HTTP_CWMP_AUTH_ID_SERIAL) {
        return (name->len == msg->serial_number.len
                && ngx_strncmp(name->data, msg->serial_number.data,
                               name->len) == 0)
               ? NGX_OK : NGX_DECLINED;
    }

    if (name->len == ctx->claimed.len
        && ngx_strncmp(name->data, ctx->claimed.data, name->len) == 0)
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


/*
 * 401 with the challenges this location offers (Digest MD5 first, which
 * every CPE speaks, then SHA-256; Basic over TLS when allowed), or 403 /
 * 429 / 400 with a reason; one log line each
 */

static ngx_int_t
ngx_http_cwmp_challenge(ngx_http_request_t *r, ngx_uint_t stale,
    ngx_uint_t status, char *reason)
{
    u_char                     *p, nonce[NGX_HTTP_CWMP_NONCE_LEN];
    size_t                      len;
    ngx_str_t                   value, body;
    ngx_uint_t                  i, level;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    static char  *algorithms[] = { "MD5", "SHA-256" };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    /* a CPE's mistake is info; a device's identity misused, or a lock-out,
     * is worth an operator's attention */

    level = (status == NGX_HTTP_FORBIDDEN
             || status == NGX_HTTP_TOO_MANY_REQUESTS)
            ? NGX_LOG_WARN : NGX_LOG_INFO;

    ngx_log_error(level, r->connection->log, 0,
                  "cwmp: authentication refused (%ui): %s", status, reason);

    if (status == NGX_HTTP_UNAUTHORIZED) {

        if (lcf->auth & NGX_HTTP_CWMP_AUTH_DIGEST) {
            ngx_http_cwmp_auth_nonce(&mcf->auth_secret,
                                     &r->connection->addr_text, nonce);

            for (i = 0; i < 2; i++) {
#if !(NGX_OPENSSL)
                if (i == 1) {
                    break;
                }
#endif
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
                                &lcf->auth_realm, algorithms[i],
                                (size_t) NGX_HTTP_CWMP_NONCE_LEN, nonce);

                if (stale) {
                    p = ngx_cpymem(p, ", stale=true",
                                   sizeof(", stale=true") - 1);
                }

                value.len = p - value.data;

                if (ngx_http_cwmp_header(r, "WWW-Authenticate", &value)
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

            if (ngx_http_cwmp_header(r, "WWW-Authenticate", &value)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
#endif
    }

    body.data = (u_char *) reason;
    body.len = ngx_strlen(reason);

    return ngx_http_cwmp_send_text(r, status, &body);
}


/* the CPE has nothing more to ask: the ACS turn begins */

static ngx_int_t
ngx_http_cwmp_empty_post(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    if (ngx_http_cwmp_find_session(r, ctx) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: empty POST outside a session");
        return ngx_http_cwmp_send(r, NGX_HTTP_NO_CONTENT, NULL, NULL);
    }

    return ngx_http_cwmp_step(r, ctx, NULL, NULL);
}


/*
 * One step of the ACS turn, one Redis round trip: store the outcome of the
 * task in flight (none when the turn begins) and learn the next task,
 * which will carry a fresh cwmp:ID.
 */

static ngx_int_t
ngx_http_cwmp_step(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx,
    ngx_str_t *answered, ngx_http_cwmp_outcome_t *outcome)
{
    ngx_int_t                   rc;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    if (answered) {
        ctx->step.answered = *answered;

    } else {
        ngx_str_null(&ctx->step.answered);
    }

    if (ngx_http_cwmp_session_random_hex(ctx->rpc_id,
                                         NGX_HTTP_CWMP_RPC_ID_LEN,
                                         r->connection->log)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->step.device_id = ctx->device_id;
    ctx->step.token = ctx->token;
    ctx->step.rpc_id.data = ctx->rpc_id;
    ctx->step.rpc_id.len = NGX_HTTP_CWMP_RPC_ID_LEN;
    ctx->step.session_timeout = lcf->session_timeout;
    ctx->step.outcome = outcome;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    /*
     * The names of the values the policies read go along when a task's
     * outcome may start an evaluation; at the turn's beginning Redis asks
     * for them in the rare case it needs them (a failed transfer).
     */

    ctx->step.rounds = mcf->policies.policies.nelts
                       ? NGX_HTTP_CWMP_POLICY_ROUNDS : 0;
    ctx->step.wanted = outcome ? &mcf->policies.wanted : NULL;
    ctx->step.campaigns = &mcf->policies.campaigns;
    ctx->step.objects = &mcf->policies.objects;
    ctx->step.backoff_cap = mcf->policies.backoff_cap;
    ngx_str_null(&ctx->step.plan);
    ngx_str_null(&ctx->step.ops);

    rc = ngx_http_cwmp_store_step(r, &ctx->step, &ctx->turn,
                                  ngx_http_cwmp_step_done);

    return ngx_http_cwmp_waiting(r, rc);
}


/*
 * The policies' turn (no queued task left): what they want of the device,
 * evaluated against what Redis sent, goes back in the same step's second
 * call, which hands out the first of those tasks or ends the session.
 */

static ngx_int_t
ngx_http_cwmp_policies(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (ngx_http_cwmp_policy_plan(r, &mcf->policies, &ctx->turn.inputs,
                                  &ctx->device_id, &ctx->step.plan,
                                  &ctx->step.ops)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cwmp: policy evaluation failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* lengths only: a plan may carry credentials */

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "cwmp policies: plan of %uz bytes, ops of %uz",
                   ctx->step.plan.len, ctx->step.ops.len);

    /* nothing wanted: the session is over, its key expires on its own */

    if (ctx->step.plan.len == 2 && ctx->step.ops.len == 2) {
        ngx_http_cwmp_session_over(r);
        return NGX_DONE;
    }

    ctx->step.outcome = NULL;
    ngx_str_null(&ctx->step.answered);

    rc = ngx_http_cwmp_store_step(r, &ctx->step, &ctx->turn,
                                  ngx_http_cwmp_step_done);

    return ngx_http_cwmp_waiting(r, rc);
}


static void
ngx_http_cwmp_step_done(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_cwmp_ctx_t        *ctx;
    ngx_http_cwmp_main_conf_t  *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_unavailable(r));
        return;
    }

    switch (ctx->turn.status) {

    case 1:
        break;

    case 2:
        rc = ngx_http_cwmp_policies(r, ctx);

        if (rc != NGX_DONE) {
            ngx_http_cwmp_finalize(r, rc);
        }

        return;

    case 3:
        /* the policies' names, asked for: the same step again with them */
        mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);
        ctx->step.wanted = &mcf->policies.wanted;

        rc = ngx_http_cwmp_waiting(r, ngx_http_cwmp_store_step(r, &ctx->step,
                                          &ctx->turn,
                                          ngx_http_cwmp_step_done));
        if (rc != NGX_DONE) {
            ngx_http_cwmp_finalize(r, rc);
        }

        return;

    case 0:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: the session is unknown, expired or another's");
        ngx_http_cwmp_session_over(r);
        return;

    default:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: protocol error: \"%V\" with cwmp:ID \"%V\" "
                      "does not answer the request in flight",
                      &ctx->msg.method, &ctx->msg.id);
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_refuse_text(r,
                                  "the answer is not to the request in "
                                  "flight"));
        return;
    }

    if (ctx->turn.task.len == 0) {
        /* nothing left for the CPE: the session is over */
        ngx_http_cwmp_session_over(r);
        return;
    }

    rc = ngx_http_cwmp_dispatch(r, ctx);

    if (rc == NGX_DONE) {
        return;
    }

    ngx_http_cwmp_finalize(r, rc);
}


/* the ACS request for the next task, or its outcome when it cannot run */

static ngx_int_t
ngx_http_cwmp_dispatch(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t   body, out, id;

    rc = ngx_http_cwmp_task_request(r, &ctx->turn.task, &ctx->turn.types,
                                    &body, &ctx->outcome);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* a fault result for it, and on to the next task */

        if (++ctx->skipped > NGX_HTTP_CWMP_MAX_SKIPPED) {
            return ngx_http_cwmp_unavailable(r);
        }

        id.len = NGX_HTTP_CWMP_RPC_ID_LEN;
        id.data = ngx_pnalloc(r->pool, id.len);
        if (id.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(id.data, ctx->rpc_id, id.len);

        return ngx_http_cwmp_step(r, ctx, &id, &ctx->outcome);
    }

    /* a session stored before the namespace was: the 1.0 one */

    if (ctx->turn.ns.len == 0) {
        ngx_str_set(&ctx->turn.ns, "urn:dslforum-org:cwmp-1-0");
    }

    id.data = ctx->rpc_id;
    id.len = NGX_HTTP_CWMP_RPC_ID_LEN;

    if (ngx_http_cwmp_soap_request(r, &ctx->turn.ns, &id, &body, &out)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->rpc_out = ctx->outcome.request;

    return ngx_http_cwmp_send(r, NGX_HTTP_OK, &ngx_http_cwmp_xml_type, &out);
}


/* 204: the session ends (or was not there); the connection forgets it */

static void
ngx_http_cwmp_session_over(ngx_http_request_t *r)
{
    ngx_http_cwmp_conn_t  *conn;

    conn = ngx_http_cwmp_conn(r->connection, 0);
    if (conn) {
        conn->active = 0;
    }

    ngx_http_cwmp_finalize(r, ngx_http_cwmp_send(r, NGX_HTTP_NO_CONTENT, NULL,
                                                 NULL));
}


/* CPE requests other than Inform, responses and faults */

static ngx_int_t
ngx_http_cwmp_other(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_str_t             reason;
    ngx_http_cwmp_msg_t  *msg;

    msg = &ctx->msg;

    if (ngx_http_cwmp_find_session(r, ctx) != NGX_OK) {

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: \"%V\" outside a session, Inform must come "
                      "first", &msg->method);

        if (msg->type == NGX_HTTP_CWMP_MSG_REQUEST) {
            return ngx_http_cwmp_fault(r, ctx, 8003,
                                       "Invalid arguments: a session must "
                                       "start with Inform");
        }

        ngx_str_set(&reason, "a session must start with Inform");
        return ngx_http_cwmp_refuse(r, NGX_HTTP_BAD_REQUEST, &reason);
    }

    if (msg->type == NGX_HTTP_CWMP_MSG_REQUEST) {
        return ngx_http_cwmp_cpe_request(r, ctx);
    }

    /* the CPE's answer to the task in flight */

    if (ngx_http_cwmp_task_outcome(r, msg, &ctx->outcome) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!msg->has_id) {
        ngx_str_null(&msg->id);
    }

    return ngx_http_cwmp_step(r, ctx, &msg->id, &ctx->outcome);
}


/*
 * The CPE -> ACS methods besides Inform: each recorded in cwmp:requests
 * (session_cpe.lua) and answered; any other gets fault 8000 and the
 * session goes on.
 */

static char  *ngx_http_cwmp_cpe_methods[] = {
    "GetRPCMethods",
    "TransferComplete",
    "AutonomousTransferComplete",
    "RequestDownload",
    "Kicked",
    "DUStateChangeComplete",
    "AutonomousDUStateChangeComplete",
    NULL
};


static ngx_int_t
ngx_http_cwmp_cpe_request(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t                  rc;
    ngx_str_t                  args, command_key;
    ngx_uint_t                 i;
    xmlNodePtr                 node;
    ngx_http_cwmp_msg_t       *msg;
    ngx_http_cwmp_loc_conf_t  *lcf;

    msg = &ctx->msg;

    for (i = 0; ngx_http_cwmp_cpe_methods[i]; i++) {
        if (ngx_strcmp(msg->method.data, ngx_http_cwmp_cpe_methods[i]) == 0) {
            break;
        }
    }

    if (ngx_http_cwmp_cpe_methods[i] == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: method \"%V\" not supported", &msg->method);
        return ngx_http_cwmp_fault(r, ctx, 8000, "Method not supported");
    }

    if (ngx_http_cwmp_task_args(r, msg->rpc, &args) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    ctx->step.device_id = ctx->device_id;
    ctx->step.token = ctx->token;
    ctx->step.session_timeout = lcf->session_timeout;

    if (ngx_strcmp(msg->method.data, "TransferComplete") == 0) {
        if (ngx_http_cwmp_task_transfer_complete(r, msg->rpc, &command_key,
                                                 &ctx->outcome)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_cwmp_store_cpe_request(r, &ctx->step, &msg->method,
                                             &args, &command_key,
                                             &ctx->outcome,
                                             ngx_http_cwmp_cpe_request_done);

    } else if (ngx_strcmp(msg->method.data, "DUStateChangeComplete") == 0) {

        /* the changeDUState it names is done: its Results are the result */

        node = ngx_http_cwmp_soap_arg(msg->rpc, "CommandKey");

        if (node == NULL
            || ngx_http_cwmp_soap_text(r->pool, node, &command_key, 1)
               != NGX_OK)
        {
            ngx_str_null(&command_key);
        }

        ngx_memzero(&ctx->outcome, sizeof(ngx_http_cwmp_outcome_t));
        ngx_str_set(&ctx->outcome.status, "done");
        ctx->outcome.result = args;

        rc = ngx_http_cwmp_store_cpe_request(r, &ctx->step, &msg->method,
                                             &args, &command_key,
                                             &ctx->outcome,
                                             ngx_http_cwmp_cpe_request_done);

    } else {
        rc = ngx_http_cwmp_store_cpe_request(r, &ctx->step, &msg->method,
                                             &args, NULL, NULL,
                                             ngx_http_cwmp_cpe_request_done);
    }

    return ngx_http_cwmp_waiting(r, rc);
}


static void
ngx_http_cwmp_cpe_request_done(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_str_t             out, body, next;
    xmlNodePtr            node;
    ngx_http_cwmp_ctx_t  *ctx;

    static ngx_str_t  methods = ngx_string(
        "<cwmp:GetRPCMethodsResponse>" CRLF
        "<MethodList soap-enc:arrayType=\"xsd:string[8]\">" CRLF
        "<string>Inform</string>" CRLF
        "<string>GetRPCMethods</string>" CRLF
        "<string>TransferComplete</string>" CRLF
        "<string>AutonomousTransferComplete</string>" CRLF
        "<string>RequestDownload</string>" CRLF
        "<string>Kicked</string>" CRLF
        "<string>DUStateChangeComplete</string>" CRLF
        "<string>AutonomousDUStateChangeComplete</string>" CRLF
        "</MethodList>" CRLF
        "</cwmp:GetRPCMethodsResponse>" CRLF);

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: \"%V\" in a session unknown, expired or "
                      "another's", &ctx->msg.method);
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_fault(r, ctx, 8003,
                                  "Invalid arguments: a session must start "
                                  "with Inform"));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_unavailable(r));
        return;
    }

    if (ngx_strcmp(ctx->msg.method.data, "GetRPCMethods") == 0) {
        body = methods;

    } else {
        /* <cwmp:MethodResponse/>; Kicked answers the Next URL it got */

        ngx_str_null(&next);

        node = ngx_strcmp(ctx->msg.method.data, "Kicked") == 0
               ? ngx_http_cwmp_soap_arg(ctx->msg.rpc, "Next") : NULL;

        if (node
            && ngx_http_cwmp_soap_text(r->pool, node, &next, 1) != NGX_OK)
        {
            ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        body.len = 2 * ctx->msg.method.len
                   + sizeof("<cwmp:Response>" CRLF "</cwmp:Response>" CRLF
                            "<NextURL></NextURL>" CRLF) - 1
                   + next.len + ngx_escape_html(NULL, next.data, next.len);

        body.data = ngx_pnalloc(r->pool, body.len);
        if (body.data == NULL) {
            ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        out.data = ngx_sprintf(body.data, "<cwmp:%VResponse>" CRLF,
                               &ctx->msg.method);

        if (node) {
            out.data = ngx_cpymem(out.data, "<NextURL>",
                                  sizeof("<NextURL>") - 1);
            out.data = (u_char *) ngx_escape_html(out.data, next.data,
                                                  next.len);
            out.data = ngx_cpymem(out.data, "</NextURL>" CRLF,
                                  sizeof("</NextURL>" CRLF) - 1);
        }

        out.data = ngx_sprintf(out.data, "</cwmp:%VResponse>" CRLF,
                               &ctx->msg.method);
        body.len = out.data - body.data;
    }

    if (ngx_http_cwmp_soap_answer(r, &ctx->msg, &body, &out) != NGX_OK) {
        ngx_http_cwmp_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->rpc_out.len = ctx->msg.method.len + sizeof("Response") - 1;
    ctx->rpc_out.data = ngx_pnalloc(r->pool, ctx->rpc_out.len);
    if (ctx->rpc_out.data) {
        ngx_sprintf(ctx->rpc_out.data, "%VResponse", &ctx->msg.method);
    }

    ngx_http_cwmp_finalize(r, ngx_http_cwmp_send(r, NGX_HTTP_OK,
                                                 &ngx_http_cwmp_xml_type,
                                                 &out));
}


/* the session: the cookie first, else the one bound to the connection */

static ngx_int_t
ngx_http_cwmp_find_session(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_http_cwmp_conn_t  *conn;

    if (ngx_http_cwmp_session_cookie(r, &ctx->token, &ctx->device_id)
        == NGX_OK)
    {
        return NGX_OK;
    }

    conn = ngx_http_cwmp_conn(r->connection, 0);

    if (conn == NULL || !conn->active) {
        return NGX_DECLINED;
    }

    ctx->token.data = conn->token;
    ctx->token.len = NGX_HTTP_CWMP_TOKEN_LEN;
    ctx->device_id.data = conn->device_id;
    ctx->device_id.len = conn->device_id_len;

    return NGX_OK;
}


/* what a store call's result means for the request */

static ngx_int_t
ngx_http_cwmp_waiting(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_DECLINED) {
        return ngx_http_cwmp_unavailable(r);
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;      /* the store's handler finalizes */
}


static ngx_int_t
ngx_http_cwmp_fault(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx,
    ngx_uint_t code, char *text)
{
    ngx_str_t  out;

    if (ngx_http_cwmp_soap_fault(r, &ctx->msg, code, text, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_set(&ctx->rpc_out, "Fault");

    /* SOAP 1.1 over HTTP carries a fault in a 500 response */

    return ngx_http_cwmp_send(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                              &ngx_http_cwmp_xml_type, &out);
}


static ngx_int_t
ngx_http_cwmp_unavailable(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: redis unavailable, answering 503");

    return ngx_http_cwmp_retry_later(r,
                                     "ACS storage unavailable, retry later\n",
                                     0);
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
    ngx_str_t                   token, device_id;
    ngx_uint_t                  pending, limit;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (lcf->shed_pending == 0 || r->headers_in.content_length_n == 0) {
        return NGX_DECLINED;
    }

    /* hysteresis: once shedding, until the queue is down to half */

    pending = ngx_http_cwmp_redis_pending(mcf->node);
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

    if (ngx_http_cwmp_session_cookie(r, &token, &device_id) == NGX_OK
        || ngx_http_cwmp_conn(r->connection, 0) != NULL)
    {
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

    return NGX_OK;
}


/* 503 with Retry-After */

static ngx_int_t
ngx_http_cwmp_retry_later(ngx_http_request_t *r, char *text, time_t after)
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

    if (ngx_http_cwmp_header(r, "Retry-After", &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cwmp_send(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                              &ngx_http_cwmp_text_type, &body);
}


static ngx_int_t
ngx_http_cwmp_refuse(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *reason)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: refused: %V", reason);

    return ngx_http_cwmp_send_text(r, status, reason);
}


/* "cwmp: <reason>\n", text/plain */

static ngx_int_t
ngx_http_cwmp_send_text(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *reason)
{
    ngx_str_t  body;

    body.len = sizeof("cwmp: \n") - 1 + reason->len;
    body.data = ngx_pnalloc(r->pool, body.len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(body.data, "cwmp: %V\n", reason);

    return ngx_http_cwmp_send(r, status, &ngx_http_cwmp_text_type, &body);
}


static ngx_int_t
ngx_http_cwmp_refuse_text(ngx_http_request_t *r, char *reason)
{
    ngx_str_t  s;

    s.data = (u_char *) reason;
    s.len = ngx_strlen(reason);

    return ngx_http_cwmp_refuse(r, NGX_HTTP_BAD_REQUEST, &s);
}


static ngx_int_t
ngx_http_cwmp_send(ngx_http_request_t *r, ngx_uint_t status, ngx_str_t *type,
    ngx_str_t *body)
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


static ngx_int_t
ngx_http_cwmp_header(ngx_http_request_t *r, char *name, ngx_str_t *value)
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


/* the single finalize point; safe from Redis callbacks */

static void
ngx_http_cwmp_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
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


static void
ngx_http_cwmp_conn_cleanup(void *data)
{
    /* a marker: the data goes with the connection's pool */
}


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

    /* server, request, host...: nginx's context first */

    p = ctx->log_handler ? ctx->log_handler(r, sr, buf, len) : buf;

    if (ctx->device_id.len == 0) {
        return p;
    }

    len -= p - buf;

    return ngx_snprintf(p, len, ", device: \"%V\"", &ctx->device_id);
}


/*
 * $cwmp_device_id, $cwmp_session_id (the token's first 8 hex digits: enough
 * to follow a session through the log, useless to take it over),
 * $cwmp_rpc ("<what the CPE sent>><what the ACS answered>", "-" for
 * nothing: "Inform>InformResponse", "->GetParameterValues"), $cwmp_events.
 */

static ngx_http_variable_t  ngx_http_cwmp_vars[] = {

    { ngx_string("cwmp_device_id"), NULL, ngx_http_cwmp_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cwmp_session_id"), NULL, ngx_http_cwmp_variable, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cwmp_rpc"), NULL, ngx_http_cwmp_variable, 2,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cwmp_events"), NULL, ngx_http_cwmp_variable, 3,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_cwmp_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_cwmp_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                 *p;
    size_t                  len;
    ngx_str_t               in, out;
    ngx_uint_t              i;
    ngx_http_cwmp_ctx_t    *ctx;
    ngx_http_cwmp_event_t  *ev;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case 0:
        v->data = ctx->device_id.data;
        v->len = ctx->device_id.len;
        break;

    case 1:
        v->data = ctx->token.data;
        v->len = ngx_min(ctx->token.len, 8);
        break;

    case 2:
        in = ctx->msg.method;
        out = ctx->rpc_out;

        if (in.len == 0) {
            ngx_str_set(&in, "-");
        }

        if (out.len == 0) {
            ngx_str_set(&out, "-");
        }

        p = ngx_pnalloc(r->pool, in.len + 1 + out.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        p = ngx_cpymem(p, in.data, in.len);
        *p++ = '>';
        p = ngx_cpymem(p, out.data, out.len);
        v->len = p - v->data;
        break;

    default: /* 3 */

        if (ctx->msg.type != NGX_HTTP_CWMP_MSG_INFORM
            || ctx->msg.events.nelts == 0)
        {
            v->not_found = 1;
            return NGX_OK;
        }

        ev = ctx->msg.events.elts;
        len = 0;

        for (i = 0; i < ctx->msg.events.nelts; i++) {
            len += ev[i].code.len + 1;
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;

        for (i = 0; i < ctx->msg.events.nelts; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, ev[i].code.data, ev[i].code.len);
        }

        v->len = p - v->data;
        break;
    }

    if (v->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * Copyright (C) ngx_cwmp authors
 *
 * The CWMP session (TR-069 3.7).  Each request of a session is one message
 * and one Redis round trip:
 *
 *   Inform         the CPE authenticated (access), the device stored and
 *                  its session opened (session_open.lua), the policies
 *                  evaluated at once; InformResponse with the cookie
 *   CPE requests   recorded (session_cpe.lua) and answered, the session
 *                  goes on
 *   empty POST     the ACS turn begins: session_step.lua hands out the
 *                  next task, sent as an ACS request
 *   CPE answers    the outcome of the task in flight stored, the next
 *                  task handed out, until none is left (and the policies
 *                  have had their turn): 204
 *
 * CWMP Faults are answers like any other; HTTP is response.c's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_conn.h"
#include "ngx_http_cwmp_file_access.h"
#include "ngx_http_cwmp_outcome.h"
#include "ngx_http_cwmp_response.h"
#include "ngx_http_cwmp_session.h"


/* tasks that cannot be sent, dropped in one exchange before a 503 */
#define NGX_HTTP_CWMP_MAX_SKIPPED  64


static ngx_int_t ngx_http_cwmp_session_inform(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_session_open(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_session_candidates(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx, ngx_http_cwmp_store_inform_t *inform);
static ngx_int_t ngx_http_cwmp_session_inputs(ngx_http_cwmp_ctx_t *ctx,
    ngx_http_cwmp_policies_t *policies);
static ngx_int_t ngx_http_cwmp_session_remap(ngx_http_cwmp_ctx_t *ctx,
    ngx_array_t *got, ngx_array_t *index, ngx_uint_t total);
static void ngx_http_cwmp_session_opened(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_session_inform_response(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_session_empty_post(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_session_step(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx, ngx_str_t *answered,
    ngx_http_cwmp_outcome_t *outcome);
static void ngx_http_cwmp_session_stepped(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_session_policies(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_session_plan(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_session_dispatch(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_session_file(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static void ngx_http_cwmp_session_file_read(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_session_over(ngx_http_request_t *r);
static ngx_int_t ngx_http_cwmp_session_cpe(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_session_cpe_request(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static void ngx_http_cwmp_session_cpe_recorded(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_cwmp_session_next(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_session_fault(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx, ngx_uint_t code, char *text);


/*
 * The CPE -> ACS methods (TR-069 A.4): Inform opens the session, the
 * others are recorded in cwmp:requests (session_cpe.lua) and answered;
 * any other gets fault 8000 and the session goes on.  GetRPCMethods
 * answers with this list.
 */

static char  *ngx_http_cwmp_cpe_methods[] = {
    "Inform",
    "GetRPCMethods",
    "TransferComplete",
    "AutonomousTransferComplete",
    "RequestDownload",
    "Kicked",
    "DUStateChangeComplete",
    "AutonomousDUStateChangeComplete",
    NULL
};


ngx_http_cwmp_ctx_t *
ngx_http_cwmp_session_ctx(ngx_http_request_t *r)
{
    ngx_http_cwmp_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_cwmp_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->owner.pool = r->pool;
    ctx->owner.log = r->connection->log;
    ctx->owner.data = r;

    ngx_http_set_ctx(r, ctx, ngx_http_cwmp_module);

    return ctx;
}


ngx_int_t
ngx_http_cwmp_session_message(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_int_t             rc;
    ngx_uint_t            i;
    ngx_http_cwmp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    for (i = 0; i < body->len; i++) {
        if (body->data[i] != ' ' && body->data[i] != '\t'
            && body->data[i] != CR && body->data[i] != LF)
        {
            break;
        }
    }

    if (i == body->len) {
        return ngx_http_cwmp_session_empty_post(r, ctx);
    }

    rc = ngx_http_cwmp_soap_parse(r->pool, body->data, body->len, &ctx->msg);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_cwmp_response_refuse(r, &ctx->msg.error);
    }

    if (ctx->msg.type == NGX_HTTP_CWMP_MSG_INFORM) {
        return ngx_http_cwmp_session_inform(r, ctx);
    }

    return ngx_http_cwmp_session_cpe(r, ctx);
}


static ngx_int_t
ngx_http_cwmp_session_inform(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
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
        ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_SESSION_REFUSED);
        return ngx_http_cwmp_session_fault(r, ctx, 8003,
                                           "Invalid arguments: DeviceId "
                                           "needs OUI and SerialNumber, each "
                                           "at most 64 characters");
    }

    if (ngx_http_cwmp_device_id(r->pool, &msg->oui, &msg->product_class,
                                &msg->serial_number, &ctx->device_id)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the log lines of the authentication name the device */

    rc = ngx_http_cwmp_access_inform(r, &ctx->access, msg, &ctx->device_id,
                                     ngx_http_cwmp_session_open);

    if (rc != NGX_DECLINED) {
        /* waiting for Redis, or refused */
        return rc;
    }

    return ngx_http_cwmp_session_open(r);
}


/* an Inform from a CPE that authenticated: its session opens */

static ngx_int_t
ngx_http_cwmp_session_open(ngx_http_request_t *r)
{
    ngx_int_t                      rc, timeout;
    ngx_str_t                      device_id, token, held_id;
    ngx_http_cwmp_ctx_t           *ctx;
    ngx_http_cwmp_msg_t           *msg;
    ngx_http_cwmp_loc_conf_t      *lcf;
    ngx_http_cwmp_main_conf_t     *mcf;
    ngx_http_cwmp_store_inform_t  *inform;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    msg = &ctx->msg;
    device_id = ctx->device_id;

    inform = ngx_pcalloc(r->pool, sizeof(ngx_http_cwmp_store_inform_t));
    if (inform == NULL) {
        return NGX_ERROR;
    }

    /*
     * The session the CPE still holds (its cookie, or its connection's)
     * is its own: this Inform replaces it.  Any other open session of the
     * device refuses this one.
     */

    if (ngx_http_cwmp_conn_session(r, 0, &token, &held_id) == NGX_OK
        && held_id.len == device_id.len
        && ngx_strncmp(held_id.data, device_id.data, device_id.len) == 0)
    {
        inform->held = token;
    }

    /* a new Inform always starts a new session, whatever cookie it has */

    if (ngx_http_cwmp_random_hex(ctx->token_data, NGX_HTTP_CWMP_TOKEN_LEN,
                                 r->connection->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->token.data = ctx->token_data;
    ctx->token.len = NGX_HTTP_CWMP_TOKEN_LEN;

    /*
     * The version: the highest of SupportedCWMPVersions the ACS speaks
     * (CWMP 1.4, answered with UseCWMPVersion), else the namespace's
     */

    if (msg->versions.len) {
        if (ngx_http_cwmp_version_negotiate(&msg->versions,
                                            &ctx->use_version)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "cwmp: no CWMP version in common with \"%V\"",
                          &msg->versions);
            return ngx_http_cwmp_session_fault(r, ctx, 8006,
                                               "ACS version incompatible "
                                               "with CPE");
        }

        inform->version = ctx->use_version;

    } else if (ngx_http_cwmp_version_of_ns(r->pool, &msg->ns,
                                           &inform->version)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    inform->device_id = ctx->device_id;
    inform->token = ctx->token;
    inform->remote_addr = r->connection->addr_text;
    inform->msg = msg;
    inform->session_timeout = lcf->session_timeout;
    inform->takeover = lcf->session_takeover;
    inform->transfer_timeout = lcf->transfer_timeout;

    /* the CPE's own SessionTimeout, when longer (at most an hour) */

    timeout = ngx_atoi(msg->session_timeout.data, msg->session_timeout.len);

    if (timeout != NGX_ERROR && timeout <= 3600
        && (ngx_msec_t) timeout * 1000 > inform->session_timeout)
    {
        inform->session_timeout = (ngx_msec_t) timeout * 1000;
    }

    /* with policies in force, what they read comes back with the store */

    if (mcf->policies.policies.nelts
        && ngx_http_cwmp_session_candidates(r, ctx, inform) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->inform = inform;

    rc = ngx_http_cwmp_store_inform(&mcf->store, &ctx->owner, inform,
                                    &ctx->turn, ngx_http_cwmp_session_opened);

    return ngx_http_cwmp_response_store(r, rc);
}


/*
 * The policies at an Inform: those its device's fields leave in play say
 * which cached values session_open.lua sends back with the store.
 */

static ngx_int_t
ngx_http_cwmp_session_candidates(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx, ngx_http_cwmp_store_inform_t *inform)
{
    ngx_str_t                  *name, *all;
    ngx_uint_t                  i, *k;
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (ngx_http_cwmp_store_fields(r->pool, &ctx->msg,
                                   ctx->turn.inputs.device)
        != NGX_OK
        || ngx_http_cwmp_policy_candidates(r->pool, &mcf->policies,
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
ngx_http_cwmp_session_inputs(ngx_http_cwmp_ctx_t *ctx,
    ngx_http_cwmp_policies_t *policies)
{
    if (ngx_http_cwmp_session_remap(ctx, &ctx->turn.inputs.values,
                                    &ctx->candidates, policies->wanted.nelts)
        != NGX_OK
        || ngx_http_cwmp_session_remap(ctx, &ctx->turn.inputs.objects,
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
ngx_http_cwmp_session_remap(ngx_http_cwmp_ctx_t *ctx, ngx_array_t *got,
    ngx_array_t *index, ngx_uint_t total)
{
    u_char      *all;
    ngx_uint_t   i, *k;

    if (got->nelts != index->nelts) {
        ngx_log_error(NGX_LOG_ALERT, ctx->owner.log, 0,
                      "redis sent %ui policy inputs for %ui names",
                      got->nelts, index->nelts);
        return NGX_ERROR;
    }

    all = ngx_pcalloc(ctx->owner.pool, (total + 1) * got->size);
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


/* the Inform stored; a plan of the policies stored, the second time */

static void
ngx_http_cwmp_session_opened(void *data, ngx_int_t rc)
{
    ngx_http_request_t *r = data;

    ngx_http_cwmp_ctx_t        *ctx;
    ngx_http_cwmp_main_conf_t  *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (rc == NGX_BUSY) {
        ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_BUSY);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: Inform refused, another session of the device "
                      "is in progress");
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_response_retry_later(r,
                                  "another session of this device is in "
                                  "progress, retry later\n", 0));
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (rc == NGX_AGAIN && !ctx->inform->whole) {
        /* Redis has other parameters than the steady Inform's: all of it */
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "cwmp inform sent again, whole");

        ngx_http_cwmp_metric(NGX_HTTP_CWMP_M_INFORMS_AGAIN);
        ctx->inform->whole = 1;

        rc = ngx_http_cwmp_store_inform(&mcf->store, &ctx->owner, ctx->inform,
                                        &ctx->turn,
                                        ngx_http_cwmp_session_opened);

        rc = ngx_http_cwmp_response_store(r, rc);

        if (rc != NGX_DONE) {
            ngx_http_cwmp_finalize(r, rc);
        }

        return;
    }

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_response_unavailable(r));
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "cwmp inform stored, session %V", &ctx->token);

    /* the policies, evaluated at once: a plan waits for the ACS turn */

    if (ctx->turn.evaluate) {
        ctx->turn.evaluate = 0;

        if (ngx_http_cwmp_session_inputs(ctx, &mcf->policies) != NGX_OK
            || ngx_http_cwmp_session_plan(r, ctx) != NGX_OK)
        {
            ngx_http_cwmp_finalize(r, NGX_ERROR);
            return;
        }

        if (ctx->step.plan.len != 2 || ctx->step.ops.len != 2) {
            rc = ngx_http_cwmp_store_plan(&mcf->store, &ctx->owner,
                                          &ctx->device_id, &ctx->step.plan,
                                          &ctx->step.ops,
                                          ngx_http_cwmp_session_opened);

            rc = ngx_http_cwmp_response_store(r, rc);

            if (rc != NGX_DONE) {
                ngx_http_cwmp_finalize(r, rc);
            }

            return;
        }
    }

    ngx_http_cwmp_finalize(r, ngx_http_cwmp_session_inform_response(r, ctx));
}


/* InformResponse, the session's cookie, and the connection bound to it */

static ngx_int_t
ngx_http_cwmp_session_inform_response(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx)
{
    ngx_str_t               out;
    ngx_uint_t              i;
    ngx_http_cwmp_event_t  *ev;

    if (ngx_http_cwmp_soap_inform_response(r->pool, &ctx->msg,
                                           &ctx->use_version, &out)
        != NGX_OK
        || ngx_http_cwmp_conn_set_cookie(r, &ctx->token, &ctx->device_id)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_conn_open(r->connection, &ctx->token, &ctx->device_id);

    if (ngx_http_cwmp_metrics) {
        ev = ctx->msg.events.elts;

        for (i = 0; i < ctx->msg.events.nelts; i++) {
            ngx_http_cwmp_metric_event(&ev[i].code);
        }
    }

    ngx_str_set(&ctx->rpc_out, "InformResponse");

    return ngx_http_cwmp_response_soap(r, &out);
}


/* the CPE has nothing more to ask: the ACS turn begins */

static ngx_int_t
ngx_http_cwmp_session_empty_post(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx)
{
    if (ngx_http_cwmp_conn_session(r, 0, &ctx->token, &ctx->device_id)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: empty POST outside a session");
        return ngx_http_cwmp_response_end(r);
    }

    return ngx_http_cwmp_session_step(r, ctx, NULL, NULL);
}


/*
 * One step of the ACS turn, one Redis round trip: store the outcome of the
 * task in flight (none when the turn begins) and learn the next task,
 * which will carry a fresh cwmp:ID.
 */

static ngx_int_t
ngx_http_cwmp_session_step(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx,
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

    if (ngx_http_cwmp_random_hex(ctx->rpc_id, NGX_HTTP_CWMP_RPC_ID_LEN,
                                 r->connection->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->step.device_id = ctx->device_id;
    ctx->step.token = ctx->token;
    ctx->step.rpc_id.data = ctx->rpc_id;
    ctx->step.rpc_id.len = NGX_HTTP_CWMP_RPC_ID_LEN;
    ctx->step.session_timeout = lcf->session_timeout;
    ctx->step.transfer_timeout = lcf->transfer_timeout;
    ctx->step.outcome = outcome;

    if (outcome && outcome->status.len) {
        ngx_http_cwmp_metric(outcome->status.data[0] == 'd'
                             ? NGX_HTTP_CWMP_M_TASK_DONE
                             : outcome->status.data[0] == 'e'
                               ? NGX_HTTP_CWMP_M_TASK_EXPIRED
                               : NGX_HTTP_CWMP_M_TASK_FAULT);
    }

    if (ctx->step.conn.len == 0
        && ngx_http_cwmp_conn_id(r->connection, r->pool, &ctx->step.conn)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

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

    rc = ngx_http_cwmp_store_step(&mcf->store, &ctx->owner, &ctx->step,
                                  &ctx->turn, ngx_http_cwmp_session_stepped);

    return ngx_http_cwmp_response_store(r, rc);
}


/* what the policies want of the device, into ctx->step */

static ngx_int_t
ngx_http_cwmp_session_plan(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (ngx_http_cwmp_policy_plan(r->pool, r->connection->log,
                                  &mcf->policies, &ctx->turn.inputs,
                                  &ctx->device_id, &ctx->step.plan,
                                  &ctx->step.ops)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cwmp: policy evaluation failed");
        return NGX_ERROR;
    }

    /* lengths only: a plan may carry credentials */

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "cwmp policies: plan of %uz bytes, ops of %uz",
                   ctx->step.plan.len, ctx->step.ops.len);

    return NGX_OK;
}


/*
 * The policies' turn (no queued task left): what they want of the device,
 * evaluated against what Redis sent, goes back in the same step's second
 * call, which hands out the first of those tasks or ends the session.
 */

static ngx_int_t
ngx_http_cwmp_session_policies(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_cwmp_main_conf_t  *mcf;

    if (ngx_http_cwmp_session_plan(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    /*
     * nothing wanted: the session is over, its key expires on its own;
     * unless its end is an event, which the step that ends it emits
     */

    if (ctx->step.plan.len == 2 && ctx->step.ops.len == 2
        && !ngx_http_cwmp_store_emits(&mcf->store, "session_ended"))
    {
        return ngx_http_cwmp_session_over(r);
    }

    ctx->step.outcome = NULL;
    ngx_str_null(&ctx->step.answered);

    rc = ngx_http_cwmp_store_step(&mcf->store, &ctx->owner, &ctx->step,
                                  &ctx->turn, ngx_http_cwmp_session_stepped);

    return ngx_http_cwmp_response_store(r, rc);
}


/* what session_step.lua answered */

static void
ngx_http_cwmp_session_stepped(void *data, ngx_int_t rc)
{
    ngx_http_request_t *r = data;

    ngx_http_cwmp_ctx_t        *ctx;
    ngx_http_cwmp_main_conf_t  *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (rc == NGX_AGAIN && !ctx->step.whole) {
        /* the session could not just end: the whole step */
        mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);
        ctx->step.whole = 1;

        rc = ngx_http_cwmp_response_store(r,
                 ngx_http_cwmp_store_step(&mcf->store, &ctx->owner,
                                          &ctx->step, &ctx->turn,
                                          ngx_http_cwmp_session_stepped));

        if (rc != NGX_DONE) {
            ngx_http_cwmp_finalize(r, rc);
        }

        return;
    }

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_response_unavailable(r));
        return;
    }

    switch (ctx->turn.status) {

    case NGX_HTTP_CWMP_SESSION_STEP_TASK:

        if (ctx->turn.task.len == 0) {
            /* nothing left for the CPE: the session is over */
            rc = ngx_http_cwmp_session_over(r);
            break;
        }

        rc = ngx_http_cwmp_session_dispatch(r, ctx);
        break;

    case NGX_HTTP_CWMP_SESSION_STEP_EVALUATE:
        rc = ngx_http_cwmp_session_policies(r, ctx);
        break;

    case NGX_HTTP_CWMP_SESSION_STEP_WANT_NAMES:

        /* the policies' names, asked for: the same step again with them */

        mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);
        ctx->step.wanted = &mcf->policies.wanted;

        rc = ngx_http_cwmp_response_store(r,
                 ngx_http_cwmp_store_step(&mcf->store, &ctx->owner,
                                          &ctx->step, &ctx->turn,
                                          ngx_http_cwmp_session_stepped));
        break;

    case NGX_HTTP_CWMP_SESSION_STEP_REFUSED:

        /* an empty POST to its request: it will not answer it */

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: the CPE answered \"%V\" with an empty POST: "
                      "not sent again in this session, which ends",
                      &ctx->turn.task);
        rc = ngx_http_cwmp_session_over(r);
        break;

    case NGX_HTTP_CWMP_SESSION_STEP_NOT_OURS:

        /* a stale cookie: the next session the request carries */

        if (ngx_http_cwmp_session_next(r, ctx) == NGX_OK) {
            rc = ngx_http_cwmp_session_step(r, ctx, &ctx->step.answered,
                                            ctx->step.outcome);
            break;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: the session is unknown, expired or another's");
        rc = ngx_http_cwmp_session_over(r);
        break;

    default: /* NGX_HTTP_CWMP_SESSION_STEP_NOT_IN_FLIGHT */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: protocol error: \"%V\" with cwmp:ID \"%V\" "
                      "does not answer the request in flight",
                      &ctx->msg.method, &ctx->msg.id);
        rc = ngx_http_cwmp_response_refuse_text(r, "the answer is not to "
                                                "the request in flight");
        break;
    }

    if (rc != NGX_DONE) {
        ngx_http_cwmp_finalize(r, rc);
    }
}


/* the ACS request for the next task, or its outcome when it cannot run */

static ngx_int_t
ngx_http_cwmp_session_dispatch(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_str_t                   body, out, id;
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    /* a transfer with its file at the ACS: the store describes it, or
     * the upload's URL is signed, first */

    if (ctx->file_for != ctx->turn.task.data) {
        ngx_memzero(&ctx->file, sizeof(ngx_http_cwmp_task_file_t));
        ctx->file_for = ctx->turn.task.data;
        ctx->file_wanted = (ngx_http_cwmp_task_file(r->pool, &ctx->turn.task,
                                                    &ctx->file)
                            == NGX_OK);
    }

    if (ctx->file_wanted && !ctx->file.read) {
        rc = ngx_http_cwmp_session_file(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (ctx->file_wanted && !ctx->file.upload && ctx->file.url.len == 0) {
        if (ctx->file.size.len == 0 && ctx->file.restore
            && ctx->file.error == NULL)
        {
            ctx->file.error = "no such backup of the device";
        }

        if (ctx->file.size.len
            && ngx_http_cwmp_file_url(r->pool, &mcf->auth_secret,
                                      &mcf->files_url, &ctx->file.name,
                                      &ctx->device_id,
                                      ngx_time() + mcf->files_ttl,
                                      &ctx->file.url)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    rc = ngx_http_cwmp_task_request(r->pool, r->connection->log,
                                    &ctx->turn.task, &ctx->turn.types,
                                    ctx->file_wanted ? &ctx->file : NULL,
                                    &body, &ctx->outcome);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* the request's cwmp:ID: this step's, or the one it went out with */

    if (ctx->turn.rpc_id.len) {
        id = ctx->turn.rpc_id;

    } else {
        id.len = NGX_HTTP_CWMP_RPC_ID_LEN;
        id.data = ngx_pnalloc(r->pool, id.len);
        if (id.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(id.data, ctx->rpc_id, id.len);
    }

    if (rc == NGX_DECLINED) {
        /* a fault result for it, and on to the next task */

        if (++ctx->skipped > NGX_HTTP_CWMP_MAX_SKIPPED) {
            return ngx_http_cwmp_response_unavailable(r);
        }

        return ngx_http_cwmp_session_step(r, ctx, &id, &ctx->outcome);
    }

    /* a session stored before the namespace was: the 1.0 one */

    if (ctx->turn.ns.len == 0) {
        ngx_str_set(&ctx->turn.ns, "urn:dslforum-org:cwmp-1-0");
    }

    if (ngx_http_cwmp_soap_request(r->pool, &ctx->turn.ns, &id, &body, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->rpc_out = ctx->outcome.request;
    ngx_http_cwmp_metric_rpc(&ctx->rpc_out);

    return ngx_http_cwmp_response_soap(r, &out);
}


/*
 * A transfer's file at the ACS: an upload's URL signed (NGX_OK), or the
 * store asked for a stored file or a backup (its answer re-enters the
 * dispatch); a task that cannot have one gets file.error
 */

static ngx_int_t
ngx_http_cwmp_session_file(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_http_cwmp_task_file_t  *file;
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);
    file = &ctx->file;

    if (file->upload) {
        return ngx_http_cwmp_upload_url(r->pool, &mcf->uploads,
                                        &mcf->auth_secret, &ctx->device_id,
                                        file, r->connection->log);
    }

    file->read = 1;

    if (mcf->files_url.len == 0) {
        file->error = "no file store here (cwmp_files_url)";
        return NGX_OK;
    }

    if ((file->name.len || !file->restore)
        && ngx_http_cwmp_file_name_valid(&file->name) != NGX_OK)
    {
        file->error = "a \"file\" or \"backup\" is named with 1 to 128 of "
                      "A-Z a-z 0-9 . _ -, not starting \".\"";
        return NGX_OK;
    }

    file->read = 0;

    if (file->restore) {
        return ngx_http_cwmp_response_store(r,
                   ngx_http_cwmp_store_backup(&mcf->store, &ctx->owner,
                                              file->backup_of.len
                                              ? &file->backup_of
                                              : &ctx->device_id,
                                              file,
                                              ngx_http_cwmp_session_file_read));
    }

    return ngx_http_cwmp_response_store(r,
               ngx_http_cwmp_store_file(&mcf->store, &ctx->owner, file,
                                        ngx_http_cwmp_session_file_read));
}


/* the store described the stored file of a download task: its request */

static void
ngx_http_cwmp_session_file_read(void *data, ngx_int_t rc)
{
    ngx_http_request_t *r = data;

    ngx_http_cwmp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_response_unavailable(r));
        return;
    }

    rc = ngx_http_cwmp_session_dispatch(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_cwmp_finalize(r, rc);
    }
}


/* the session ends (or was not there): 204, the connection forgets it */

static ngx_int_t
ngx_http_cwmp_session_over(ngx_http_request_t *r)
{
    ngx_http_cwmp_conn_close(r->connection);

    return ngx_http_cwmp_response_end(r);
}


/* CPE requests other than Inform, responses and faults */

static ngx_int_t
ngx_http_cwmp_session_cpe(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_str_t             reason;
    ngx_http_cwmp_msg_t  *msg;

    msg = &ctx->msg;

    if (ngx_http_cwmp_conn_session(r, 0, &ctx->token, &ctx->device_id)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: \"%V\" outside a session, Inform must come "
                      "first", &msg->method);

        if (msg->type == NGX_HTTP_CWMP_MSG_REQUEST) {
            return ngx_http_cwmp_session_fault(r, ctx, 8003,
                                               "Invalid arguments: a "
                                               "session must start with "
                                               "Inform");
        }

        ngx_str_set(&reason, "a session must start with Inform");
        return ngx_http_cwmp_response_refuse(r, &reason);
    }

    if (msg->type == NGX_HTTP_CWMP_MSG_REQUEST) {
        return ngx_http_cwmp_session_cpe_request(r, ctx);
    }

    /* the CPE's answer to the task in flight */

    if (ngx_http_cwmp_outcome_read(r->pool, msg, &ctx->outcome) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!msg->has_id) {
        ngx_str_null(&msg->id);
    }

    return ngx_http_cwmp_session_step(r, ctx, &msg->id, &ctx->outcome);
}


/*
 * A CPE -> ACS method besides Inform, recorded in cwmp:requests; a
 * TransferComplete or DUStateChangeComplete also finishes the pending
 * task its CommandKey names
 */

static ngx_int_t
ngx_http_cwmp_session_cpe_request(ngx_http_request_t *r,
    ngx_http_cwmp_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    xmlNodePtr                  node;
    ngx_http_cwmp_msg_t        *msg;
    ngx_http_cwmp_store_cpe_t  *cpe;
    ngx_http_cwmp_loc_conf_t   *lcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    msg = &ctx->msg;

    /* the list's first, Inform, never gets here */

    for (i = 1; ngx_http_cwmp_cpe_methods[i]; i++) {
        if (ngx_strcmp(msg->method.data, ngx_http_cwmp_cpe_methods[i]) == 0) {
            break;
        }
    }

    if (ngx_http_cwmp_cpe_methods[i] == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: method \"%V\" not supported", &msg->method);
        return ngx_http_cwmp_session_fault(r, ctx, 8000,
                                           "Method not supported");
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    cpe = &ctx->cpe;
    cpe->device_id = ctx->device_id;
    cpe->token = ctx->token;
    cpe->session_timeout = lcf->session_timeout;
    cpe->method = msg->method;
    cpe->outcome = NULL;

    if (ngx_http_cwmp_outcome_args(r->pool, msg->rpc, &cpe->args) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_strcmp(msg->method.data, "TransferComplete") == 0) {
        if (ngx_http_cwmp_outcome_transfer(r->pool, msg->rpc,
                                           &cpe->command_key, &ctx->outcome)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        cpe->outcome = &ctx->outcome;

    } else if (ngx_strcmp(msg->method.data, "DUStateChangeComplete") == 0) {

        /* the changeDUState it names is done: its Results are the result */

        node = ngx_http_cwmp_soap_arg(msg->rpc, "CommandKey");

        if (node == NULL
            || ngx_http_cwmp_soap_text(r->pool, node, &cpe->command_key, 1)
               != NGX_OK)
        {
            ngx_str_null(&cpe->command_key);
        }

        ngx_memzero(&ctx->outcome, sizeof(ngx_http_cwmp_outcome_t));
        ngx_str_set(&ctx->outcome.status, "done");
        ctx->outcome.result = cpe->args;
        cpe->outcome = &ctx->outcome;
    }

    rc = ngx_http_cwmp_store_cpe_request(&mcf->store, &ctx->owner, cpe,
                                         ngx_http_cwmp_session_cpe_recorded);

    return ngx_http_cwmp_response_store(r, rc);
}


static void
ngx_http_cwmp_session_cpe_recorded(void *data, ngx_int_t rc)
{
    ngx_http_request_t *r = data;

    ngx_str_t                   out, next;
    xmlNodePtr                  node;
    ngx_http_cwmp_ctx_t        *ctx;
    ngx_http_cwmp_main_conf_t  *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);

    if (rc == NGX_BUSY && ngx_http_cwmp_session_next(r, ctx) == NGX_OK) {

        /* a stale cookie: the next session the request carries */

        mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

        ctx->cpe.token = ctx->token;

        rc = ngx_http_cwmp_response_store(r,
                 ngx_http_cwmp_store_cpe_request(&mcf->store, &ctx->owner,
                                    &ctx->cpe,
                                    ngx_http_cwmp_session_cpe_recorded));
        if (rc != NGX_DONE) {
            ngx_http_cwmp_finalize(r, rc);
        }

        return;
    }

    if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: \"%V\" in a session unknown, expired or "
                      "another's", &ctx->msg.method);
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_session_fault(r, ctx, 8003,
                                  "Invalid arguments: a session must start "
                                  "with Inform"));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, ngx_http_cwmp_response_unavailable(r));
        return;
    }

    if (ngx_strcmp(ctx->msg.method.data, "GetRPCMethods") == 0) {
        rc = ngx_http_cwmp_soap_methods(r->pool, &ctx->msg,
                                        ngx_http_cwmp_cpe_methods, &out);

    } else {
        /* <cwmp:MethodResponse/>; Kicked answers the Next URL it got */

        node = ngx_strcmp(ctx->msg.method.data, "Kicked") == 0
               ? ngx_http_cwmp_soap_arg(ctx->msg.rpc, "Next") : NULL;

        if (node
            && ngx_http_cwmp_soap_text(r->pool, node, &next, 1) != NGX_OK)
        {
            ngx_http_cwmp_finalize(r, NGX_ERROR);
            return;
        }

        rc = ngx_http_cwmp_soap_response(r->pool, &ctx->msg,
                                         node ? &next : NULL, &out);
    }

    if (rc != NGX_OK) {
        ngx_http_cwmp_finalize(r, NGX_ERROR);
        return;
    }

    ctx->rpc_out.len = ctx->msg.method.len + sizeof("Response") - 1;
    ctx->rpc_out.data = ngx_pnalloc(r->pool, ctx->rpc_out.len);
    if (ctx->rpc_out.data) {
        ngx_sprintf(ctx->rpc_out.data, "%VResponse", &ctx->msg.method);
    }

    ngx_http_cwmp_finalize(r, ngx_http_cwmp_response_soap(r, &out));
}


/*
 * The session the device said is not this one (a stale cookie): the next
 * of the same device the request carries, another cookie or its
 * connection's; NGX_OK, or NGX_DECLINED when there is none
 */

static ngx_int_t
ngx_http_cwmp_session_next(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx)
{
    ngx_str_t  token, device_id;

    while (ngx_http_cwmp_conn_session(r, ++ctx->candidate, &token,
                                      &device_id)
           == NGX_OK)
    {
        if (token.len == ctx->token.len
            && ngx_strncmp(token.data, ctx->token.data, token.len) == 0)
        {
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cwmp: a cookie of another session, the request's "
                      "next session tried");

        ctx->token = token;
        ctx->device_id = device_id;

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* a CWMP Fault as the answer */

static ngx_int_t
ngx_http_cwmp_session_fault(ngx_http_request_t *r, ngx_http_cwmp_ctx_t *ctx,
    ngx_uint_t code, char *text)
{
    ngx_str_t  out;

    if (ngx_http_cwmp_soap_fault(r->pool, &ctx->msg, code, text, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&ctx->rpc_out, "Fault");

    return ngx_http_cwmp_response_fault(r, &out);
}

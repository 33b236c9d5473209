
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Keys (see redis-schema/README.md), with the default prefix "cwmp:":
 *
 *   cwmp:device:{ID}           HASH    the device summary
 *   cwmp:device:{ID}:params    HASH    parameter path -> last known value
 *   cwmp:device:{ID}:types     HASH    parameter path -> xsd type, when
 *                                      not xsd:string
 *   cwmp:device:{ID}:events    HASH    event code -> last reported
 *   cwmp:device:{ID}:tasks     LIST    the task queue (others write it)
 *   cwmp:device:{ID}:session   HASH    the device's session (one at a time)
 *   cwmp:devices               ZSET    device ID scored by its last Inform
 *   cwmp:results               STREAM  finished tasks
 *   cwmp:requests              STREAM  CPE requests
 *
 * {ID} is a Redis Cluster hash tag.  Every step is one server-side script
 * (redis-schema/scripts), one round trip.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_store.h"
#include "ngx_http_cwmp_scripts.h"


typedef struct {
    ngx_http_request_t              *r;
    ngx_http_cwmp_redis_op_t        *op;
    ngx_http_cleanup_t              *cln;
    ngx_http_cwmp_store_handler_pt   handler;
    void                            *out;      /* what the reply fills:
                                                  a turn, an auth */
    ngx_uint_t                       busy;     /* session_open refused */
} ngx_http_cwmp_store_ctx_t;


typedef struct {
    ngx_http_request_t              *r;
    ngx_http_cwmp_redis_cmd_t       *cmds;
    ngx_uint_t                       ncmds;
} ngx_http_cwmp_store_batch_t;


static ngx_str_t *ngx_http_cwmp_store_cmd(ngx_http_cwmp_store_batch_t *b,
    ngx_uint_t nargs, char *name);
static ngx_str_t *ngx_http_cwmp_store_script(ngx_http_cwmp_store_batch_t *b,
    ngx_uint_t script, ngx_str_t *device_id, char **keys, ngx_uint_t nargv);
static ngx_int_t ngx_http_cwmp_store_key(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *device_id, char *name);
static ngx_int_t ngx_http_cwmp_store_pkey(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_str_t *key, ngx_str_t *device_id, char *name);
static ngx_int_t ngx_http_cwmp_store_submit(ngx_http_cwmp_store_batch_t *b,
    ngx_http_cwmp_redis_reply_pt reply, ngx_http_cwmp_store_handler_pt handler,
    void *out);
static ngx_int_t ngx_http_cwmp_store_turn(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_opened(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_count(ngx_http_request_t *r,
    ngx_str_t *s, ngx_uint_t n);
static ngx_int_t ngx_http_cwmp_store_inputs(ngx_http_request_t *r,
    redisReply *device, redisReply **lists, ngx_http_cwmp_store_inputs_t *in);
static ngx_int_t ngx_http_cwmp_store_value(ngx_http_request_t *r,
    redisReply *rr, ngx_str_t *s);
static ngx_int_t ngx_http_cwmp_store_copy(ngx_http_request_t *r,
    redisReply *rr, ngx_str_t *s);
static ngx_int_t ngx_http_cwmp_store_check(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_authed(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_store_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_store_cleanup(void *data);


/* each script's KEYS, in its order (redis-schema/scripts) */

static char  *ngx_http_cwmp_store_open_keys[] = {
    "", ":params", ":types", ":session", ":events", "devices", ":pending",
    "results", ":policy", ":tags", NULL
};

static char  *ngx_http_cwmp_store_step_keys[] = {
    ":session", ":tasks", ":params", ":types", ":tries", "results",
    ":pending", "", ":plan", ":tags", ":policy", ":connreq", ":auth", NULL
};

static char  *ngx_http_cwmp_store_auth_keys[] = {
    ":auth", ":authfail", "authfail:", ":nonce", NULL
};

static char  *ngx_http_cwmp_store_cpe_keys[] = {
    ":session", "requests", ":pending", "results", ":policy", NULL
};


ngx_int_t
ngx_http_cwmp_store_inform(ngx_http_request_t *r,
    ngx_http_cwmp_store_inform_t *inform, ngx_http_cwmp_store_turn_t *turn,
    ngx_http_cwmp_store_handler_pt handler)
{
    ngx_str_t                     now, timeout, *a;
    ngx_str_t                     software, hardware, model, events;
    ngx_uint_t                    i, n, ntypes, nfields, boot, bootstrap;
    ngx_uint_t                    nwanted, ncampaigns, nobjects;
    ngx_str_t                     device[NGX_HTTP_CWMP_DEV_FIELDS];
    ngx_http_cwmp_msg_t          *msg;
    ngx_http_cwmp_event_t        *ev;
    ngx_http_cwmp_param_t        *param;
    ngx_http_cwmp_redis_cmd_t     cmds[1];
    ngx_http_cwmp_store_batch_t   b;

    msg = inform->msg;

    b.r = r;
    b.cmds = cmds;
    b.ncmds = 0;

    if (ngx_http_cwmp_store_count(r, &now, (ngx_uint_t) ngx_time())
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the events, and what the summary keeps of the parameters */

    if (ngx_http_cwmp_store_fields(r, msg, device) != NGX_OK) {
        return NGX_ERROR;
    }

    software = device[NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION];
    hardware = device[NGX_HTTP_CWMP_DEV_HARDWARE_VERSION];
    model = device[NGX_HTTP_CWMP_DEV_DATA_MODEL];
    events = device[NGX_HTTP_CWMP_DEV_LAST_EVENTS];

    boot = 0;
    bootstrap = 0;
    ev = msg->events.elts;

    for (i = 0; i < msg->events.nelts; i++) {
        if (ngx_strncmp(ev[i].code.data, "1 BOOT", ev[i].code.len) == 0
            && ev[i].code.len == 6)
        {
            boot = 1;

        } else if (ev[i].code.len == 11
                   && ngx_strncmp(ev[i].code.data, "0 BOOTSTRAP", 11) == 0)
        {
            bootstrap = 1;
        }
    }

    param = msg->params.elts;
    ntypes = 0;

    for (i = 0; i < msg->params.nelts; i++) {
        if (param[i].type.len && ngx_strcmp(param[i].type.data, "xsd:string")
                                 != 0)
        {
            ntypes++;
        }
    }

    /* one script: stored, and the session opened, unless one is open */

    nfields = 8 + boot + bootstrap + (software.len != 0)
              + (hardware.len != 0) + (model.len != 0);

    nwanted = inform->wanted ? inform->wanted->nelts : 0;
    ncampaigns = inform->campaigns ? inform->campaigns->nelts : 0;
    nobjects = inform->objects ? inform->objects->nelts : 0;

    a = ngx_http_cwmp_store_script(&b, NGX_HTTP_CWMP_SCRIPT_SESSION_OPEN,
                                   &inform->device_id,
                                   ngx_http_cwmp_store_open_keys,
                                   8 + 4 + 2 * nfields
                                   + 2 * msg->params.nelts + 2 * ntypes
                                   + 2 * msg->events.nelts
                                   + 5 + nwanted + ncampaigns + nobjects);
    if (a == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    a[n++] = inform->token;
    a[n++] = inform->held;

    if (ngx_http_cwmp_store_count(r, &timeout, inform->session_timeout)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[n++] = timeout;
    a[n++] = now;
    a[n++] = inform->version;
    a[n++] = r->connection->addr_text;
    a[n++] = inform->device_id;
    a[n++] = inform->msg->ns;

    if (ngx_http_cwmp_store_count(r, &a[n++], nfields) != NGX_OK) {
        return NGX_ERROR;
    }

#define ngx_http_cwmp_store_field(name, value)                               \
    ngx_str_set(&a[n], name); a[n + 1] = value; n += 2

    ngx_http_cwmp_store_field("oui", msg->oui);
    ngx_http_cwmp_store_field("product_class", msg->product_class);
    ngx_http_cwmp_store_field("serial_number", msg->serial_number);
    ngx_http_cwmp_store_field("manufacturer", msg->manufacturer);
    ngx_http_cwmp_store_field("last_inform", now);
    ngx_http_cwmp_store_field("cwmp_version", inform->version);
    ngx_http_cwmp_store_field("remote_addr", r->connection->addr_text);
    ngx_http_cwmp_store_field("last_events", events);

    if (boot) {
        ngx_http_cwmp_store_field("last_boot", now);
    }

    if (bootstrap) {
        ngx_http_cwmp_store_field("last_bootstrap", now);
    }

    if (software.len) {
        ngx_http_cwmp_store_field("software_version", software);
    }

    if (hardware.len) {
        ngx_http_cwmp_store_field("hardware_version", hardware);
    }

    if (model.len) {
        ngx_http_cwmp_store_field("data_model", model);
    }

#undef ngx_http_cwmp_store_field

    if (ngx_http_cwmp_store_count(r, &a[n++], msg->params.nelts) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < msg->params.nelts; i++) {
        a[n++] = param[i].name;
        a[n++] = param[i].value;
    }

    if (ngx_http_cwmp_store_count(r, &a[n++], ntypes) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < msg->params.nelts; i++) {
        if (param[i].type.len
            && ngx_strcmp(param[i].type.data, "xsd:string") != 0)
        {
            a[n++] = param[i].name;
            a[n++] = param[i].type;
        }
    }

    if (ngx_http_cwmp_store_count(r, &a[n++], msg->events.nelts) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < msg->events.nelts; i++) {
        a[n++] = ev[i].code;
        a[n++] = ev[i].command_key;
    }

    /* the policies: what they read of the device comes back */

    ngx_str_set(&a[n], "0");

    if (inform->wanted && turn) {
        if (inform->tags) {
            ngx_str_set(&a[n], "2");

        } else {
            ngx_str_set(&a[n], "1");
        }

        ngx_memcpy(turn->inputs.device, device, sizeof(device));
    }

    n++;

    if (ngx_http_cwmp_store_key(r, &a[n++], NULL, "campaign:") != NGX_OK
        || ngx_http_cwmp_store_count(r, &a[n++], nwanted) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < nwanted; i++) {
        a[n++] = ((ngx_str_t *) inform->wanted->elts)[i];
    }

    if (ngx_http_cwmp_store_count(r, &a[n++], ncampaigns) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < ncampaigns; i++) {
        a[n++] = ((ngx_str_t *) inform->campaigns->elts)[i];
    }

    if (ngx_http_cwmp_store_count(r, &a[n++], nobjects) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < nobjects; i++) {
        a[n++] = ((ngx_str_t *) inform->objects->elts)[i];
    }

    return ngx_http_cwmp_store_submit(&b, ngx_http_cwmp_store_opened, handler,
                                      turn);
}


/*
 * The device's fields as the summary keeps them, from its Inform: the
 * DeviceId, SoftwareVersion and HardwareVersion, the data model's root,
 * the events ("0 BOOTSTRAP,1 BOOT").  Absent ones have .data NULL.
 */

ngx_int_t
ngx_http_cwmp_store_fields(ngx_http_request_t *r, ngx_http_cwmp_msg_t *msg,
    ngx_str_t *device)
{
    u_char                 *p;
    size_t                  len;
    ngx_str_t              *f;
    ngx_uint_t              i;
    ngx_http_cwmp_event_t  *ev;
    ngx_http_cwmp_param_t  *param;

    for (i = 0; i < NGX_HTTP_CWMP_DEV_FIELDS; i++) {
        ngx_str_null(&device[i]);
    }

    device[NGX_HTTP_CWMP_DEV_OUI] = msg->oui;
    device[NGX_HTTP_CWMP_DEV_PRODUCT_CLASS] = msg->product_class;
    device[NGX_HTTP_CWMP_DEV_SERIAL_NUMBER] = msg->serial_number;
    device[NGX_HTTP_CWMP_DEV_MANUFACTURER] = msg->manufacturer;

    ev = msg->events.elts;
    len = 0;

    for (i = 0; i < msg->events.nelts; i++) {
        len += ev[i].code.len + 1;
    }

    f = &device[NGX_HTTP_CWMP_DEV_LAST_EVENTS];

    f->data = ngx_pnalloc(r->pool, len + 1);
    if (f->data == NULL) {
        return NGX_ERROR;
    }

    p = f->data;

    for (i = 0; i < msg->events.nelts; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, ev[i].code.data, ev[i].code.len);
    }

    f->len = p - f->data;

    param = msg->params.elts;

    for (i = 0; i < msg->params.nelts; i++) {
        p = ngx_strlchr(param[i].name.data,
                        param[i].name.data + param[i].name.len, '.');
        if (p == NULL) {
            continue;
        }

        f = &device[NGX_HTTP_CWMP_DEV_DATA_MODEL];

        if (f->data == NULL) {
            f->data = param[i].name.data;
            f->len = p - param[i].name.data;
        }

        len = param[i].name.data + param[i].name.len - p;

        if (len == sizeof(".DeviceInfo.SoftwareVersion") - 1
            && ngx_strncmp(p, ".DeviceInfo.SoftwareVersion", len) == 0)
        {
            device[NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION] = param[i].value;

        } else if (len == sizeof(".DeviceInfo.HardwareVersion") - 1
                   && ngx_strncmp(p, ".DeviceInfo.HardwareVersion", len) == 0)
        {
            device[NGX_HTTP_CWMP_DEV_HARDWARE_VERSION] = param[i].value;
        }
    }

    return NGX_OK;
}


/*
 * The policies' plan found at an Inform, kept in the session for the ACS
 * turn: session_step.lua queues it when the turn begins.
 */

ngx_int_t
ngx_http_cwmp_store_plan(ngx_http_request_t *r, ngx_str_t *device_id,
    ngx_str_t *plan, ngx_str_t *ops, ngx_http_cwmp_store_handler_pt handler)
{
    ngx_str_t                    *a;
    ngx_http_cwmp_redis_cmd_t     cmds[1];
    ngx_http_cwmp_store_batch_t   b;

    b.r = r;
    b.cmds = cmds;
    b.ncmds = 0;

    a = ngx_http_cwmp_store_cmd(&b, 6, "HSET");
    if (a == NULL
        || ngx_http_cwmp_store_key(r, &a[1], device_id, ":session") != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&a[2], "plan");
    a[3] = *plan;
    ngx_str_set(&a[4], "ops");
    a[5] = *ops;

    return ngx_http_cwmp_store_submit(&b, ngx_http_cwmp_store_check, handler,
                                      NULL);
}


/*
 * One step of the ACS turn, one script (session_step.lua): the outcome of
 * the task in flight, if any, is stored (result, dequeue, cache) and the
 * next task handed out.
 */

ngx_int_t
ngx_http_cwmp_store_step(ngx_http_request_t *r,
    ngx_http_cwmp_store_step_t *step, ngx_http_cwmp_store_turn_t *turn,
    ngx_http_cwmp_store_handler_pt handler)
{
    ngx_str_t                    *a, *argv, timeout, now;
    ngx_uint_t                    i, nparams, nwanted, ncampaigns, nobjects;
    ngx_http_cwmp_param_t        *param;
    ngx_http_cwmp_outcome_t      *o;
    ngx_http_cwmp_redis_cmd_t     cmds[1];
    ngx_http_cwmp_store_batch_t   b;

    b.r = r;
    b.cmds = cmds;
    b.ncmds = 0;

    if (ngx_http_cwmp_store_count(r, &timeout, step->session_timeout)
        != NGX_OK
        || ngx_http_cwmp_store_count(r, &now, (ngx_uint_t) ngx_time())
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    o = step->outcome;
    nparams = o ? o->params.nelts : 0;
    nwanted = step->wanted ? step->wanted->nelts : 0;
    ncampaigns = step->campaigns ? step->campaigns->nelts : 0;
    nobjects = (step->wanted && step->objects) ? step->objects->nelts : 0;

    a = ngx_http_cwmp_store_script(&b, NGX_HTTP_CWMP_SCRIPT_SESSION_STEP,
                                   &step->device_id,
                                   ngx_http_cwmp_store_step_keys,
                                   11 + 3 * nparams + 8 + nwanted
                                   + ncampaigns + nobjects);
    if (a == NULL) {
        return NGX_ERROR;
    }

    /* argv[k] is ARGV[k] */

    argv = a - 1;

    argv[1] = step->token;
    argv[2] = step->answered;
    argv[3] = step->rpc_id;
    argv[4] = timeout;
    argv[5] = step->device_id;
    argv[9] = now;

    if (o == NULL) {
        /* the turn begins: no outcome */
        ngx_str_null(&argv[6]);
        ngx_str_null(&argv[7]);
        ngx_str_set(&argv[8], "0");
        ngx_str_null(&argv[10]);
        ngx_str_set(&argv[11], "0");

    } else {
        argv[6] = o->status;
        argv[7] = o->result;
        ngx_str_set(&argv[8], "0");

        if (o->apply) {
            ngx_str_set(&argv[8], "1");
        }

        argv[10] = o->answer;

        if (ngx_http_cwmp_store_count(r, &argv[11], nparams) != NGX_OK) {
            return NGX_ERROR;
        }

        param = o->params.elts;

        for (i = 0; i < o->params.nelts; i++) {
            argv[12 + 3 * i] = param[i].name;
            argv[13 + 3 * i] = param[i].value;
            argv[14 + 3 * i] = param[i].type;
        }
    }

    /* the policies: what an evaluation needs, or what one found */

    a = argv + 12 + 3 * nparams;

    if (ngx_http_cwmp_store_count(r, &a[0], step->rounds) != NGX_OK
        || ngx_http_cwmp_store_count(r, &a[3], (ngx_uint_t) step->backoff_cap)
           != NGX_OK
        || ngx_http_cwmp_store_count(r, &a[5], nwanted) != NGX_OK
        || ngx_http_cwmp_store_count(r, &a[6 + nwanted], ncampaigns)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[1] = step->plan;
    a[2] = step->ops;

    if (step->wanted == NULL && step->rounds) {
        /* not sent: session_step.lua asks for them when it needs them */
        ngx_str_set(&a[5], "-");
    }

    if (ngx_http_cwmp_store_key(r, &a[4], NULL, "campaign:") != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < nwanted; i++) {
        a[6 + i] = ((ngx_str_t *) step->wanted->elts)[i];
    }

    for (i = 0; i < ncampaigns; i++) {
        a[7 + nwanted + i] = ((ngx_str_t *) step->campaigns->elts)[i];
    }

    a += 7 + nwanted + ncampaigns;

    if (ngx_http_cwmp_store_count(r, &a[0], nobjects) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < nobjects; i++) {
        a[1 + i] = ((ngx_str_t *) step->objects->elts)[i];
    }

    return ngx_http_cwmp_store_submit(&b, ngx_http_cwmp_store_turn, handler,
                                      turn);
}


/* a CPE request in its session, recorded: NGX_BUSY when not its session */

ngx_int_t
ngx_http_cwmp_store_cpe_request(ngx_http_request_t *r,
    ngx_http_cwmp_store_step_t *step, ngx_str_t *method, ngx_str_t *args,
    ngx_str_t *command_key, ngx_http_cwmp_outcome_t *outcome,
    ngx_http_cwmp_store_handler_pt handler)
{
    ngx_str_t                    *a, now;
    ngx_http_cwmp_redis_cmd_t     cmds[1];
    ngx_http_cwmp_store_batch_t   b;

    b.r = r;
    b.cmds = cmds;
    b.ncmds = 0;

    a = ngx_http_cwmp_store_script(&b, NGX_HTTP_CWMP_SCRIPT_SESSION_CPE,
                                   &step->device_id,
                                   ngx_http_cwmp_store_cpe_keys, 9);
    if (a == NULL
        || ngx_http_cwmp_store_count(r, &a[1], step->session_timeout)
           != NGX_OK
        || ngx_http_cwmp_store_count(r, &now, (ngx_uint_t) ngx_time())
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[0] = step->token;
    a[2] = step->device_id;
    a[3] = *method;
    a[4] = *args;
    a[5] = now;

    /* a TransferComplete finishes the pending transfer it names */

    if (command_key && outcome) {
        a[6] = *command_key;
        a[7] = outcome->status;
        a[8] = outcome->result;

    } else {
        ngx_str_null(&a[6]);
        ngx_str_null(&a[7]);
        ngx_str_null(&a[8]);
    }

    return ngx_http_cwmp_store_submit(&b, ngx_http_cwmp_store_opened, handler,
                                      NULL);
}


/*
 * A CPE authenticating (auth.lua): the limits and the nonce count checked
 * and its credentials fetched, or a failed attempt counted
 */

ngx_int_t
ngx_http_cwmp_store_auth(ngx_http_request_t *r,
    ngx_http_cwmp_store_auth_t *auth, ngx_http_cwmp_store_handler_pt handler)
{
    u_char                       *p;
    ngx_str_t                    *a, *key;
    ngx_http_cwmp_redis_cmd_t     cmds[1];
    ngx_http_cwmp_store_batch_t   b;

    b.r = r;
    b.cmds = cmds;
    b.ncmds = 0;

    a = ngx_http_cwmp_store_script(&b, NGX_HTTP_CWMP_SCRIPT_AUTH,
                                   &auth->device_id,
                                   ngx_http_cwmp_store_auth_keys, 8);
    if (a == NULL) {
        return NGX_ERROR;
    }

    /* KEYS[3], cwmp:authfail:<address> */

    key = a - 2;

    p = ngx_pnalloc(r->pool, key->len + auth->addr.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, key->data, key->len);
    ngx_memcpy(p + key->len, auth->addr.data, auth->addr.len);
    key->data = p;
    key->len += auth->addr.len;

    if (auth->fail) {
        ngx_str_set(&a[0], "fail");

    } else {
        ngx_str_set(&a[0], "check");
    }

    if (ngx_http_cwmp_store_count(r, &a[1], auth->limit_device) != NGX_OK
        || ngx_http_cwmp_store_count(r, &a[2], auth->limit_addr) != NGX_OK
        || ngx_http_cwmp_store_count(r, &a[3], auth->window) != NGX_OK
        || ngx_http_cwmp_store_count(r, &a[6], auth->nonce_timeout)
           != NGX_OK
        || ngx_http_cwmp_store_count(r, &a[7], (ngx_uint_t) ngx_time())
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[4] = auth->nonce;
    a[5] = auth->nc;

    return ngx_http_cwmp_store_submit(&b, ngx_http_cwmp_store_authed, handler,
                                      auth);
}


ngx_str_t *
ngx_http_cwmp_store_scripts(ngx_uint_t *n)
{
    *n = NGX_HTTP_CWMP_NSCRIPTS;

    return ngx_http_cwmp_scripts;
}


static ngx_str_t *
ngx_http_cwmp_store_cmd(ngx_http_cwmp_store_batch_t *b, ngx_uint_t nargs,
    char *name)
{
    ngx_str_t                  *args;
    ngx_http_cwmp_redis_cmd_t  *cmd;

    args = ngx_palloc(b->r->pool, nargs * sizeof(ngx_str_t));
    if (args == NULL) {
        return NULL;
    }

    args[0].data = (u_char *) name;
    args[0].len = ngx_strlen(name);

    cmd = &b->cmds[b->ncmds++];
    cmd->args = args;
    cmd->nargs = nargs;

    return args;
}


/*
 * A script call: EVALSHA <sha> <nkeys> <keys> and room for nargv more
 * arguments, where the pointer returned points (ARGV[1] of the script).
 * A key name starting with ":" (or empty) is the device's,
 * <prefix>device:{<ID>}<name>; any other is a global <prefix><name>.
 */

static ngx_str_t *
ngx_http_cwmp_store_script(ngx_http_cwmp_store_batch_t *b, ngx_uint_t script,
    ngx_str_t *device_id, char **keys, ngx_uint_t nargv)
{
    ngx_str_t                  *a;
    ngx_uint_t                  i, n;
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(b->r, ngx_http_cwmp_module);

    for (n = 0; keys[n]; n++) { /* void */ }

    a = ngx_http_cwmp_store_cmd(b, 3 + n + nargv, "EVALSHA");
    if (a == NULL || ngx_http_cwmp_store_count(b->r, &a[2], n) != NGX_OK) {
        return NULL;
    }

    a[1] = *ngx_http_cwmp_redis_script(mcf->node, script);

    for (i = 0; i < n; i++) {
        if (ngx_http_cwmp_store_key(b->r, &a[3 + i], device_id, keys[i])
            != NGX_OK)
        {
            return NULL;
        }
    }

    return a + 3 + n;
}


static ngx_int_t
ngx_http_cwmp_store_key(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *device_id, char *name)
{
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    return ngx_http_cwmp_store_pkey(r->pool, &mcf->prefix, key, device_id,
                                    name);
}


static ngx_int_t
ngx_http_cwmp_store_pkey(ngx_pool_t *pool, ngx_str_t *prefix, ngx_str_t *key,
    ngx_str_t *device_id, char *name)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   device;

    len = ngx_strlen(name);
    device = (len == 0 || name[0] == ':');

    key->data = ngx_pnalloc(pool, prefix->len + len
                                     + (device ? sizeof("device:{}") - 1
                                                 + device_id->len
                                               : 0));
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, prefix->data, prefix->len);

    if (device) {
        p = ngx_cpymem(p, "device:{", sizeof("device:{") - 1);
        p = ngx_cpymem(p, device_id->data, device_id->len);
        *p++ = '}';
    }

    p = ngx_cpymem(p, name, len);

    key->len = p - key->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_store_submit(ngx_http_cwmp_store_batch_t *b,
    ngx_http_cwmp_redis_reply_pt reply, ngx_http_cwmp_store_handler_pt handler,
    void *out)
{
    ngx_int_t                   rc;
    ngx_http_request_t         *r;
    ngx_http_cwmp_store_ctx_t  *ctx;
    ngx_http_cwmp_main_conf_t  *mcf;

    r = b->r;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);

    if (ngx_http_cwmp_redis_available(mcf->node) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_cwmp_store_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->cln = ngx_http_cleanup_add(r, 0);
    if (ctx->cln == NULL) {
        return NGX_ERROR;
    }

    ctx->op = ngx_http_cwmp_redis_op_create(b->cmds, b->ncmds,
                                            r->connection->log);
    if (ctx->op == NULL) {
        return NGX_ERROR;
    }

    ctx->r = r;
    ctx->handler = handler;
    ctx->out = out;
    ctx->op->data = ctx;
    ctx->op->reply = reply;
    ctx->op->done = ngx_http_cwmp_store_done;

    rc = ngx_http_cwmp_redis_submit(mcf->node, ctx->op, r->connection->log);

    if (rc != NGX_OK) {
        /* the op is freed */
        ctx->op = NULL;
        return NGX_DECLINED;
    }

    ctx->cln->handler = ngx_http_cwmp_store_cleanup;
    ctx->cln->data = ctx;

    return NGX_DONE;
}


static ngx_int_t
ngx_http_cwmp_store_check(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    size_t                      j;
    redisReply                 *rr, *e;
    ngx_http_cwmp_store_ctx_t  *ctx;

    ctx = op->data;
    rr = reply;
    e = NULL;

    if (rr->type == REDIS_REPLY_ERROR) {
        e = rr;

    } else if (rr->type == REDIS_REPLY_ARRAY) {
        for (j = 0; j < rr->elements; j++) {
            if (rr->element[j]->type == REDIS_REPLY_ERROR) {
                e = rr->element[j];
                break;
            }
        }
    }

    if (e == NULL) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                  "redis refused command %ui: \"%*s\"", i, e->len, e->str);

    if (e->len >= 8 && ngx_strncmp(e->str, "NOSCRIPT", 8) == 0) {
        /* flushed (SCRIPT FLUSH): a new connection loads them again */
        ngx_http_cwmp_redis_reset(op->node, "scripts were flushed");
    }

    return NGX_ERROR;
}


/* auth.lua: {status, ms, password, ha1_md5, ha1_sha256, next, previous} */

static ngx_int_t
ngx_http_cwmp_store_authed(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_uint_t                   j;
    redisReply                  *rr;
    ngx_http_cwmp_store_ctx_t   *ctx;
    ngx_http_cwmp_store_auth_t  *auth;

    ctx = op->data;
    rr = reply;
    auth = ctx->out;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 7
        || rr->element[1]->type != REDIS_REPLY_INTEGER)
    {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    for (j = 0; j < 7; j++) {
        if (j != 1 && rr->element[j]->type != REDIS_REPLY_STRING) {
            ngx_log_error(NGX_LOG_ERR, ctx->r->connection->log, 0,
                          "redis: unexpected reply to auth.lua");
            return NGX_ERROR;
        }
    }

    auth->retry = (rr->element[1]->integer > 0)
                  ? (ngx_msec_t) rr->element[1]->integer : 0;

    if (ngx_http_cwmp_store_copy(ctx->r, rr->element[0], &auth->status)
        != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->r, rr->element[2],
                                    &auth->creds.password) != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->r, rr->element[3],
                                    &auth->creds.ha1_md5) != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->r, rr->element[4],
                                    &auth->creds.ha1_sha256) != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->r, rr->element[5],
                                    &auth->creds.next_password) != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->r, rr->element[6],
                                    &auth->creds.previous_password)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* session_open.lua: 1 open, 0 another session is in progress */

static ngx_int_t
ngx_http_cwmp_store_opened(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                  *rr;
    ngx_http_cwmp_store_ctx_t   *ctx;
    ngx_http_cwmp_store_turn_t  *turn;

    ctx = op->data;
    rr = reply;
    turn = ctx->out;

    /* {1, wanted values, tags, policy state, campaigns, objects} */

    if (rr->type == REDIS_REPLY_ARRAY && turn && rr->elements == 6
        && rr->element[0]->type == REDIS_REPLY_INTEGER)
    {
        ctx->busy = (rr->element[0]->integer == 0);
        turn->status = 1;

        return ngx_http_cwmp_store_inputs(ctx->r, NULL, &rr->element[1],
                                          &turn->inputs);
    }

    if (rr->type != REDIS_REPLY_INTEGER) {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    ctx->busy = (rr->integer == 0);

    if (turn) {
        /* busy, or no policies: nothing to evaluate */
        turn->status = 0;
    }

    return NGX_OK;
}


/* a number as a command argument */

static ngx_int_t
ngx_http_cwmp_store_count(ngx_http_request_t *r, ngx_str_t *s, ngx_uint_t n)
{
    s->data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    s->len = ngx_sprintf(s->data, "%ui", n) - s->data;

    return NGX_OK;
}


/* {status, task, ns, types} of session_step.lua */

static ngx_int_t
ngx_http_cwmp_store_turn(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                  *rr;
    ngx_http_cwmp_store_ctx_t   *ctx;
    ngx_http_cwmp_store_turn_t  *turn;

    ctx = op->data;
    rr = reply;
    turn = ctx->out;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements < 2
        || rr->element[0]->type != REDIS_REPLY_INTEGER
        || rr->element[1]->type != REDIS_REPLY_STRING)
    {
        (void) ngx_http_cwmp_store_check(op, i, reply);

        if (rr->type != REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ALERT, ctx->r->connection->log, 0,
                          "redis answered a session script unexpectedly");
        }

        return NGX_ERROR;
    }

    turn->status = (ngx_int_t) rr->element[0]->integer;

    if (ngx_http_cwmp_store_copy(ctx->r, rr->element[1], &turn->task)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_null(&turn->ns);
    ngx_str_null(&turn->types);

    if (rr->elements > 2 && rr->element[2]->type == REDIS_REPLY_STRING
        && ngx_http_cwmp_store_copy(ctx->r, rr->element[2], &turn->ns)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rr->elements > 3 && rr->element[3]->type == REDIS_REPLY_STRING
        && ngx_http_cwmp_store_copy(ctx->r, rr->element[3], &turn->types)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (turn->status != 2) {
        return NGX_OK;
    }

    if (rr->elements < 10) {
        ngx_log_error(NGX_LOG_ALERT, ctx->r->connection->log, 0,
                      "redis answered the policies' turn unexpectedly");
        return NGX_ERROR;
    }

    return ngx_http_cwmp_store_inputs(ctx->r, rr->element[4], &rr->element[5],
                                      &turn->inputs);
}


/*
 * The policies' inputs, as session_open.lua and session_step.lua send them:
 * the device's fields (session_step only: the Inform has them), the wanted
 * values, tags, policy state (flat), campaigns (triples) and, per object,
 * its instances' cached leaves.
 */

static ngx_int_t
ngx_http_cwmp_store_inputs(ngx_http_request_t *r, redisReply *device,
    redisReply **lists, ngx_http_cwmp_store_inputs_t *in)
{
    ngx_str_t                       *s;
    ngx_uint_t                       i, j;
    redisReply                      *e[6], *o;
    ngx_array_t                     *a;
    ngx_keyval_t                    *kv;
    ngx_http_cwmp_store_campaign_t  *c;

    e[0] = device;

    for (i = 1; i < 6; i++) {
        e[i] = lists[i - 1];

        if (e[i]->type != REDIS_REPLY_ARRAY) {
            goto bad;
        }
    }

    /* per object, its instances' leaves: [name, value, ...] */

    if (ngx_array_init(&in->objects, r->pool, e[5]->elements + 1,
                       sizeof(ngx_array_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < e[5]->elements; i++) {
        o = e[5]->element[i];

        if (o->type != REDIS_REPLY_ARRAY || o->elements % 2) {
            goto bad;
        }

        a = ngx_array_push(&in->objects);
        if (a == NULL
            || ngx_array_init(a, r->pool, o->elements / 2 + 1,
                              sizeof(ngx_keyval_t)) != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (j = 0; j < o->elements; j += 2) {
            kv = ngx_array_push(a);
            if (kv == NULL
                || ngx_http_cwmp_store_value(r, o->element[j], &kv->key)
                   != NGX_OK
                || ngx_http_cwmp_store_value(r, o->element[j + 1],
                                             &kv->value)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (e[3]->elements % 2 || e[4]->elements % 3) {
        goto bad;
    }

    if (device) {
        if (device->type != REDIS_REPLY_ARRAY
            || device->elements != NGX_HTTP_CWMP_DEV_FIELDS)
        {
            goto bad;
        }

        for (i = 0; i < NGX_HTTP_CWMP_DEV_FIELDS; i++) {
            if (ngx_http_cwmp_store_value(r, device->element[i],
                                          &in->device[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (ngx_array_init(&in->values, r->pool, e[1]->elements + 1,
                       sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&in->tags, r->pool, e[2]->elements + 1,
                          sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&in->state, r->pool, e[3]->elements / 2 + 1,
                          sizeof(ngx_keyval_t)) != NGX_OK
        || ngx_array_init(&in->campaigns, r->pool, e[4]->elements / 3 + 1,
                          sizeof(ngx_http_cwmp_store_campaign_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (j = 1; j < 3; j++) {
        for (i = 0; i < e[j]->elements; i++) {
            s = ngx_array_push(j == 1 ? &in->values : &in->tags);
            if (s == NULL
                || ngx_http_cwmp_store_value(r, e[j]->element[i], s)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    for (i = 0; i < e[3]->elements; i += 2) {
        kv = ngx_array_push(&in->state);
        if (kv == NULL
            || ngx_http_cwmp_store_value(r, e[3]->element[i], &kv->key)
               != NGX_OK
            || ngx_http_cwmp_store_value(r, e[3]->element[i + 1], &kv->value)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < e[4]->elements; i += 3) {
        c = ngx_array_push(&in->campaigns);
        if (c == NULL
            || ngx_http_cwmp_store_value(r, e[4]->element[i], &c->paused)
               != NGX_OK
            || ngx_http_cwmp_store_value(r, e[4]->element[i + 2], &c->device)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        c->in_progress = 0;

        if (e[4]->element[i + 1]->type == REDIS_REPLY_STRING) {
            c->in_progress = ngx_atoi((u_char *) e[4]->element[i + 1]->str,
                                      e[4]->element[i + 1]->len);
        }
    }

    return NGX_OK;

bad:

    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "redis answered the policies' inputs unexpectedly");

    return NGX_ERROR;
}


/* a string of a reply, or absent (.data NULL) for a nil; "" stays "" */

static ngx_int_t
ngx_http_cwmp_store_value(ngx_http_request_t *r, redisReply *rr,
    ngx_str_t *s)
{
    if (rr->type == REDIS_REPLY_STRING) {
        if (ngx_http_cwmp_store_copy(r, rr, s) != NGX_OK) {
            return NGX_ERROR;
        }

        if (s->data == NULL) {
            s->data = (u_char *) "";
        }

        return NGX_OK;
    }

    ngx_str_null(s);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_store_copy(ngx_http_request_t *r, redisReply *rr, ngx_str_t *s)
{
    s->len = rr->len;

    if (s->len == 0) {
        s->data = NULL;
        return NGX_OK;
    }

    s->data = ngx_pnalloc(r->pool, s->len);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, rr->str, s->len);

    return NGX_OK;
}


static void
ngx_http_cwmp_store_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_store_ctx_t  *ctx;

    ctx = op->data;

    ctx->op = NULL;
    ctx->cln->handler = NULL;

    if (rc == NGX_ABORT) {
        return;
    }

    if (rc == NGX_OK && ctx->busy) {
        rc = NGX_BUSY;
    }

    ctx->handler(ctx->r, rc);
}


/* the request goes before Redis answered: the op must not reach it */

static void
ngx_http_cwmp_store_cleanup(void *data)
{
    ngx_http_cwmp_store_ctx_t  *ctx = data;

    if (ctx->op) {
        ngx_http_cwmp_redis_cancel(ctx->op);
        ctx->op = NULL;
    }
}


/*
 * Connection requests (ngx_http_cwmp_connreq.c): each call makes an op of
 * one step, for the caller to submit; args live in "pool".
 */

#define ngx_http_cwmp_store_arg(a, s)                                        \
    (a)->data = (u_char *) (s); (a)->len = ngx_strlen(s)


/* the entries of cwmp:connreq for this consumer: new ones, or taken over */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_take(ngx_str_t *prefix, ngx_pool_t *pool,
    ngx_str_t *consumer, ngx_uint_t count, ngx_msec_t claim, ngx_log_t *log)
{
    ngx_str_t                  *a, key, n, idle;
    ngx_http_cwmp_redis_cmd_t   cmd;

    a = ngx_palloc(pool, 10 * sizeof(ngx_str_t));
    n.data = ngx_pnalloc(pool, NGX_INT_T_LEN);

    if (a == NULL || n.data == NULL
        || ngx_http_cwmp_store_pkey(pool, prefix, &key, NULL, "connreq")
           != NGX_OK)
    {
        return NULL;
    }

    n.len = ngx_sprintf(n.data, "%ui", count) - n.data;

    cmd.args = a;

    if (claim) {
        /* an entry a dead worker took, idle for "claim" ms, is served here */
        idle.data = ngx_pnalloc(pool, NGX_INT_T_LEN);
        if (idle.data == NULL) {
            return NULL;
        }

        idle.len = ngx_sprintf(idle.data, "%M", claim) - idle.data;

        ngx_http_cwmp_store_arg(&a[0], "XAUTOCLAIM");
        a[1] = key;
        ngx_http_cwmp_store_arg(&a[2], "cwmp");
        a[3] = *consumer;
        a[4] = idle;
        ngx_http_cwmp_store_arg(&a[5], "0-0");
        ngx_http_cwmp_store_arg(&a[6], "COUNT");
        a[7] = n;
        cmd.nargs = 8;

    } else {
        ngx_http_cwmp_store_arg(&a[0], "XREADGROUP");
        ngx_http_cwmp_store_arg(&a[1], "GROUP");
        ngx_http_cwmp_store_arg(&a[2], "cwmp");
        a[3] = *consumer;
        ngx_http_cwmp_store_arg(&a[4], "COUNT");
        a[5] = n;
        ngx_http_cwmp_store_arg(&a[6], "STREAMS");
        a[7] = key;
        ngx_http_cwmp_store_arg(&a[8], ">");
        cmd.nargs = 9;
    }

    return ngx_http_cwmp_redis_op_create(&cmd, 1, log);
}


/* the consumer group, from the stream's start (MKSTREAM: none yet) */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_group(ngx_str_t *prefix, ngx_pool_t *pool,
    ngx_log_t *log)
{
    ngx_str_t                  *a;
    ngx_http_cwmp_redis_cmd_t   cmd;

    a = ngx_palloc(pool, 6 * sizeof(ngx_str_t));
    if (a == NULL
        || ngx_http_cwmp_store_pkey(pool, prefix, &a[2], NULL, "connreq")
           != NGX_OK)
    {
        return NULL;
    }

    ngx_http_cwmp_store_arg(&a[0], "XGROUP");
    ngx_http_cwmp_store_arg(&a[1], "CREATE");
    ngx_http_cwmp_store_arg(&a[3], "cwmp");
    ngx_http_cwmp_store_arg(&a[4], "0");
    ngx_http_cwmp_store_arg(&a[5], "MKSTREAM");

    cmd.args = a;
    cmd.nargs = 6;

    return ngx_http_cwmp_redis_op_create(&cmd, 1, log);
}


/* connreq_prepare.lua: coalesced, or where and how to reach the device */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_prepare(ngx_http_cwmp_redis_node_t *node,
    ngx_str_t *prefix, ngx_pool_t *pool, ngx_str_t *device_id,
    ngx_msec_t window, ngx_log_t *log)
{
    ngx_str_t                  *a;
    ngx_uint_t                  i;
    ngx_http_cwmp_redis_cmd_t   cmd;

    static char  *keys[] = { "", ":params", ":connreq", ":crlock",
                             ":stun" };

    a = ngx_palloc(pool, 9 * sizeof(ngx_str_t));
    if (a == NULL) {
        return NULL;
    }

    ngx_http_cwmp_store_arg(&a[0], "EVALSHA");
    a[1] = *ngx_http_cwmp_redis_script(node,
                                       NGX_HTTP_CWMP_SCRIPT_CONNREQ_PREPARE);
    ngx_http_cwmp_store_arg(&a[2], "5");

    for (i = 0; i < 5; i++) {
        if (ngx_http_cwmp_store_pkey(pool, prefix, &a[3 + i], device_id,
                                     keys[i])
            != NGX_OK)
        {
            return NULL;
        }
    }

    a[8].data = ngx_pnalloc(pool, NGX_INT_T_LEN);
    if (a[8].data == NULL) {
        return NULL;
    }

    a[8].len = ngx_sprintf(a[8].data, "%M", window) - a[8].data;

    cmd.args = a;
    cmd.nargs = 9;

    return ngx_http_cwmp_redis_op_create(&cmd, 1, log);
}


/* the outcome in cwmp:results, and the entry acknowledged */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_connreq_done(ngx_str_t *prefix, ngx_pool_t *pool,
    ngx_str_t *device_id, ngx_str_t *entry, ngx_str_t *status,
    ngx_str_t *result, ngx_log_t *log)
{
    u_char                     *p;
    ngx_str_t                  *a, *b;
    ngx_http_cwmp_redis_cmd_t   cmds[2];

    a = ngx_palloc(pool, 19 * sizeof(ngx_str_t));
    b = ngx_palloc(pool, 4 * sizeof(ngx_str_t));
    p = ngx_pnalloc(pool, sizeof("connreq:") - 1 + entry->len + NGX_TIME_T_LEN);

    if (a == NULL || b == NULL || p == NULL
        || ngx_http_cwmp_store_pkey(pool, prefix, &a[1], NULL, "results")
           != NGX_OK
        || ngx_http_cwmp_store_pkey(pool, prefix, &b[1], NULL, "connreq")
           != NGX_OK)
    {
        return NULL;
    }

    ngx_http_cwmp_store_arg(&a[0], "XADD");
    ngx_http_cwmp_store_arg(&a[2], "MAXLEN");
    ngx_http_cwmp_store_arg(&a[3], "~");
    ngx_http_cwmp_store_arg(&a[4], "1000000");
    ngx_http_cwmp_store_arg(&a[5], "*");
    ngx_http_cwmp_store_arg(&a[6], "device");
    a[7] = *device_id;
    ngx_http_cwmp_store_arg(&a[8], "task");
    a[9].data = p;
    a[9].len = ngx_sprintf(p, "connreq:%V", entry) - p;
    p += a[9].len;
    ngx_http_cwmp_store_arg(&a[10], "name");
    ngx_http_cwmp_store_arg(&a[11], "connectionRequest");
    ngx_http_cwmp_store_arg(&a[12], "status");
    a[13] = *status;
    ngx_http_cwmp_store_arg(&a[14], "result");
    a[15] = *result;
    ngx_http_cwmp_store_arg(&a[16], "time");
    a[17].data = p;
    a[17].len = ngx_sprintf(p, "%T", ngx_time()) - p;

    ngx_http_cwmp_store_arg(&b[0], "XACK");
    ngx_http_cwmp_store_arg(&b[2], "cwmp");
    b[3] = *entry;

    cmds[0].args = a;
    cmds[0].nargs = 18;
    cmds[1].args = b;
    cmds[1].nargs = 4;

    return ngx_http_cwmp_redis_op_create(cmds, 2, log);
}


/*
 * A STUN binding (ngx_stream_cwmp_stun_module.c): stun_binding.lua checks
 * the device's own STUN password when Redis has one, else takes "trusted"
 * (the shared password checked, or none set), and records the address.
 */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_stun(ngx_http_cwmp_redis_node_t *node, ngx_str_t *prefix,
    ngx_pool_t *pool, ngx_str_t *device_id, ngx_str_t *address,
    ngx_uint_t change, ngx_uint_t trusted, ngx_str_t *signed_text,
    ngx_str_t *mi, ngx_log_t *log)
{
    u_char                     *p;
    ngx_str_t                  *a;
    ngx_http_cwmp_redis_cmd_t   cmd;

    a = ngx_palloc(pool, 11 * sizeof(ngx_str_t));
    p = ngx_pnalloc(pool, NGX_TIME_T_LEN);

    if (a == NULL || p == NULL
        || ngx_http_cwmp_store_pkey(pool, prefix, &a[3], device_id,
                                    ":connreq")
           != NGX_OK
        || ngx_http_cwmp_store_pkey(pool, prefix, &a[4], device_id, ":stun")
           != NGX_OK)
    {
        return NULL;
    }

    ngx_http_cwmp_store_arg(&a[0], "EVALSHA");
    a[1] = *ngx_http_cwmp_redis_script(node,
                                       NGX_HTTP_CWMP_SCRIPT_STUN_BINDING);
    ngx_http_cwmp_store_arg(&a[2], "2");
    a[5] = *address;
    a[6].data = p;
    a[6].len = ngx_sprintf(p, "%T", ngx_time()) - p;
    ngx_http_cwmp_store_arg(&a[7], change ? "1" : "0");
    ngx_http_cwmp_store_arg(&a[8], trusted ? "1" : "0");
    a[9] = *signed_text;
    a[10] = *mi;

    cmd.args = a;
    cmd.nargs = 11;

    return ngx_http_cwmp_redis_op_create(&cmd, 1, log);
}


/* 1: recorded, 0: not authentic; NGX_ERROR: an unexpected answer */

ngx_int_t
ngx_http_cwmp_store_stun_recorded(void *reply)
{
    redisReply  *rr;

    rr = reply;

    if (rr->type != REDIS_REPLY_INTEGER) {
        return NGX_ERROR;
    }

    return rr->integer == 1 ? NGX_OK : NGX_DECLINED;
}


/*
 * The replies of the connection request ops, for ngx_http_cwmp_connreq.c
 * (which knows nothing of hiredis).
 *
 * XREADGROUP: [[stream, [[id, [field, value, ...]], ...]]] or nil;
 * XAUTOCLAIM: [next, [[id, [field, value, ...]], ...], [deleted]].
 * Each entry goes to handler with its id and "device" field (empty when
 * it has none).  NGX_DECLINED: the consumer group does not exist yet.
 */

ngx_int_t
ngx_http_cwmp_store_connreq_entries(void *reply,
    ngx_http_cwmp_store_entry_pt handler)
{
    ngx_str_t    id, device;
    ngx_uint_t   j, k;
    redisReply  *rr, *entries, *e, *f;

    rr = reply;
    entries = NULL;

    if (rr->type == REDIS_REPLY_ERROR) {
        if (rr->len >= 7 && ngx_strncmp(rr->str, "NOGROUP", 7) == 0) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "cwmp: reading connection requests: \"%*s\"",
                      rr->len, rr->str);
        return NGX_ERROR;
    }

    if (rr->type == REDIS_REPLY_ARRAY && rr->elements >= 2
        && rr->element[0]->type == REDIS_REPLY_STRING
        && rr->element[1]->type == REDIS_REPLY_ARRAY)
    {
        entries = rr->element[1];                       /* XAUTOCLAIM */

    } else if (rr->type == REDIS_REPLY_ARRAY && rr->elements == 1
               && rr->element[0]->type == REDIS_REPLY_ARRAY
               && rr->element[0]->elements == 2
               && rr->element[0]->element[1]->type == REDIS_REPLY_ARRAY)
    {
        entries = rr->element[0]->element[1];           /* XREADGROUP */
    }

    for (j = 0; entries && j < entries->elements; j++) {
        e = entries->element[j];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
            || e->element[0]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        id.data = (u_char *) e->element[0]->str;
        id.len = e->element[0]->len;
        ngx_str_set(&device, "");

        f = e->element[1];

        for (k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements;
             k += 2)
        {
            if (f->element[k]->type == REDIS_REPLY_STRING
                && f->element[k + 1]->type == REDIS_REPLY_STRING
                && f->element[k]->len == sizeof("device") - 1
                && ngx_strncmp(f->element[k]->str, "device", 6) == 0
                && f->element[k + 1]->len <= 256)
            {
                device.data = (u_char *) f->element[k + 1]->str;
                device.len = f->element[k + 1]->len;
            }
        }

        handler(&id, &device);
    }

    return NGX_OK;
}


/* connreq_prepare.lua's answer: n strings, copied NUL-terminated */

ngx_int_t
ngx_http_cwmp_store_connreq_prepared(void *reply, ngx_pool_t *pool,
    ngx_str_t *out, ngx_uint_t n)
{
    ngx_uint_t   k;
    redisReply  *rr;

    rr = reply;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != n) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "cwmp: redis answered a connection request "
                      "unexpectedly");
        return NGX_ERROR;
    }

    for (k = 0; k < n; k++) {
        if (rr->element[k]->type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }

        out[k].len = rr->element[k]->len;
        out[k].data = ngx_pnalloc(pool, out[k].len + 1);
        if (out[k].data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(out[k].data, rr->element[k]->str, out[k].len);
        out[k].data[out[k].len] = '\0';
    }

    return NGX_OK;
}

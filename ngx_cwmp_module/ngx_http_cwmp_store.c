
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
 * (redis-schema/scripts), one round trip; each script's KEYS come from
 * its header (ngx_http_cwmp_scripts.c), its arguments are written here in
 * the header's order.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_http_cwmp_store.h"


/* a call in progress: the cleanup's data, in the owner's pool */

typedef struct {
    ngx_http_cwmp_redis_op_t        *op;
    ngx_pool_cleanup_t              *cln;
    ngx_pool_t                      *pool;
    ngx_log_t                       *log;
    void                            *data;
    ngx_http_cwmp_store_handler_pt   handler;
    void                            *out;      /* what the reply fills:
                                                  a turn, an auth */
    ngx_uint_t                       busy;     /* BUSY or NOT_OURS */
} ngx_http_cwmp_store_ctx_t;


static ngx_int_t ngx_http_cwmp_store_key(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_str_t *key, ngx_str_t *device_id, char *name);
static ngx_int_t ngx_http_cwmp_store_call(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_redis_reply_pt reply,
    ngx_http_cwmp_store_handler_pt handler, void *out);
static ngx_int_t ngx_http_cwmp_store_turn(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_opened(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_recorded(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_inputs(ngx_http_cwmp_store_ctx_t *ctx,
    redisReply *device, redisReply **lists, ngx_http_cwmp_store_inputs_t *in);
static ngx_int_t ngx_http_cwmp_store_value(ngx_pool_t *pool, redisReply *rr,
    ngx_str_t *s);
static ngx_int_t ngx_http_cwmp_store_copy(ngx_pool_t *pool, redisReply *rr,
    ngx_str_t *s);
static ngx_int_t ngx_http_cwmp_store_check(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_authed(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_store_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_store_cleanup(void *data);


ngx_int_t
ngx_http_cwmp_store_available(ngx_http_cwmp_store_t *st)
{
    return ngx_http_cwmp_redis_available(st->node);
}


/* operations this worker has sent or queued and not yet seen answered */

ngx_uint_t
ngx_http_cwmp_store_pending(ngx_http_cwmp_store_t *st)
{
    return ngx_http_cwmp_redis_pending(st->node);
}


ngx_int_t
ngx_http_cwmp_store_inform(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_inform_t *inform,
    ngx_http_cwmp_store_turn_t *turn, ngx_http_cwmp_store_handler_pt handler)
{
    ngx_str_t                   now, *v;
    ngx_uint_t                  i, ntypes, nfields, boot, bootstrap;
    ngx_str_t                   device[NGX_HTTP_CWMP_DEV_FIELDS];
    ngx_http_cwmp_msg_t        *msg;
    ngx_http_cwmp_event_t      *ev;
    ngx_http_cwmp_param_t      *param;
    ngx_http_cwmp_store_cmd_t   c;

    msg = inform->msg;

    /* the events, and what the summary keeps of the parameters */

    if (ngx_http_cwmp_store_fields(owner->pool, msg, device) != NGX_OK) {
        return NGX_ERROR;
    }

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

    nfields = 8 + boot + bootstrap
              + (device[NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION].len != 0)
              + (device[NGX_HTTP_CWMP_DEV_HARDWARE_VERSION].len != 0)
              + (device[NGX_HTTP_CWMP_DEV_DATA_MODEL].len != 0);

    if (ngx_http_cwmp_store_script(&c, st, owner,
                                   NGX_HTTP_CWMP_SCRIPT_SESSION_OPEN,
                                   &inform->device_id,
                                   10 + 4 + 2 * nfields
                                   + 2 * msg->params.nelts + 2 * ntypes
                                   + 2 * msg->events.nelts + 5
                                   + (inform->wanted
                                      ? inform->wanted->nelts : 0)
                                   + (inform->campaigns
                                      ? inform->campaigns->nelts : 0)
                                   + (inform->objects
                                      ? inform->objects->nelts : 0))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(&c, &inform->token);
    ngx_http_cwmp_store_arg(&c, &inform->held);
    ngx_http_cwmp_store_arg_num(&c, inform->session_timeout);

    /* the time, kept: every field of this Inform says the same */
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
    now = c.cmd.args[c.cmd.nargs - 1];

    ngx_http_cwmp_store_arg(&c, &inform->version);
    ngx_http_cwmp_store_arg(&c, &inform->remote_addr);
    ngx_http_cwmp_store_arg(&c, &inform->device_id);
    ngx_http_cwmp_store_arg(&c, &inform->msg->ns);
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) inform->takeover);
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) inform->transfer_timeout);

    ngx_http_cwmp_store_arg_num(&c, nfields);

#define ngx_http_cwmp_store_field(name, value)                               \
    ngx_http_cwmp_store_arg_text(&c, name);                                  \
    ngx_http_cwmp_store_arg(&c, value)

    ngx_http_cwmp_store_field("oui", &msg->oui);
    ngx_http_cwmp_store_field("product_class", &msg->product_class);
    ngx_http_cwmp_store_field("serial_number", &msg->serial_number);
    ngx_http_cwmp_store_field("manufacturer", &msg->manufacturer);
    ngx_http_cwmp_store_field("last_inform", &now);
    ngx_http_cwmp_store_field("cwmp_version", &inform->version);
    ngx_http_cwmp_store_field("remote_addr", &inform->remote_addr);
    ngx_http_cwmp_store_field("last_events",
                              &device[NGX_HTTP_CWMP_DEV_LAST_EVENTS]);

    if (boot) {
        ngx_http_cwmp_store_field("last_boot", &now);
    }

    if (bootstrap) {
        ngx_http_cwmp_store_field("last_bootstrap", &now);
    }

    v = &device[NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION];
    if (v->len) {
        ngx_http_cwmp_store_field("software_version", v);
    }

    v = &device[NGX_HTTP_CWMP_DEV_HARDWARE_VERSION];
    if (v->len) {
        ngx_http_cwmp_store_field("hardware_version", v);
    }

    v = &device[NGX_HTTP_CWMP_DEV_DATA_MODEL];
    if (v->len) {
        ngx_http_cwmp_store_field("data_model", v);
    }

#undef ngx_http_cwmp_store_field

    ngx_http_cwmp_store_arg_num(&c, msg->params.nelts);

    for (i = 0; i < msg->params.nelts; i++) {
        ngx_http_cwmp_store_arg(&c, &param[i].name);
        ngx_http_cwmp_store_arg(&c, &param[i].value);
    }

    ngx_http_cwmp_store_arg_num(&c, ntypes);

    for (i = 0; i < msg->params.nelts; i++) {
        if (param[i].type.len
            && ngx_strcmp(param[i].type.data, "xsd:string") != 0)
        {
            ngx_http_cwmp_store_arg(&c, &param[i].name);
            ngx_http_cwmp_store_arg(&c, &param[i].type);
        }
    }

    ngx_http_cwmp_store_arg_num(&c, msg->events.nelts);

    for (i = 0; i < msg->events.nelts; i++) {
        ngx_http_cwmp_store_arg(&c, &ev[i].code);
        ngx_http_cwmp_store_arg(&c, &ev[i].command_key);
    }

    /* the policies: what they read of the device comes back */

    if (inform->wanted && turn) {
        ngx_http_cwmp_store_arg_text(&c, inform->tags ? "2" : "1");
        ngx_memcpy(turn->inputs.device, device, sizeof(device));

    } else {
        ngx_http_cwmp_store_arg_text(&c, "0");
    }

    ngx_http_cwmp_store_arg_key(&c, "campaign:");
    ngx_http_cwmp_store_arg_list(&c, inform->wanted);
    ngx_http_cwmp_store_arg_list(&c, inform->campaigns);
    ngx_http_cwmp_store_arg_list(&c, inform->objects);

    return ngx_http_cwmp_store_call(&c, owner, ngx_http_cwmp_store_opened,
                                    handler, turn);
}


/*
 * The device's fields as the summary keeps them, from its Inform: the
 * DeviceId, SoftwareVersion and HardwareVersion, the data model's root,
 * the events ("0 BOOTSTRAP,1 BOOT").  Absent ones have .data NULL.
 */

ngx_int_t
ngx_http_cwmp_store_fields(ngx_pool_t *pool, ngx_http_cwmp_msg_t *msg,
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

    f->data = ngx_pnalloc(pool, len + 1);
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
ngx_http_cwmp_store_plan(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_str_t *device_id,
    ngx_str_t *plan, ngx_str_t *ops, ngx_http_cwmp_store_handler_pt handler)
{
    ngx_str_t                  key;
    ngx_http_cwmp_store_cmd_t  c;

    if (ngx_http_cwmp_store_cmd(&c, st, owner, 6, "HSET") != NGX_OK
        || ngx_http_cwmp_store_key(owner->pool, &st->prefix, &key, device_id,
                                   ":session")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(&c, &key);
    ngx_http_cwmp_store_arg_text(&c, "plan");
    ngx_http_cwmp_store_arg(&c, plan);
    ngx_http_cwmp_store_arg_text(&c, "ops");
    ngx_http_cwmp_store_arg(&c, ops);

    return ngx_http_cwmp_store_call(&c, owner, ngx_http_cwmp_store_check,
                                    handler, NULL);
}


/*
 * One step of the ACS turn, one script (session_step.lua): the outcome of
 * the task in flight, if any, is stored (result, dequeue, cache) and the
 * next task handed out.
 */

ngx_int_t
ngx_http_cwmp_store_step(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_step_t *step,
    ngx_http_cwmp_store_turn_t *turn, ngx_http_cwmp_store_handler_pt handler)
{
    ngx_uint_t                  i, nparams;
    ngx_http_cwmp_param_t      *param;
    ngx_http_cwmp_outcome_t    *o;
    ngx_http_cwmp_store_cmd_t   c;

    o = step->outcome;
    nparams = o ? o->params.nelts : 0;

    if (ngx_http_cwmp_store_script(&c, st, owner,
                                   NGX_HTTP_CWMP_SCRIPT_SESSION_STEP,
                                   &step->device_id,
                                   13 + 3 * nparams + 8
                                   + (step->wanted ? step->wanted->nelts : 0)
                                   + (step->campaigns
                                      ? step->campaigns->nelts : 0)
                                   + ((step->wanted && step->objects)
                                      ? step->objects->nelts : 0))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(&c, &step->token);
    ngx_http_cwmp_store_arg(&c, &step->answered);
    ngx_http_cwmp_store_arg(&c, &step->rpc_id);
    ngx_http_cwmp_store_arg_num(&c, step->session_timeout);
    ngx_http_cwmp_store_arg(&c, &step->device_id);

    if (o == NULL) {
        /* the turn begins: no outcome */
        ngx_http_cwmp_store_arg_text(&c, "");
        ngx_http_cwmp_store_arg_text(&c, "");
        ngx_http_cwmp_store_arg_text(&c, "0");
        ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
        ngx_http_cwmp_store_arg_text(&c, "");
        ngx_http_cwmp_store_arg(&c, &step->conn);
        ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) step->transfer_timeout);
        ngx_http_cwmp_store_arg_text(&c, "0");

    } else {
        ngx_http_cwmp_store_arg(&c, &o->status);
        ngx_http_cwmp_store_arg(&c, &o->result);
        ngx_http_cwmp_store_arg_text(&c, o->apply ? "1" : "0");
        ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());
        ngx_http_cwmp_store_arg(&c, &o->answer);
        ngx_http_cwmp_store_arg(&c, &step->conn);
        ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) step->transfer_timeout);
        ngx_http_cwmp_store_arg_num(&c, nparams);

        param = o->params.elts;

        for (i = 0; i < nparams; i++) {
            ngx_http_cwmp_store_arg(&c, &param[i].name);
            ngx_http_cwmp_store_arg(&c, &param[i].value);
            ngx_http_cwmp_store_arg(&c, &param[i].type);
        }
    }

    /* the policies: what an evaluation needs, or what one found */

    ngx_http_cwmp_store_arg_num(&c, step->rounds);
    ngx_http_cwmp_store_arg(&c, &step->plan);
    ngx_http_cwmp_store_arg(&c, &step->ops);
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) step->backoff_cap);
    ngx_http_cwmp_store_arg_key(&c, "campaign:");

    if (step->wanted == NULL && step->rounds) {
        /* not sent: session_step.lua asks for them when it needs them */
        ngx_http_cwmp_store_arg_text(&c, "-");

    } else {
        ngx_http_cwmp_store_arg_list(&c, step->wanted);
    }

    ngx_http_cwmp_store_arg_list(&c, step->campaigns);
    ngx_http_cwmp_store_arg_list(&c, step->wanted ? step->objects : NULL);

    return ngx_http_cwmp_store_call(&c, owner, ngx_http_cwmp_store_turn,
                                    handler, turn);
}


/* a CPE request in its session, recorded: NGX_BUSY when not its session */

ngx_int_t
ngx_http_cwmp_store_cpe_request(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_cpe_t *cpe,
    ngx_http_cwmp_store_handler_pt handler)
{
    ngx_http_cwmp_store_cmd_t  c;

    if (ngx_http_cwmp_store_script(&c, st, owner,
                                   NGX_HTTP_CWMP_SCRIPT_SESSION_CPE,
                                   &cpe->device_id, 9)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(&c, &cpe->token);
    ngx_http_cwmp_store_arg_num(&c, cpe->session_timeout);
    ngx_http_cwmp_store_arg(&c, &cpe->device_id);
    ngx_http_cwmp_store_arg(&c, &cpe->method);
    ngx_http_cwmp_store_arg(&c, &cpe->args);
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());

    /* a TransferComplete finishes the pending transfer it names */

    if (cpe->outcome) {
        ngx_http_cwmp_store_arg(&c, &cpe->command_key);
        ngx_http_cwmp_store_arg(&c, &cpe->outcome->status);
        ngx_http_cwmp_store_arg(&c, &cpe->outcome->result);

    } else {
        ngx_http_cwmp_store_arg_text(&c, "");
        ngx_http_cwmp_store_arg_text(&c, "");
        ngx_http_cwmp_store_arg_text(&c, "");
    }

    return ngx_http_cwmp_store_call(&c, owner, ngx_http_cwmp_store_recorded,
                                    handler, NULL);
}


/*
 * A CPE authenticating (auth.lua): the limits and the nonce count checked
 * and its credentials fetched, or a failed attempt counted
 */

ngx_int_t
ngx_http_cwmp_store_auth(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_auth_t *auth,
    ngx_http_cwmp_store_handler_pt handler)
{
    u_char                     *p;
    ngx_str_t                  *key;
    ngx_http_cwmp_store_cmd_t   c;

    if (ngx_http_cwmp_store_script(&c, st, owner, NGX_HTTP_CWMP_SCRIPT_AUTH,
                                   &auth->device_id, 8)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* KEYS[3], cwmp:authfail:<address>: the address completes it */

    key = &c.cmd.args[3 + 2];

    p = ngx_pnalloc(owner->pool, key->len + auth->addr.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, key->data, key->len);
    ngx_memcpy(p + key->len, auth->addr.data, auth->addr.len);
    key->data = p;
    key->len += auth->addr.len;

    ngx_http_cwmp_store_arg_text(&c, auth->fail ? "fail" : "check");
    ngx_http_cwmp_store_arg_num(&c, auth->limit_device);
    ngx_http_cwmp_store_arg_num(&c, auth->limit_addr);
    ngx_http_cwmp_store_arg_num(&c, auth->window);
    ngx_http_cwmp_store_arg(&c, &auth->nonce);
    ngx_http_cwmp_store_arg(&c, &auth->nc);
    ngx_http_cwmp_store_arg_num(&c, auth->nonce_timeout);
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());

    return ngx_http_cwmp_store_call(&c, owner, ngx_http_cwmp_store_authed,
                                    handler, auth);
}


ngx_str_t *
ngx_http_cwmp_store_scripts(ngx_uint_t *n)
{
    *n = NGX_HTTP_CWMP_NSCRIPTS;

    return ngx_http_cwmp_scripts;
}


/* a command of max arguments at most, the first its name */

ngx_int_t
ngx_http_cwmp_store_cmd(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_t *st, ngx_http_cwmp_store_owner_t *owner,
    ngx_uint_t max, char *name)
{
    c->st = st;
    c->pool = owner->pool;
    c->log = owner->log;
    c->max = max;
    c->failed = 0;
    c->cmd.nargs = 0;

    c->cmd.args = ngx_palloc(owner->pool, max * sizeof(ngx_str_t));
    if (c->cmd.args == NULL) {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg_text(c, name);

    return NGX_OK;
}


/*
 * A script call: EVALSHA <sha> <nkeys> <keys>, and room for nargv more
 * arguments.  A key name starting with ":" (or empty) is the device's,
 * <prefix>device:{<ID>}<name>; any other is a global <prefix><name>.
 */

ngx_int_t
ngx_http_cwmp_store_script(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_t *st, ngx_http_cwmp_store_owner_t *owner,
    ngx_uint_t script, ngx_str_t *device_id, ngx_uint_t nargv)
{
    char       **keys;
    ngx_uint_t   i, n;

    keys = ngx_http_cwmp_script_keys[script];

    for (n = 0; keys[n]; n++) { /* void */ }

    if (ngx_http_cwmp_store_cmd(c, st, owner, 3 + n + nargv, "EVALSHA")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(c, ngx_http_cwmp_redis_script(st->node, script));
    ngx_http_cwmp_store_arg_num(c, n);

    for (i = 0; i < n; i++) {
        if (ngx_http_cwmp_store_key(owner->pool, &st->prefix,
                                    &c->cmd.args[3 + i], device_id, keys[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    c->cmd.nargs += n;

    return NGX_OK;
}


void
ngx_http_cwmp_store_arg(ngx_http_cwmp_store_cmd_t *c, ngx_str_t *s)
{
    if (c->cmd.nargs == c->max) {
        c->failed = 1;
        return;
    }

    c->cmd.args[c->cmd.nargs++] = *s;
}


void
ngx_http_cwmp_store_arg_text(ngx_http_cwmp_store_cmd_t *c, char *s)
{
    ngx_str_t  a;

    a.data = (u_char *) s;
    a.len = ngx_strlen(s);

    ngx_http_cwmp_store_arg(c, &a);
}


/* a number as a command argument */

void
ngx_http_cwmp_store_arg_num(ngx_http_cwmp_store_cmd_t *c, ngx_uint_t n)
{
    ngx_str_t  a;

    a.data = ngx_pnalloc(c->pool, NGX_INT_T_LEN);
    if (a.data == NULL) {
        c->failed = 1;
        return;
    }

    a.len = ngx_sprintf(a.data, "%ui", n) - a.data;

    ngx_http_cwmp_store_arg(c, &a);
}


/* n, then the n strings of the list (NULL: none) */

void
ngx_http_cwmp_store_arg_list(ngx_http_cwmp_store_cmd_t *c, ngx_array_t *list)
{
    ngx_str_t   *s;
    ngx_uint_t   i, n;

    n = list ? list->nelts : 0;

    ngx_http_cwmp_store_arg_num(c, n);

    s = n ? list->elts : NULL;

    for (i = 0; i < n; i++) {
        ngx_http_cwmp_store_arg(c, &s[i]);
    }
}


/* a global key's name (its prefix, for a script to complete) */

void
ngx_http_cwmp_store_arg_key(ngx_http_cwmp_store_cmd_t *c, char *name)
{
    ngx_str_t  key;

    if (ngx_http_cwmp_store_key(c->pool, &c->st->prefix, &key, NULL, name)
        != NGX_OK)
    {
        c->failed = 1;
        return;
    }

    ngx_http_cwmp_store_arg(c, &key);
}


static ngx_int_t
ngx_http_cwmp_store_key(ngx_pool_t *pool, ngx_str_t *prefix, ngx_str_t *key,
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


/* the command written, sent on behalf of the owner */

static ngx_int_t
ngx_http_cwmp_store_call(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_redis_reply_pt reply,
    ngx_http_cwmp_store_handler_pt handler, void *out)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_cwmp_store_ctx_t  *ctx;

    if (c->failed) {
        if (c->cmd.nargs == c->max) {
            ngx_log_error(NGX_LOG_ALERT, owner->log, 0,
                          "cwmp: \"%V\" has more arguments than counted",
                          &c->cmd.args[0]);
        }

        return NGX_ERROR;
    }

    if (ngx_http_cwmp_redis_available(c->st->node) != NGX_OK) {
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(owner->pool,
                               sizeof(ngx_http_cwmp_store_ctx_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_cwmp_store_ctx_t));

    ctx->op = ngx_http_cwmp_redis_op_create(&c->cmd, 1, owner->log);
    if (ctx->op == NULL) {
        return NGX_ERROR;
    }

    ctx->cln = cln;
    ctx->pool = owner->pool;
    ctx->log = owner->log;
    ctx->data = owner->data;
    ctx->handler = handler;
    ctx->out = out;
    ctx->op->data = ctx;
    ctx->op->reply = reply;
    ctx->op->done = ngx_http_cwmp_store_done;

    if (ngx_http_cwmp_redis_submit(c->st->node, ctx->op, owner->log)
        != NGX_OK)
    {
        /* the op is freed */
        ctx->op = NULL;
        return NGX_DECLINED;
    }

    cln->handler = ngx_http_cwmp_store_cleanup;

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

    ngx_log_error(NGX_LOG_ERR, ctx->log, 0,
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
        || rr->element[0]->type != REDIS_REPLY_INTEGER
        || rr->element[1]->type != REDIS_REPLY_INTEGER)
    {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    for (j = 2; j < 7; j++) {
        if (rr->element[j]->type != REDIS_REPLY_STRING) {
            ngx_log_error(NGX_LOG_ERR, ctx->log, 0,
                          "redis: unexpected reply to auth.lua");
            return NGX_ERROR;
        }
    }

    auth->status = (ngx_http_cwmp_auth_e) rr->element[0]->integer;
    auth->retry = (rr->element[1]->integer > 0)
                  ? (ngx_msec_t) rr->element[1]->integer : 0;

    if (ngx_http_cwmp_store_copy(ctx->pool, rr->element[2],
                                 &auth->creds.password) != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->pool, rr->element[3],
                                    &auth->creds.ha1_md5) != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->pool, rr->element[4],
                                    &auth->creds.ha1_sha256) != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->pool, rr->element[5],
                                    &auth->creds.next_password) != NGX_OK
        || ngx_http_cwmp_store_copy(ctx->pool, rr->element[6],
                                    &auth->creds.previous_password)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* session_open.lua: OPEN, with the policies' inputs or not; BUSY */

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

    /* {OPEN, wanted values, tags, policy state, campaigns, objects} */

    if (rr->type == REDIS_REPLY_ARRAY && turn && rr->elements == 6
        && rr->element[0]->type == REDIS_REPLY_INTEGER)
    {
        ctx->busy = (rr->element[0]->integer
                     != NGX_HTTP_CWMP_SESSION_OPEN_OPEN);
        turn->evaluate = 1;

        return ngx_http_cwmp_store_inputs(ctx, NULL, &rr->element[1],
                                          &turn->inputs);
    }

    if (rr->type != REDIS_REPLY_INTEGER) {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    ctx->busy = (rr->integer != NGX_HTTP_CWMP_SESSION_OPEN_OPEN);

    if (turn) {
        /* busy, or no policies: nothing to evaluate */
        turn->evaluate = 0;
    }

    return NGX_OK;
}


/* session_cpe.lua: RECORDED, or NOT_OURS */

static ngx_int_t
ngx_http_cwmp_store_recorded(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                 *rr;
    ngx_http_cwmp_store_ctx_t  *ctx;

    ctx = op->data;
    rr = reply;

    if (rr->type != REDIS_REPLY_INTEGER) {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    ctx->busy = (rr->integer != NGX_HTTP_CWMP_SESSION_CPE_RECORDED);

    return NGX_OK;
}


/* {status, task, ns, types, ...} of session_step.lua */

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
            ngx_log_error(NGX_LOG_ALERT, ctx->log, 0,
                          "redis answered a session script unexpectedly");
        }

        return NGX_ERROR;
    }

    turn->status = (ngx_http_cwmp_session_step_e) rr->element[0]->integer;

    if (ngx_http_cwmp_store_copy(ctx->pool, rr->element[1], &turn->task)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_null(&turn->ns);
    ngx_str_null(&turn->types);
    ngx_str_null(&turn->rpc_id);

    if (rr->elements > 2 && rr->element[2]->type == REDIS_REPLY_STRING
        && ngx_http_cwmp_store_copy(ctx->pool, rr->element[2], &turn->ns)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rr->elements > 3 && rr->element[3]->type == REDIS_REPLY_STRING
        && ngx_http_cwmp_store_copy(ctx->pool, rr->element[3], &turn->types)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (turn->status == NGX_HTTP_CWMP_SESSION_STEP_TASK
        && rr->elements > 4 && rr->element[4]->type == REDIS_REPLY_STRING
        && ngx_http_cwmp_store_copy(ctx->pool, rr->element[4], &turn->rpc_id)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (turn->status != NGX_HTTP_CWMP_SESSION_STEP_EVALUATE) {
        return NGX_OK;
    }

    if (rr->elements < 10) {
        ngx_log_error(NGX_LOG_ALERT, ctx->log, 0,
                      "redis answered the policies' turn unexpectedly");
        return NGX_ERROR;
    }

    return ngx_http_cwmp_store_inputs(ctx, rr->element[4], &rr->element[5],
                                      &turn->inputs);
}


/*
 * The policies' inputs, as session_open.lua and session_step.lua send them:
 * the device's fields (session_step only: the Inform has them), the wanted
 * values, tags, policy state (flat), campaigns (triples) and, per object,
 * its instances' cached leaves.
 */

static ngx_int_t
ngx_http_cwmp_store_inputs(ngx_http_cwmp_store_ctx_t *ctx,
    redisReply *device, redisReply **lists, ngx_http_cwmp_store_inputs_t *in)
{
    ngx_str_t                       *s;
    ngx_uint_t                       i, j;
    redisReply                      *e[6], *o;
    ngx_array_t                     *a;
    ngx_keyval_t                    *kv;
    ngx_pool_t                      *pool;
    ngx_http_cwmp_store_campaign_t  *c;

    pool = ctx->pool;
    e[0] = device;

    for (i = 1; i < 6; i++) {
        e[i] = lists[i - 1];

        if (e[i]->type != REDIS_REPLY_ARRAY) {
            goto bad;
        }
    }

    /* per object, its instances' leaves: [name, value, ...] */

    if (ngx_array_init(&in->objects, pool, e[5]->elements + 1,
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
            || ngx_array_init(a, pool, o->elements / 2 + 1,
                              sizeof(ngx_keyval_t)) != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (j = 0; j < o->elements; j += 2) {
            kv = ngx_array_push(a);
            if (kv == NULL
                || ngx_http_cwmp_store_value(pool, o->element[j], &kv->key)
                   != NGX_OK
                || ngx_http_cwmp_store_value(pool, o->element[j + 1],
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
            if (ngx_http_cwmp_store_value(pool, device->element[i],
                                          &in->device[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (ngx_array_init(&in->values, pool, e[1]->elements + 1,
                       sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&in->tags, pool, e[2]->elements + 1,
                          sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&in->state, pool, e[3]->elements / 2 + 1,
                          sizeof(ngx_keyval_t)) != NGX_OK
        || ngx_array_init(&in->campaigns, pool, e[4]->elements / 3 + 1,
                          sizeof(ngx_http_cwmp_store_campaign_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (j = 1; j < 3; j++) {
        for (i = 0; i < e[j]->elements; i++) {
            s = ngx_array_push(j == 1 ? &in->values : &in->tags);
            if (s == NULL
                || ngx_http_cwmp_store_value(pool, e[j]->element[i], s)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    for (i = 0; i < e[3]->elements; i += 2) {
        kv = ngx_array_push(&in->state);
        if (kv == NULL
            || ngx_http_cwmp_store_value(pool, e[3]->element[i], &kv->key)
               != NGX_OK
            || ngx_http_cwmp_store_value(pool, e[3]->element[i + 1], &kv->value)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < e[4]->elements; i += 3) {
        c = ngx_array_push(&in->campaigns);
        if (c == NULL
            || ngx_http_cwmp_store_value(pool, e[4]->element[i], &c->paused)
               != NGX_OK
            || ngx_http_cwmp_store_value(pool, e[4]->element[i + 2], &c->device)
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

    ngx_log_error(NGX_LOG_ALERT, ctx->log, 0,
                  "redis answered the policies' inputs unexpectedly");

    return NGX_ERROR;
}


/* a string of a reply, or absent (.data NULL) for a nil; "" stays "" */

static ngx_int_t
ngx_http_cwmp_store_value(ngx_pool_t *pool, redisReply *rr, ngx_str_t *s)
{
    if (rr->type == REDIS_REPLY_STRING) {
        if (ngx_http_cwmp_store_copy(pool, rr, s) != NGX_OK) {
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
ngx_http_cwmp_store_copy(ngx_pool_t *pool, redisReply *rr, ngx_str_t *s)
{
    s->len = rr->len;

    if (s->len == 0) {
        s->data = NULL;
        return NGX_OK;
    }

    s->data = ngx_pnalloc(pool, s->len);
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

    /* the last statement: the handler may free the pool ctx lives in */

    ctx->handler(ctx->data, rc);
}


/* the owner's pool goes before Redis answered: the op must not reach it */

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
 * The replies of the background calls (ngx_http_cwmp_store_connreq.c),
 * read here, where hiredis is known.  Connection requests:
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


/* NGX_OK: recorded; NGX_DECLINED: not authentic; NGX_ERROR: unexpected */

ngx_int_t
ngx_http_cwmp_store_stun_recorded(void *reply)
{
    redisReply  *rr;

    rr = reply;

    if (rr->type != REDIS_REPLY_INTEGER) {
        return NGX_ERROR;
    }

    return rr->integer == NGX_HTTP_CWMP_STUN_BINDING_RECORDED
           ? NGX_OK : NGX_DECLINED;
}


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
 *   cwmp:device:{ID}:outbox    STREAM  what its scripts say to shared keys
 *   cwmp:devices:{S}           ZSET    device ID scored by its last Inform
 *   cwmp:results:{S}           STREAM  finished tasks
 *   cwmp:requests:{S}          STREAM  CPE requests
 *
 * {ID} is a Redis Cluster hash tag, {S} a device's shard (0 to 15): a
 * script touches one slot.  Every step is one server-side script
 * (redis-schema/scripts) and a read of the device's outbox, one round
 * trip; what the outbox holds is relayed to the shared keys before the
 * owner hears back (ngx_http_cwmp_store_relay.c).  Each script's KEYS come
 * from its header (ngx_http_cwmp_scripts.c), its arguments are written
 * here in the header's order (ngx_http_cwmp_store_cmd.c writes commands).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_http_cwmp_store.h"




static ngx_int_t ngx_http_cwmp_store_end(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_step_t *step,
    ngx_http_cwmp_store_turn_t *turn, ngx_http_cwmp_store_handler_pt handler);
static ngx_int_t ngx_http_cwmp_store_turn(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_ended(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_opened(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_recorded(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_inputs(ngx_http_cwmp_store_ctx_t *ctx,
    redisReply *device, redisReply **lists, ngx_http_cwmp_store_inputs_t *in);
static ngx_int_t ngx_http_cwmp_store_copy(ngx_pool_t *pool, redisReply *rr,
    ngx_str_t *s);
static ngx_int_t ngx_http_cwmp_store_authed(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_address(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_int_t ngx_http_cwmp_store_main(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static ngx_http_cwmp_store_ctx_t *ngx_http_cwmp_store_ctx(
    ngx_http_cwmp_store_t *st, ngx_http_cwmp_store_owner_t *owner,
    ngx_http_cwmp_store_handler_pt handler, void *out);
static void ngx_http_cwmp_store_cleanup(void *data);


ngx_int_t
ngx_http_cwmp_store_available(ngx_http_cwmp_store_t *st)
{
    return ngx_http_cwmp_redis_available(st->redis);
}


/* operations this worker has sent or queued and not yet seen answered */

ngx_uint_t
ngx_http_cwmp_store_pending(ngx_http_cwmp_store_t *st)
{
    return ngx_http_cwmp_redis_pending(st->redis);
}


ngx_int_t
ngx_http_cwmp_store_inform(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_inform_t *inform,
    ngx_http_cwmp_store_turn_t *turn, ngx_http_cwmp_store_handler_pt handler)
{
    ngx_str_t                   now, digest, *v;
    ngx_uint_t                  i, ntypes, nfields, nparams, boot, bootstrap,
                                steady;
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
    steady = !inform->whole;
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

        } else if (ev[i].code.len == 14
                   && ngx_strncmp(ev[i].code.data, "4 VALUE CHANGE", 14)
                      == 0)
        {
            steady = 0;
        }
    }

    if (boot || bootstrap) {
        steady = 0;
    }

    if (ngx_http_cwmp_store_digest(st, owner->pool, inform, device, &digest)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * One script: stored, and the session opened, unless one is open.  A
     * steady Inform leaves out what Redis has if the digest is the same
     * (session_open.lua answers AGAIN when it is not)
     */

    param = msg->params.elts;
    ntypes = 0;

    if (steady) {
        nfields = 3;
        nparams = 0;

    } else {
        nfields = 9 + boot + bootstrap
                  + (device[NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION].len != 0)
                  + (device[NGX_HTTP_CWMP_DEV_HARDWARE_VERSION].len != 0)
                  + (device[NGX_HTTP_CWMP_DEV_DATA_MODEL].len != 0);
        nparams = msg->params.nelts;

        for (i = 0; i < nparams; i++) {
            if (param[i].type.len
                && ngx_strcmp(param[i].type.data, "xsd:string") != 0)
            {
                ntypes++;
            }
        }
    }

    if (ngx_http_cwmp_store_script(&c, st, owner,
                                   NGX_HTTP_CWMP_SCRIPT_SESSION_OPEN,
                                   &inform->device_id,
                                   12 + 4 + 2 * nfields
                                   + 2 * nparams + 2 * ntypes
                                   + 2 * msg->events.nelts + 4
                                   + (inform->wanted
                                      ? inform->wanted->nelts : 0)
                                   + (inform->campaigns
                                      ? 3 * inform->campaigns->nelts : 0)
                                   + (inform->objects
                                      ? inform->objects->nelts : 0)
                                   + ngx_http_cwmp_store_fleet_nargs(st))
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
    ngx_http_cwmp_store_arg(&c, &digest);
    ngx_http_cwmp_store_arg_text(&c, steady ? "1" : "0");

    ngx_http_cwmp_store_arg_num(&c, nfields);

#define ngx_http_cwmp_store_field(name, value)                               \
    ngx_http_cwmp_store_arg_text(&c, name);                                  \
    ngx_http_cwmp_store_arg(&c, value)

    ngx_http_cwmp_store_field("last_inform", &now);
    ngx_http_cwmp_store_field("remote_addr", &inform->remote_addr);
    ngx_http_cwmp_store_field("last_events",
                              &device[NGX_HTTP_CWMP_DEV_LAST_EVENTS]);

    if (!steady) {
        ngx_http_cwmp_store_field("oui", &msg->oui);
        ngx_http_cwmp_store_field("product_class", &msg->product_class);
        ngx_http_cwmp_store_field("serial_number", &msg->serial_number);
        ngx_http_cwmp_store_field("manufacturer", &msg->manufacturer);
        ngx_http_cwmp_store_field("cwmp_version", &inform->version);
        ngx_http_cwmp_store_field("inform_digest", &digest);

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
    }

#undef ngx_http_cwmp_store_field

    ngx_http_cwmp_store_arg_num(&c, nparams);

    for (i = 0; i < nparams; i++) {
        ngx_http_cwmp_store_arg(&c, &param[i].name);
        ngx_http_cwmp_store_arg(&c, &param[i].value);
    }

    ngx_http_cwmp_store_arg_num(&c, ntypes);

    for (i = 0; ntypes && i < msg->params.nelts; i++) {
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

    ngx_http_cwmp_store_arg_list(&c, inform->wanted);
    ngx_http_cwmp_store_arg_campaigns(&c, inform->campaigns);
    ngx_http_cwmp_store_arg_list(&c, inform->objects);
    ngx_http_cwmp_store_arg_fleet(&c);

    /*
     * the Inform's index entries and events travel with the session's next
     * exchange's relay (a periodic session relays once, at its end); its
     * results, if any, go at once
     */
    c.defer = 1;

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
    ngx_http_cwmp_store_cmd_t  c;

    if (ngx_http_cwmp_store_cmd(&c, st, owner, 6, "HSET") != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg_tagged(&c, ":session", device_id);
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

    /* nothing to store: the session may just end (session_end.lua) */

    if (o == NULL && !step->whole && step->plan.len == 0
        && !ngx_http_cwmp_store_emits(st, "session_ended"))
    {
        return ngx_http_cwmp_store_end(st, owner, step, turn, handler);
    }

    if (ngx_http_cwmp_store_script(&c, st, owner,
                                   NGX_HTTP_CWMP_SCRIPT_SESSION_STEP,
                                   &step->device_id,
                                   13 + 3 * nparams + 7
                                   + (step->wanted ? step->wanted->nelts : 0)
                                   + (step->campaigns
                                      ? 3 * step->campaigns->nelts : 0)
                                   + ((step->wanted && step->objects)
                                      ? step->objects->nelts : 0)
                                   + ngx_http_cwmp_store_fleet_nargs(st))
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

    if (step->wanted == NULL && step->rounds) {
        /* not sent: session_step.lua asks for them when it needs them */
        ngx_http_cwmp_store_arg_text(&c, "-");

    } else {
        ngx_http_cwmp_store_arg_list(&c, step->wanted);
    }

    ngx_http_cwmp_store_arg_campaigns(&c, step->campaigns);
    ngx_http_cwmp_store_arg_list(&c, step->wanted ? step->objects : NULL);
    ngx_http_cwmp_store_arg_fleet(&c);

    return ngx_http_cwmp_store_call(&c, owner, ngx_http_cwmp_store_turn,
                                    handler, turn);
}


/*
 * The CPE's empty POST with nothing to store: the session ends, unless
 * something waits for it (NGX_AGAIN: session_step.lua's turn)
 */

static ngx_int_t
ngx_http_cwmp_store_end(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_step_t *step,
    ngx_http_cwmp_store_turn_t *turn, ngx_http_cwmp_store_handler_pt handler)
{
    ngx_http_cwmp_store_cmd_t  c;

    if (ngx_http_cwmp_store_script(&c, st, owner,
                                   NGX_HTTP_CWMP_SCRIPT_SESSION_END,
                                   &step->device_id, 1)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(&c, &step->token);

    return ngx_http_cwmp_store_call(&c, owner, ngx_http_cwmp_store_ended,
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
                                   &cpe->device_id,
                                   9 + ngx_http_cwmp_store_fleet_nargs(st))
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

    ngx_http_cwmp_store_arg_fleet(&c);

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
    ngx_int_t                   rc;
    ngx_http_cwmp_store_ctx_t  *ctx;
    ngx_http_cwmp_store_cmd_t   c, a;

    /* the device's limit, nonce and credentials; the address's limit,
     * another slot: two ops at once */

    if (ngx_http_cwmp_store_script(&c, st, owner, NGX_HTTP_CWMP_SCRIPT_AUTH,
                                   &auth->device_id, 7)
        != NGX_OK
        || ngx_http_cwmp_store_script(&a, st, owner,
                                      NGX_HTTP_CWMP_SCRIPT_AUTH_ADDRESS,
                                      &auth->addr, 3)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg_text(&c, auth->fail ? "fail" : "check");
    ngx_http_cwmp_store_arg_num(&c, auth->limit_device);
    ngx_http_cwmp_store_arg_num(&c, auth->window);
    ngx_http_cwmp_store_arg(&c, &auth->nonce);
    ngx_http_cwmp_store_arg(&c, &auth->nc);
    ngx_http_cwmp_store_arg_num(&c, auth->nonce_timeout);
    ngx_http_cwmp_store_arg_num(&c, (ngx_uint_t) ngx_time());

    ngx_http_cwmp_store_arg_text(&a, auth->fail ? "fail" : "check");
    ngx_http_cwmp_store_arg_num(&a, auth->limit_addr);
    ngx_http_cwmp_store_arg_num(&a, auth->window);

    if (c.failed || a.failed) {
        return NGX_ERROR;
    }

    if (ngx_http_cwmp_redis_available(st->redis) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_cwmp_store_ctx(st, owner, handler, auth);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    auth->address_retry = 0;

    rc = ngx_http_cwmp_store_ctx_submit(ctx, &c, 1,
                                        ngx_http_cwmp_store_authed);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_cwmp_store_ctx_submit(ctx, &a, 1,
                                       ngx_http_cwmp_store_address)
        != NGX_OK)
    {
        /* the device's op answers; counted as Redis trouble */
        ctx->rc = NGX_ERROR;
    }

    return NGX_DONE;
}


ngx_str_t *
ngx_http_cwmp_store_scripts(ngx_uint_t *n, ngx_str_t *functions)
{
    *n = NGX_HTTP_CWMP_NSCRIPTS;
    *functions = ngx_http_cwmp_functions;

    return ngx_http_cwmp_scripts;
}




/*
 * The command written, sent on behalf of the owner, with a read of the
 * script's outbox (same slot) when it has one: what the script wrote there
 * is relayed before the owner hears back
 */

ngx_int_t
ngx_http_cwmp_store_call(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_redis_reply_pt reply,
    ngx_http_cwmp_store_handler_pt handler, void *out)
{
    ngx_int_t                   rc;
    ngx_uint_t                  n;
    ngx_http_cwmp_store_cmd_t   cmds[2];
    ngx_http_cwmp_store_ctx_t  *ctx;

    if (c->failed) {
        if (c->cmd.nargs == c->max) {
            ngx_log_error(NGX_LOG_ALERT, owner->log, 0,
                          "cwmp: \"%V\" has more arguments than counted",
                          &c->cmd.args[0]);
        }

        return NGX_ERROR;
    }

    if (ngx_http_cwmp_redis_available(c->st->redis) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_cwmp_store_ctx(c->st, owner, handler, out);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->reply = reply;
    ctx->defer = c->defer;
    cmds[0] = *c;
    n = 1;

    if (c->outbox.len) {
        /* "<prefix>device:{<ID>}:outbox": the relay's device */

        ctx->outbox_key = c->outbox;
        ctx->device_id.data = ngx_strlchr(c->outbox.data,
                                          c->outbox.data + c->outbox.len,
                                          '{');
        if (ctx->device_id.data == NULL) {
            return NGX_ERROR;
        }

        ctx->device_id.data++;
        ctx->device_id.len = c->outbox.data + c->outbox.len
                             - ctx->device_id.data
                             - (sizeof("}:outbox") - 1);

        if (ngx_http_cwmp_store_cmd(&cmds[1], c->st, owner, 6, "XRANGE")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_cwmp_store_arg(&cmds[1], &c->outbox);
        ngx_http_cwmp_store_arg_text(&cmds[1], "-");
        ngx_http_cwmp_store_arg_text(&cmds[1], "+");
        ngx_http_cwmp_store_arg_text(&cmds[1], "COUNT");
        ngx_http_cwmp_store_arg_text(&cmds[1], NGX_HTTP_CWMP_STORE_RELAY_MAX);
        n = 2;
    }

    rc = ngx_http_cwmp_store_ctx_submit(ctx, cmds, n,
                                        ngx_http_cwmp_store_main);

    return rc == NGX_OK ? NGX_DONE : rc;
}


/* a call's state, its cleanup in the owner's pool */

static ngx_http_cwmp_store_ctx_t *
ngx_http_cwmp_store_ctx(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_handler_pt handler,
    void *out)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_cwmp_store_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(owner->pool,
                               sizeof(ngx_http_cwmp_store_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_cwmp_store_ctx_t));

    ctx->st = st;
    ctx->cln = cln;
    ctx->pool = owner->pool;
    ctx->log = owner->log;
    ctx->data = owner->data;
    ctx->handler = handler;
    ctx->out = out;
    ctx->rc = NGX_OK;

    cln->handler = ngx_http_cwmp_store_cleanup;

    return ctx;
}


/*
 * One op of a call: the n commands, on the slot of the first one's key.
 * NGX_OK: in flight; NGX_DECLINED: Redis is unavailable; NGX_ERROR
 */

ngx_int_t
ngx_http_cwmp_store_ctx_submit(ngx_http_cwmp_store_ctx_t *ctx,
    ngx_http_cwmp_store_cmd_t *c, ngx_uint_t n,
    ngx_http_cwmp_redis_reply_pt reply)
{
    ngx_uint_t                  k;
    ngx_http_cwmp_redis_op_t   *op;

    for (k = 0; k < NGX_HTTP_CWMP_STORE_OPS && ctx->ops[k]; k++) {
        /* void */
    }

    if (k == NGX_HTTP_CWMP_STORE_OPS) {
        ngx_log_error(NGX_LOG_ALERT, ctx->log, 0,
                      "cwmp: too many Redis ops for one call");
        return NGX_ERROR;
    }

    op = ngx_http_cwmp_store_op(c, n, ctx->log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->data = ctx;
    op->reply = reply;
    op->done = ngx_http_cwmp_store_ctx_done;

    /* the op's slot was set when it was made */

    if (ngx_http_cwmp_redis_submit(ctx->st->redis, op, NULL, ctx->log)
        != NGX_OK)
    {
        /* the op is freed */
        return NGX_DECLINED;
    }

    ctx->ops[k] = op;
    ctx->nops++;

    return NGX_OK;
}


/* the script's reply to its reader, the outbox's to the relay */

static ngx_int_t
ngx_http_cwmp_store_main(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_http_cwmp_store_ctx_t  *ctx;

    ctx = op->data;

    if (i == 0) {
        return ctx->reply(op, i, reply);
    }

    return ngx_http_cwmp_store_relay_read(ctx, reply);
}


/*
 * An op of a call done: when it was the last, the relay goes on, or the
 * owner hears the script's outcome (the relay's own failures leave the
 * entries in the outbox, for the next call or the sweeper)
 */

void
ngx_http_cwmp_store_ctx_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_uint_t                  k;
    ngx_http_cwmp_store_ctx_t  *ctx;

    ctx = op->data;

    for (k = 0; k < NGX_HTTP_CWMP_STORE_OPS; k++) {
        if (ctx->ops[k] == op) {
            ctx->ops[k] = NULL;
            ctx->nops--;
            break;
        }
    }

    if (rc == NGX_ABORT) {
        /* the worker exits: the owner forgets the call */
        ctx->rc = NGX_ABORT;

    } else if (rc != NGX_OK) {
        if (ctx->relaying == 3) {
            /* a script's answer neither relayed nor parked */
            ctx->rc = rc;

        } else if (ctx->relaying) {
            ctx->relay_failed = 1;

        } else if (ctx->rc == NGX_OK) {
            ctx->rc = rc;
        }
    }

    if (ctx->nops) {
        return;
    }

    if (ctx->rc == NGX_ABORT) {
        if (ctx->cln) {
            ctx->cln->handler = NULL;
        }

        if (ctx->handler == NULL) {
            /* a background call: its pool is its own */
            ngx_destroy_pool(ctx->pool);
        }

        return;
    }

    if (ctx->rc == NGX_OK && ctx->outbox && ctx->outbox->nelts
        && ngx_http_cwmp_store_relay(ctx) == NGX_OK)
    {
        return;
    }

    if (ctx->cln) {
        ctx->cln->handler = NULL;
    }

    rc = ctx->rc;

    if (rc == NGX_OK && ctx->busy) {
        rc = ctx->again ? NGX_AGAIN : NGX_BUSY;
    }

    /* the last statement: the handler may free the pool ctx lives in */

    if (ctx->handler) {
        ctx->handler(ctx->data, rc);

    } else {
        ngx_destroy_pool(ctx->pool);
    }
}


ngx_int_t
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
        ngx_http_cwmp_redis_reset(op, "scripts were flushed");
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


/* auth_address.lua: {OK | LIMITED | FAILED, ms} */

static ngx_int_t
ngx_http_cwmp_store_address(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                  *rr;
    ngx_http_cwmp_store_ctx_t   *ctx;
    ngx_http_cwmp_store_auth_t  *auth;

    ctx = op->data;
    rr = reply;
    auth = ctx->out;

    if (rr->type != REDIS_REPLY_ARRAY || rr->elements != 2
        || rr->element[0]->type != REDIS_REPLY_INTEGER
        || rr->element[1]->type != REDIS_REPLY_INTEGER)
    {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    if (rr->element[0]->integer
        == NGX_HTTP_CWMP_AUTH_ADDRESS_LIMITED)
    {
        auth->address_retry = (rr->element[1]->integer > 0)
                              ? (ngx_msec_t) rr->element[1]->integer : 1;
    }

    return NGX_OK;
}


/* session_open.lua: OPEN, with the policies' inputs or not; BUSY; AGAIN */

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

    /*
     * {OPEN, time, until}: the device index entry, written before the
     * owner hears back; with policies, then the wanted values, tags,
     * policy state, campaigns, objects
     */

    if (rr->type == REDIS_REPLY_ARRAY && rr->elements >= 3
        && rr->element[0]->type == REDIS_REPLY_INTEGER
        && rr->element[0]->integer == NGX_HTTP_CWMP_SESSION_OPEN_OPEN
        && rr->element[1]->type == REDIS_REPLY_STRING
        && rr->element[2]->type == REDIS_REPLY_STRING)
    {
        if (ngx_http_cwmp_store_relay_answered(ctx, rr->element[1],
                                               rr->element[2])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (turn == NULL) {
            return NGX_OK;
        }

        turn->evaluate = (rr->elements == 8);

        return turn->evaluate
               ? ngx_http_cwmp_store_inputs(ctx, NULL, &rr->element[3],
                                            &turn->inputs)
               : NGX_OK;
    }

    if (rr->type != REDIS_REPLY_INTEGER) {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    ctx->busy = (rr->integer != NGX_HTTP_CWMP_SESSION_OPEN_OPEN);
    ctx->again = (rr->integer == NGX_HTTP_CWMP_SESSION_OPEN_AGAIN);

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


/* session_end.lua: ENDED (session_step.lua's {TASK, ""}), NOT_OURS or
 * CONTINUE */

static ngx_int_t
ngx_http_cwmp_store_ended(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    redisReply                  *rr;
    ngx_http_cwmp_store_ctx_t   *ctx;
    ngx_http_cwmp_store_turn_t  *turn;

    ctx = op->data;
    rr = reply;
    turn = ctx->out;

    if (rr->type != REDIS_REPLY_INTEGER) {
        (void) ngx_http_cwmp_store_check(op, i, reply);
        return NGX_ERROR;
    }

    ngx_str_null(&turn->task);
    ngx_str_null(&turn->ns);
    ngx_str_null(&turn->types);
    ngx_str_null(&turn->rpc_id);

    switch (rr->integer) {

    case NGX_HTTP_CWMP_SESSION_END_ENDED:
        turn->status = NGX_HTTP_CWMP_SESSION_STEP_TASK;
        break;

    case NGX_HTTP_CWMP_SESSION_END_NOT_OURS:
        turn->status = NGX_HTTP_CWMP_SESSION_STEP_NOT_OURS;
        break;

    default: /* NGX_HTTP_CWMP_SESSION_END_CONTINUE */
        ctx->busy = 1;
        ctx->again = 1;
    }

    return NGX_OK;
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
    ngx_http_cwmp_store_counters_t  *k;

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

        /*
         * the counters as the worker knows them now rather than when the
         * call was written: a worker that just started read them in the
         * meantime (the read went first on the same connection)
         */

        k = ctx->st->counters ? ctx->st->counters->elts : NULL;

        if (k && i / 3 < ctx->st->counters->nelts && k[i / 3].known) {
            k += i / 3;
            c->paused.data = ngx_pstrdup(pool, &k->paused);
            c->paused.len = c->paused.data ? k->paused.len : 0;
            c->in_progress = k->in_progress.len
                             ? ngx_atoi(k->in_progress.data,
                                        k->in_progress.len)
                             : 0;
        }
    }

    return NGX_OK;

bad:

    ngx_log_error(NGX_LOG_ALERT, ctx->log, 0,
                  "redis answered the policies' inputs unexpectedly");

    return NGX_ERROR;
}


/* a string of a reply, or absent (.data NULL) for a nil; "" stays "" */

ngx_int_t
ngx_http_cwmp_store_value(ngx_pool_t *pool, void *reply, ngx_str_t *s)
{
    redisReply  *rr = reply;

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


/* the owner's pool goes before Redis answered: no op may reach it */

static void
ngx_http_cwmp_store_cleanup(void *data)
{
    ngx_http_cwmp_store_ctx_t  *ctx = data;

    ngx_uint_t  k;

    for (k = 0; k < NGX_HTTP_CWMP_STORE_OPS; k++) {
        if (ctx->ops[k]) {
            ngx_http_cwmp_redis_cancel(ctx->ops[k]);
            ctx->ops[k] = NULL;
        }
    }

    ctx->nops = 0;
}

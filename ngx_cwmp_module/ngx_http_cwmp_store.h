
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Every Redis key and command lives here (redis-schema/README.md is the
 * catalogue).  Each call is one round trip on behalf of one request.
 */


#ifndef _NGX_HTTP_CWMP_STORE_H_INCLUDED_
#define _NGX_HTTP_CWMP_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_soap.h"
#include "ngx_http_cwmp_task.h"
#include "ngx_http_cwmp_redis.h"
#include "ngx_http_cwmp_auth.h"


/*
 * NGX_OK: stored; NGX_BUSY: another session of the device is in progress
 * (nothing stored); NGX_ERROR: Redis was unavailable, slow, or refused
 * the commands.  Called once, unless the request went away first.
 */
typedef void (*ngx_http_cwmp_store_handler_pt)(ngx_http_request_t *r,
    ngx_int_t rc);


typedef struct {
    ngx_str_t                    device_id;
    ngx_str_t                    token;
    ngx_str_t                    held;          /* the CPE's old token */
    ngx_str_t                    version;       /* "1.0" ... */
    ngx_http_cwmp_msg_t         *msg;
    ngx_msec_t                   session_timeout;
    ngx_array_t                 *wanted;        /* ngx_str_t; NULL: no
                                                   policies */
    ngx_array_t                 *campaigns;     /* ngx_str_t */
    ngx_array_t                 *objects;       /* ngx_str_t */
    ngx_uint_t                   tags;          /* the tags are read */
} ngx_http_cwmp_store_inform_t;


/* the device's fields the policies read, in session_step.lua's order */

typedef enum {
    NGX_HTTP_CWMP_DEV_OUI = 0,
    NGX_HTTP_CWMP_DEV_PRODUCT_CLASS,
    NGX_HTTP_CWMP_DEV_SERIAL_NUMBER,
    NGX_HTTP_CWMP_DEV_MANUFACTURER,
    NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION,
    NGX_HTTP_CWMP_DEV_HARDWARE_VERSION,
    NGX_HTTP_CWMP_DEV_DATA_MODEL,
    NGX_HTTP_CWMP_DEV_LAST_EVENTS,
    NGX_HTTP_CWMP_DEV_FIELDS
} ngx_http_cwmp_dev_field_e;


typedef struct {
    ngx_str_t                    paused;        /* why, or empty */
    ngx_int_t                    in_progress;
    ngx_str_t                    device;        /* this device's state in it:
                                                   in_progress, done, failed
                                                   or empty */
} ngx_http_cwmp_store_campaign_t;


/* what the policies are evaluated against; .data NULL: absent */

typedef struct {
    ngx_str_t                    device[NGX_HTTP_CWMP_DEV_FIELDS];
    ngx_array_t                  values;        /* ngx_str_t, per wanted */
    ngx_array_t                  tags;          /* ngx_str_t */
    ngx_array_t                  state;         /* ngx_keyval_t */
    ngx_array_t                  campaigns;     /* ..._store_campaign_t */
    ngx_array_t                  objects;       /* ngx_array_t of
                                                   ngx_keyval_t per object:
                                                   its cached <object>.<n>.
                                                   <leaf> values */
} ngx_http_cwmp_store_inputs_t;


/* where the ACS turn stands, as session_step.lua answers */

typedef struct {
    ngx_int_t                    status;        /* 1 ok, 0 not the caller's
                                                   session, -1 not an answer
                                                   to the request in flight,
                                                   2 the policies' turn */
    ngx_str_t                    task;          /* the next task, or empty */
    ngx_str_t                    ns;            /* the CPE's namespace */
    ngx_str_t                    types;         /* cached types, JSON */
    ngx_http_cwmp_store_inputs_t inputs;        /* status 2 */
} ngx_http_cwmp_store_turn_t;


typedef struct {
    ngx_str_t                    device_id;
    ngx_str_t                    token;
    ngx_str_t                    answered;      /* the CPE's cwmp:ID */
    ngx_str_t                    rpc_id;        /* for the next request */
    ngx_msec_t                   session_timeout;
    ngx_http_cwmp_outcome_t     *outcome;       /* NULL: the turn begins */

    ngx_uint_t                   rounds;        /* policy evaluations a
                                                   session may have; 0: no
                                                   policies */
    ngx_array_t                 *wanted;        /* ngx_str_t */
    ngx_array_t                 *campaigns;     /* ngx_str_t */
    ngx_array_t                 *objects;       /* ngx_str_t */
    time_t                       backoff_cap;
    ngx_str_t                    plan;          /* an evaluation's tasks,
                                                   JSON; empty: none */
    ngx_str_t                    ops;           /* and its operations */
} ngx_http_cwmp_store_step_t;


/* a CPE authenticating: auth.lua's question and answer */

typedef struct {
    ngx_str_t                    device_id;
    ngx_str_t                    addr;          /* the client's address */
    ngx_str_t                    nonce;         /* empty: Basic */
    ngx_str_t                    nc;
    ngx_uint_t                   fail;          /* count a failure */
    ngx_uint_t                   limit_device;
    ngx_uint_t                   limit_addr;
    ngx_msec_t                   window;
    ngx_msec_t                   nonce_timeout;

    ngx_str_t                    status;        /* ok, limited, replay,
                                                   failed */
    ngx_msec_t                   retry;         /* limited: until the
                                                   window ends */
    ngx_http_cwmp_auth_creds_t   creds;
} ngx_http_cwmp_store_auth_t;


/*
 * NGX_DONE: the handler will be called; NGX_DECLINED: Redis is unavailable
 * (answer at once); NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_cwmp_store_inform(ngx_http_request_t *r,
    ngx_http_cwmp_store_inform_t *inform, ngx_http_cwmp_store_turn_t *turn,
    ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_fields(ngx_http_request_t *r,
    ngx_http_cwmp_msg_t *msg, ngx_str_t *device);
ngx_int_t ngx_http_cwmp_store_plan(ngx_http_request_t *r,
    ngx_str_t *device_id, ngx_str_t *plan, ngx_str_t *ops,
    ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_step(ngx_http_request_t *r,
    ngx_http_cwmp_store_step_t *step, ngx_http_cwmp_store_turn_t *turn,
    ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_cpe_request(ngx_http_request_t *r,
    ngx_http_cwmp_store_step_t *step, ngx_str_t *method, ngx_str_t *args,
    ngx_str_t *command_key, ngx_http_cwmp_outcome_t *outcome,
    ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_auth(ngx_http_request_t *r,
    ngx_http_cwmp_store_auth_t *auth, ngx_http_cwmp_store_handler_pt handler);
ngx_str_t *ngx_http_cwmp_store_scripts(ngx_uint_t *n);

ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_take(ngx_str_t *prefix,
    ngx_pool_t *pool, ngx_str_t *consumer, ngx_uint_t count,
    ngx_msec_t claim, ngx_log_t *log);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_group(
    ngx_str_t *prefix, ngx_pool_t *pool, ngx_log_t *log);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_prepare(
    ngx_http_cwmp_redis_node_t *node, ngx_str_t *prefix, ngx_pool_t *pool,
    ngx_str_t *device_id, ngx_msec_t window, ngx_log_t *log);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_done(ngx_str_t *prefix,
    ngx_pool_t *pool, ngx_str_t *device_id, ngx_str_t *entry,
    ngx_str_t *status, ngx_str_t *result, ngx_log_t *log);
typedef void (*ngx_http_cwmp_store_entry_pt)(ngx_str_t *id,
    ngx_str_t *device);

ngx_int_t ngx_http_cwmp_store_connreq_entries(void *reply,
    ngx_http_cwmp_store_entry_pt handler);
ngx_int_t ngx_http_cwmp_store_connreq_prepared(void *reply, ngx_pool_t *pool,
    ngx_str_t *out, ngx_uint_t n);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_stun(
    ngx_http_cwmp_redis_node_t *node, ngx_str_t *prefix, ngx_pool_t *pool,
    ngx_str_t *device_id, ngx_str_t *address, ngx_uint_t change,
    ngx_uint_t trusted, ngx_str_t *signed_text, ngx_str_t *mi,
    ngx_log_t *log);
ngx_int_t ngx_http_cwmp_store_stun_recorded(void *reply);


#endif /* _NGX_HTTP_CWMP_STORE_H_INCLUDED_ */

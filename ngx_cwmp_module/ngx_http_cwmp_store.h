
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Every Redis key and command lives here (redis-schema/README.md is the
 * catalogue).  Each call is one round trip, on a store handle (the Redis
 * node, the key prefix) and on behalf of an owner (its pool and log): the
 * store knows neither the module's configuration nor HTTP.
 */


#ifndef _NGX_HTTP_CWMP_STORE_H_INCLUDED_
#define _NGX_HTTP_CWMP_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_md5.h>

#include "ngx_http_cwmp_soap.h"
#include "ngx_http_cwmp_task.h"
#include "ngx_http_cwmp_redis.h"
#include "ngx_http_cwmp_auth.h"
#include "ngx_http_cwmp_scripts.h"


/* a campaign's counters, as this worker last read them (store_relay.c) */

typedef struct {
    ngx_str_t                    name;          /* the policy's */
    ngx_str_t                    paused;        /* why, or empty */
    u_char                       paused_buf[128];
    ngx_str_t                    in_progress;
    u_char                       in_progress_buf[NGX_INT_T_LEN];
    ngx_uint_t                   known;         /* read at least once */
} ngx_http_cwmp_store_counters_t;


/* the fleet's API: what the device's scripts learn from their ARGV tail */

typedef struct {
    ngx_array_t                  index;         /* ngx_keyval_t: index
                                                   name, parameter path
                                                   (cwmp_index) */
    ngx_str_t                    events;        /* ",kind,...,"; "," none */
    time_t                       status_ttl;
    time_t                       online_interval;   /* when none cached */
    time_t                       online_margin;
    time_t                       retention;     /* streams' age; 0: by
                                                   length */
    time_t                       retire;        /* 0: never */
    ngx_flag_t                   supported_data_model;  /* read it */
    ngx_uint_t                   no_indexes;    /* cwmp_index off */
    ngx_md5_t                    digest_base;   /* the Inform digest's
                                                   start: the indexes
                                                   configured, once */
    ngx_uint_t                   digest_ready;
} ngx_http_cwmp_store_fleet_t;


typedef struct {
    ngx_http_cwmp_redis_t       *redis;         /* this worker's */
    ngx_str_t                    prefix;        /* key prefix, "cwmp:" */
    ngx_http_cwmp_store_fleet_t  fleet;
    void                        *fleet_loop;    /* store_fleet.c's */
    void                        *bulk;          /* store_bulk.c's */
    ngx_array_t                 *counters;      /* ..._counters_t, of the
                                                   campaigns the policies
                                                   run */
    void                        *relay;         /* store_relay.c's */
} ngx_http_cwmp_store_t;


/*
 * Who a call is for.  Replies are copied into the pool; when the pool
 * goes first (the client left), the call is detached and its reply only
 * frees the call's state.
 */

typedef struct {
    ngx_pool_t                  *pool;
    ngx_log_t                   *log;
    void                        *data;          /* for the handler */
} ngx_http_cwmp_store_owner_t;


/*
 * NGX_OK: stored; NGX_BUSY: another session of the device is in progress,
 * or the session is not the caller's (nothing stored); NGX_AGAIN: an
 * Inform that left out its parameters must be sent whole, a step that
 * could not end the session must go to session_step.lua (nothing stored);
 * NGX_ERROR: Redis was unavailable, slow, or refused the commands.  Called
 * once, unless the owner's pool went away first.
 */
typedef void (*ngx_http_cwmp_store_handler_pt)(void *data, ngx_int_t rc);


typedef struct {
    ngx_str_t                    device_id;
    ngx_str_t                    token;
    ngx_str_t                    held;          /* the CPE's old token */
    ngx_str_t                    version;       /* "1.0" ... */
    ngx_str_t                    remote_addr;
    ngx_http_cwmp_msg_t         *msg;
    ngx_msec_t                   session_timeout;
    time_t                       takeover;      /* a session idle this
                                                   long is abandoned */
    time_t                       transfer_timeout;
    ngx_array_t                 *wanted;        /* ngx_str_t; NULL: no
                                                   policies */
    ngx_array_t                 *campaigns;     /* ngx_str_t */
    ngx_array_t                 *objects;       /* ngx_str_t */
    ngx_uint_t                   tags;          /* the tags are read */
    ngx_uint_t                   whole;         /* nothing left out: Redis
                                                   did not have the same */
} ngx_http_cwmp_store_inform_t;


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


/* where the ACS turn stands: what session_step.lua (or the Inform) said */

typedef struct {
    ngx_http_cwmp_session_step_e  status;
    ngx_uint_t                   evaluate;      /* the Inform brought the
                                                   policies' inputs */
    ngx_str_t                    task;          /* the next task, or empty */
    ngx_str_t                    rpc_id;        /* its cwmp:ID */
    ngx_str_t                    ns;            /* the CPE's namespace */
    ngx_str_t                    types;         /* cached types, JSON */
    ngx_http_cwmp_store_inputs_t inputs;        /* EVALUATE, or evaluate */
} ngx_http_cwmp_store_turn_t;


typedef struct {
    ngx_str_t                    device_id;
    ngx_str_t                    token;
    ngx_str_t                    answered;      /* the CPE's cwmp:ID */
    ngx_str_t                    rpc_id;        /* for the next request */
    ngx_str_t                    conn;          /* the connection it came
                                                   on */
    ngx_msec_t                   session_timeout;
    time_t                       transfer_timeout;
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
    ngx_uint_t                   whole;         /* session_step.lua, not
                                                   session_end.lua */
} ngx_http_cwmp_store_step_t;


/* a CPE request of the session (session_cpe.lua) */

typedef struct {
    ngx_str_t                    device_id;
    ngx_str_t                    token;
    ngx_msec_t                   session_timeout;
    ngx_str_t                    method;
    ngx_str_t                    args;          /* JSON */
    ngx_str_t                    command_key;   /* the pending task it
                                                   finishes, or empty */
    ngx_http_cwmp_outcome_t     *outcome;       /* and how; NULL: none */
} ngx_http_cwmp_store_cpe_t;


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

    ngx_http_cwmp_auth_e         status;
    ngx_msec_t                   address_retry; /* the address is over its
                                                   limit: until then */
    ngx_msec_t                   retry;         /* LIMITED: until the
                                                   window ends */
    ngx_http_cwmp_auth_creds_t   creds;
} ngx_http_cwmp_store_auth_t;


/*
 * The worker's background work for the store (ngx_http_cwmp_store_relay.c):
 * the campaigns' counters read every second (for the policies), and, on
 * one worker per host, the outboxes left behind by a worker that died
 * while relaying them, found and relayed.
 */
ngx_int_t ngx_http_cwmp_store_init_process(ngx_http_cwmp_store_t *st,
    ngx_cycle_t *cycle, ngx_array_t *campaigns, ngx_uint_t sweep);
void ngx_http_cwmp_store_exit_process(ngx_http_cwmp_store_t *st);
ngx_uint_t ngx_http_cwmp_store_emits(ngx_http_cwmp_store_t *st, char *kind);
ngx_uint_t ngx_http_cwmp_store_indexed(ngx_http_cwmp_store_t *st,
    ngx_str_t *name);
ngx_uint_t ngx_http_cwmp_store_builtin_index(ngx_str_t *name);

ngx_int_t ngx_http_cwmp_store_available(ngx_http_cwmp_store_t *st);
ngx_uint_t ngx_http_cwmp_store_pending(ngx_http_cwmp_store_t *st);

/*
 * NGX_DONE: the handler will be called; NGX_DECLINED: Redis is unavailable
 * (answer at once); NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_cwmp_store_inform(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_inform_t *inform,
    ngx_http_cwmp_store_turn_t *turn, ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_plan(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_str_t *device_id,
    ngx_str_t *plan, ngx_str_t *ops, ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_step(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_step_t *step,
    ngx_http_cwmp_store_turn_t *turn, ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_cpe_request(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_cpe_t *cpe,
    ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_auth(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_auth_t *auth,
    ngx_http_cwmp_store_handler_pt handler);

/* the device's fields from its Inform, as the summary keeps them */
ngx_int_t ngx_http_cwmp_store_fields(ngx_pool_t *pool,
    ngx_http_cwmp_msg_t *msg, ngx_str_t *device);

ngx_str_t *ngx_http_cwmp_store_scripts(ngx_uint_t *n, ngx_str_t *functions);


/*
 * The files at the ACS (ngx_http_cwmp_store_file.c): a stored file's size
 * and type (cwmp:file:{<name>}); the backup a restore names, or a device's
 * newest (backup_pick.lua); and an upload the receiver stored, recorded
 * on the device's slot (upload_stored.lua).  NGX_DONE, NGX_DECLINED,
 * NGX_ERROR as above.
 */

typedef struct {
    ngx_str_t                    device_id;
    ngx_str_t                    command_key;   /* the task's */
    ngx_str_t                    name;          /* the file's */
    ngx_str_t                    kind;          /* "backup", "log", "" */
    ngx_str_t                    file;          /* JSON */
    ngx_uint_t                   keep;          /* backups (logs) kept */

    ngx_uint_t                   reused;        /* the task has another */
    ngx_array_t                  dropped;       /* ngx_str_t: the names no
                                                   longer kept */
} ngx_http_cwmp_store_upload_t;

ngx_int_t ngx_http_cwmp_store_file(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_task_file_t *file,
    ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_backup(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_str_t *device_id,
    ngx_http_cwmp_task_file_t *file, ngx_http_cwmp_store_handler_pt handler);
ngx_int_t ngx_http_cwmp_store_upload(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_store_upload_t *up,
    ngx_http_cwmp_store_handler_pt handler);


/*
 * Background work (connection requests, STUN): an op of one step for the
 * caller to submit with ngx_http_cwmp_store_submit(); args live in "pool".
 */

ngx_int_t ngx_http_cwmp_store_submit(ngx_http_cwmp_store_t *st,
    ngx_http_cwmp_redis_op_t *op, ngx_log_t *log);

ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_take(
    ngx_http_cwmp_store_t *st, ngx_pool_t *pool, ngx_str_t *consumer,
    ngx_uint_t count, ngx_msec_t claim, ngx_log_t *log);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_group(
    ngx_http_cwmp_store_t *st, ngx_pool_t *pool, ngx_log_t *log);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_prepare(
    ngx_http_cwmp_store_t *st, ngx_pool_t *pool, ngx_str_t *device_id,
    ngx_msec_t window, ngx_log_t *log);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_done(
    ngx_http_cwmp_store_t *st, ngx_pool_t *pool, ngx_str_t *device_id,
    ngx_str_t *entry, ngx_str_t *status, ngx_str_t *result, ngx_log_t *log);

ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_connreq_ack(
    ngx_http_cwmp_store_t *st, ngx_pool_t *pool, ngx_str_t *entry,
    ngx_log_t *log);

typedef void (*ngx_http_cwmp_store_entry_pt)(ngx_str_t *id,
    ngx_str_t *device);

ngx_int_t ngx_http_cwmp_store_connreq_entries(void *reply,
    ngx_http_cwmp_store_entry_pt handler);
ngx_int_t ngx_http_cwmp_store_connreq_prepared(void *reply, ngx_pool_t *pool,
    ngx_str_t *out, ngx_uint_t n);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_stun(ngx_http_cwmp_store_t *st,
    ngx_pool_t *pool, ngx_str_t *device_id, ngx_str_t *address,
    ngx_uint_t change, ngx_uint_t trusted, ngx_str_t *signed_text,
    ngx_str_t *mi, ngx_log_t *log);
ngx_int_t ngx_http_cwmp_store_stun_recorded(void *reply);


/*
 * The store's own: commands written argument by argument, in a script's
 * header order (ngx_http_cwmp_store.c, _store_connreq.c, _store_relay.c).
 */

#define NGX_HTTP_CWMP_STORE_OPS        16    /* a relay's: the shard, the
                                                  indexes, campaigns */
#define NGX_HTTP_CWMP_STORE_RELAY_MAX  "100"     /* outbox entries a call
                                                    reads */


/* a command being written: its arguments in order */

typedef struct {
    ngx_http_cwmp_store_t           *st;
    ngx_pool_t                      *pool;
    ngx_log_t                       *log;
    ngx_http_cwmp_redis_cmd_t        cmd;
    ngx_str_t                        route;    /* its first key: the slot */
    ngx_str_t                        outbox;   /* a script's, or empty */
    ngx_uint_t                       max;
    ngx_uint_t                       failed;   /* out of memory, or more
                                                  arguments than counted */
    ngx_uint_t                       defer;    /* the outbox's index entries
                                                  and events wait for the
                                                  device's next call */
} ngx_http_cwmp_store_cmd_t;


/* an outbox entry (results.lua), read with the script that wrote it */

typedef struct {
    ngx_str_t                        id;        /* the stream's; empty:
                                                   from the script's
                                                   answer, in no outbox */
    ngx_str_t                        kind;      /* "k" */
    ngx_str_t                       *fields;    /* the others, in pairs */
    ngx_uint_t                       nfields;
} ngx_http_cwmp_store_entry_t;


/*
 * A call in progress: the cleanup's data, in the owner's pool.  Its first
 * op runs the script (and reads the device's outbox, same slot, same round
 * trip); the relay's ops follow (store_relay.c); the owner's handler is
 * called once, when the last is done.
 */

typedef struct {
    ngx_http_cwmp_redis_op_t        *ops[NGX_HTTP_CWMP_STORE_OPS];
    ngx_uint_t                       nops;     /* in flight */
    ngx_http_cwmp_store_t           *st;
    ngx_pool_cleanup_t              *cln;
    ngx_pool_t                      *pool;
    ngx_log_t                       *log;
    void                            *data;
    ngx_http_cwmp_store_handler_pt   handler;
    ngx_http_cwmp_redis_reply_pt     reply;    /* the script's reader */
    void                            *out;      /* what the reply fills:
                                                  a turn, an auth */
    ngx_int_t                        rc;       /* the script's outcome */
    ngx_uint_t                       busy;     /* BUSY or NOT_OURS */
    ngx_uint_t                       again;    /* AGAIN */
    ngx_uint_t                       limited;  /* the address's limit: ms */
    ngx_str_t                        device_id;
    ngx_str_t                        outbox_key;
    ngx_array_t                     *outbox;   /* ..._entry_t read, or
                                                  NULL */
    ngx_uint_t                       relaying; /* the relay's ops (1),
                                                  the delete (2), or the
                                                  answer's entry parked
                                                  (3) */
    ngx_uint_t                       relay_failed;
    ngx_uint_t                       relay_refused; /* said so once */
    ngx_uint_t                       defer;    /* the command's */
} ngx_http_cwmp_store_ctx_t;


/* the relay of a call's outbox entries; NGX_OK: started, NGX_DONE: none */
ngx_int_t ngx_http_cwmp_store_relay(ngx_http_cwmp_store_ctx_t *ctx);
ngx_int_t ngx_http_cwmp_store_relay_read(ngx_http_cwmp_store_ctx_t *ctx,
    void *reply);
ngx_int_t ngx_http_cwmp_store_relay_answered(ngx_http_cwmp_store_ctx_t *ctx,
    void *time, void *until);
ngx_int_t ngx_http_cwmp_store_ctx_submit(ngx_http_cwmp_store_ctx_t *ctx,
    ngx_http_cwmp_store_cmd_t *c, ngx_uint_t n,
    ngx_http_cwmp_redis_reply_pt reply);
void ngx_http_cwmp_store_ctx_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
ngx_uint_t ngx_http_cwmp_store_shard(ngx_str_t *device_id, u_char *tag);
ngx_int_t ngx_http_cwmp_store_relay_outbox_of(ngx_http_cwmp_store_t *st,
    ngx_str_t *device_id, char *why);

/* ngx_http_cwmp_store.c: a call of one command, its replies read */

ngx_int_t ngx_http_cwmp_store_call(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_owner_t *owner, ngx_http_cwmp_redis_reply_pt reply,
    ngx_http_cwmp_store_handler_pt handler, void *out);
ngx_int_t ngx_http_cwmp_store_check(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
ngx_int_t ngx_http_cwmp_store_value(ngx_pool_t *pool, void *reply,
    ngx_str_t *s);

/* ngx_http_cwmp_store_fleet.c */

ngx_int_t ngx_http_cwmp_store_fleet_init(ngx_http_cwmp_store_t *st,
    ngx_cycle_t *cycle);
void ngx_http_cwmp_store_fleet_exit(ngx_http_cwmp_store_t *st);

/* ngx_http_cwmp_store_bulk.c */

ngx_int_t ngx_http_cwmp_store_bulk_init(ngx_http_cwmp_store_t *st,
    ngx_cycle_t *cycle);
void ngx_http_cwmp_store_bulk_exit(ngx_http_cwmp_store_t *st);

/* ngx_http_cwmp_store_cmd.c */

ngx_int_t ngx_http_cwmp_store_cmd(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_t *st, ngx_http_cwmp_store_owner_t *owner,
    ngx_uint_t max, char *name);
ngx_int_t ngx_http_cwmp_store_script(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_t *st, ngx_http_cwmp_store_owner_t *owner,
    ngx_uint_t script, ngx_str_t *tag, ngx_uint_t nargv);
void ngx_http_cwmp_store_arg(ngx_http_cwmp_store_cmd_t *c, ngx_str_t *s);
void ngx_http_cwmp_store_arg_text(ngx_http_cwmp_store_cmd_t *c, char *s);
void ngx_http_cwmp_store_arg_num(ngx_http_cwmp_store_cmd_t *c, ngx_uint_t n);
void ngx_http_cwmp_store_arg_list(ngx_http_cwmp_store_cmd_t *c,
    ngx_array_t *list);
void ngx_http_cwmp_store_arg_campaigns(ngx_http_cwmp_store_cmd_t *c,
    ngx_array_t *list);
void ngx_http_cwmp_store_arg_key(ngx_http_cwmp_store_cmd_t *c, char *name);
void ngx_http_cwmp_store_arg_tagged(ngx_http_cwmp_store_cmd_t *c, char *name,
    ngx_str_t *tag);
ngx_uint_t ngx_http_cwmp_store_fleet_nargs(ngx_http_cwmp_store_t *st);
void ngx_http_cwmp_store_arg_fleet(ngx_http_cwmp_store_cmd_t *c);
ngx_int_t ngx_http_cwmp_store_digest(ngx_http_cwmp_store_t *st,
    ngx_pool_t *pool, ngx_http_cwmp_store_inform_t *inform,
    ngx_str_t *device, ngx_str_t *digest);
ngx_http_cwmp_redis_op_t *ngx_http_cwmp_store_op(ngx_http_cwmp_store_cmd_t *c,
    ngx_uint_t n, ngx_log_t *log);


#endif /* _NGX_HTTP_CWMP_STORE_H_INCLUDED_ */

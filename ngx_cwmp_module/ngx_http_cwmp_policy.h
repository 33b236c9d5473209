
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Declarative policies ("cwmp_policy name { ... }" in http{}): compiled at
 * configuration time (ngx_http_cwmp_policy.c), evaluated against what
 * Redis holds of a device into the tasks that bring it to the declared
 * state (ngx_http_cwmp_policy_eval.c).  No I/O: a pool and a log.
 */


#ifndef _NGX_HTTP_CWMP_POLICY_H_INCLUDED_
#define _NGX_HTTP_CWMP_POLICY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_store.h"


/* evaluations in one session at most: the loop guard */
#define NGX_HTTP_CWMP_POLICY_ROUNDS  4


typedef struct ngx_http_cwmp_policy_s  ngx_http_cwmp_policy_t;


/* a compiled policy: what the configuration gives the evaluation */

typedef enum {
    NGX_HTTP_CWMP_MATCH_FIELD = 0,
    NGX_HTTP_CWMP_MATCH_PARAM,
    NGX_HTTP_CWMP_MATCH_EVENT,
    NGX_HTTP_CWMP_MATCH_TAG,
    NGX_HTTP_CWMP_MATCH_WINDOW,
    NGX_HTTP_CWMP_MATCH_PERCENT
} ngx_http_cwmp_match_e;


typedef enum {
    NGX_HTTP_CWMP_OP_EQ = 0,
    NGX_HTTP_CWMP_OP_NE,
    NGX_HTTP_CWMP_OP_RE,
    NGX_HTTP_CWMP_OP_NRE
} ngx_http_cwmp_op_e;


typedef enum {
    NGX_HTTP_CWMP_ACT_VALUE = 0,
    NGX_HTTP_CWMP_ACT_REFRESH,
    NGX_HTTP_CWMP_ACT_NOTIFICATION,
    NGX_HTTP_CWMP_ACT_TAG_ADD,
    NGX_HTTP_CWMP_ACT_TAG_REMOVE,
    NGX_HTTP_CWMP_ACT_REBOOT,
    NGX_HTTP_CWMP_ACT_FIRMWARE,
    NGX_HTTP_CWMP_ACT_INSTANCES,
    NGX_HTTP_CWMP_ACT_INSTANCE,
    NGX_HTTP_CWMP_ACT_CONNREQ,
    NGX_HTTP_CWMP_ACT_ACS_AUTH,
    NGX_HTTP_CWMP_ACT_BACKUP,
    NGX_HTTP_CWMP_ACT_XMPP
} ngx_http_cwmp_act_e;


/* a piece of a value template: text, a device field or a parameter */

typedef struct {
    ngx_str_t                    text;
    ngx_int_t                    field;         /* -1: text or parameter */
    ngx_int_t                    param;         /* -1: text or field */
    ngx_uint_t                   device_id;     /* $device_id */
} ngx_http_cwmp_part_t;


typedef struct {
    ngx_http_cwmp_match_e        what;
    ngx_http_cwmp_op_e           op;
    ngx_uint_t                   field;         /* FIELD */
    ngx_uint_t                   param;         /* PARAM */
    ngx_str_t                    value;
    ngx_regex_t                 *regex;
    ngx_uint_t                   negate;        /* !event, !tag */
    ngx_uint_t                   from, to;      /* WINDOW, minutes */
    ngx_uint_t                   percent;
} ngx_http_cwmp_match_t;


typedef struct {
    ngx_http_cwmp_act_e          type;
    ngx_str_t                    path;
    ngx_int_t                    param[2];      /* wanted indexes; [1]:
                                                   the TR-181 path of a
                                                   periodic_inform value */
    ngx_str_t                    path181;
    ngx_array_t                 *parts;         /* VALUE: the template */
    ngx_str_t                    type_name;     /* VALUE: "xsd:..." */
    time_t                       max_age;       /* REFRESH, BACKUP */
    ngx_uint_t                   level;         /* NOTIFICATION */
    ngx_str_t                    version;       /* FIRMWARE */
    ngx_str_t                    url;
    ngx_str_t                    file_type;
    ngx_uint_t                   object;        /* INSTANCE(S): index */
    ngx_uint_t                   count;         /* INSTANCES; XMPP: the
                                                   XMPP.Connection. */
    ngx_str_t                    key;           /* INSTANCE: the key's name,
                                                   parts its value */
    ngx_array_t                 *values;        /* INSTANCE: the other
                                                   ngx_http_cwmp_value_t */
} ngx_http_cwmp_action_t;


/* a value of a new instance: a name relative to it, a template */

typedef struct {
    ngx_str_t                    name;
    ngx_array_t                 *parts;
} ngx_http_cwmp_value_t;


struct ngx_http_cwmp_policy_s {
    ngx_str_t                    name;
    ngx_array_t                  matches;       /* ngx_http_cwmp_match_t */
    ngx_array_t                  actions;       /* ngx_http_cwmp_action_t */
    ngx_array_t                  params;        /* ngx_uint_t: the wanted
                                                   values it reads */
    ngx_array_t                  objects;       /* ngx_uint_t: the objects
                                                   whose instances it reads */
    ngx_int_t                    campaign;      /* index, -1: none */
    ngx_uint_t                   index;         /* among the policies */
    ngx_uint_t                   max_in_progress;
    ngx_uint_t                   stop_after;
    ngx_uint_t                   stop_of;
    ngx_str_t                    stop_ratio;
};




typedef struct {
    ngx_array_t                  policies;      /* ngx_http_cwmp_policy_t * */
    ngx_array_t                  wanted;        /* ngx_str_t: cached values
                                                   the policies read */
    ngx_array_t                  campaigns;     /* ngx_str_t: names of the
                                                   policies with rollout
                                                   limits */
    ngx_array_t                  objects;       /* ngx_str_t: objects whose
                                                   cached instances the
                                                   policies read */
    time_t                       backoff_cap;
    ngx_uint_t                   tags;          /* a policy reads tags */
    ngx_uint_t                   xmpp;          /* a policy configures
                                                   XMPP */
    ngx_str_t                    acs_jid;       /* cwmp_xmpp's, bare: the
                                                   JID devices allow */
} ngx_http_cwmp_policies_t;


char *ngx_http_cwmp_policy_block(ngx_conf_t *cf,
    ngx_http_cwmp_policies_t *policies);

/*
 * The wanted values and objects (indexes) of the policies a device's
 * Inform leaves in play: only those are read from Redis at the Inform.
 */
ngx_int_t ngx_http_cwmp_policy_candidates(ngx_pool_t *pool,
    ngx_http_cwmp_policies_t *policies, ngx_str_t *device,
    ngx_str_t *device_id, ngx_array_t *index, ngx_array_t *objects);

/*
 * The tasks the policies in force want for a device (a JSON array, "[]"
 * when none) and the operations on its tags, policy state and campaigns
 * (a JSON array of arrays), in session_step.lua's terms.
 */
ngx_int_t ngx_http_cwmp_policy_plan(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_cwmp_policies_t *policies, ngx_http_cwmp_store_inputs_t *in,
    ngx_str_t *device_id, ngx_str_t *plan, ngx_str_t *ops);

/* two strings are the same bytes */
ngx_uint_t ngx_http_cwmp_policy_same(ngx_str_t *a, ngx_str_t *b);


#endif /* _NGX_HTTP_CWMP_POLICY_H_INCLUDED_ */
